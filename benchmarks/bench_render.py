"""Rendering benchmark: one seed day for every channel in process, and export-site at scale.

    python benchmarks/bench_render.py [--papers 100000] [--db sqlite:///path/to/archive.db]
                                      [--search-index both|off|on]

- every channel (telegram, discord, email, rss, atom, web) for each seed day, in process, after
  the templates are loaded: median of repeated runs;
- `paperboy export-site` of a generated archive (made as benchmarks/bench_archive.py makes it,
  or the one at --db) as a whole command in a child process, without and then with the search
  index (Pagefind over the paper pages): wall time and peak RSS of each, the index's size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_archive import generate  # noqa: E402

from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.channels.feeds import build_feed  # noqa: E402
from bot.channels.web.site import day_page  # noqa: E402
from bot.config import DEFAULT_TEMPLATES  # noqa: E402
from bot.render.context import digest_view  # noqa: E402
from bot.render.discord import render_discord  # noqa: E402
from bot.render.email import build_message, render_email  # noqa: E402
from bot.render.environment import Templates  # noqa: E402
from bot.render.telegram import render_telegram  # noqa: E402

SITE = "https://paperboy.example"
RUNS = 30


def every_channel(templates: Templates, day: dt.date, papers: list) -> dict[str, float]:
    """Seconds each channel takes for one digest."""
    digest = digest_view(day, papers, SITE)
    timings = {}
    steps = {
        "telegram": lambda: render_telegram(templates, digest),
        "discord": lambda: render_discord(templates, digest),
        "email": lambda: build_message(
            render_email(templates, digest),
            sender="p@x.example",
            recipient="r@x.example",
            date=dt.datetime.now(dt.UTC),
        ).as_bytes(),
        "rss": lambda: build_feed(templates, papers, "rss", site_url=SITE),
        "atom": lambda: build_feed(templates, papers, "atom", site_url=SITE),
        "web": lambda: day_page(templates, digest),
    }
    for name, step in steps.items():
        began = time.perf_counter()
        step()
        timings[name] = time.perf_counter() - began
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--db", help="an existing archive to export instead of generating one")
    parser.add_argument(
        "--search-index",
        choices=("both", "off", "on"),
        default="both",
        help="export without the search index, with it, or both in turn (default)",
    )
    args = parser.parse_args()

    templates = Templates(DEFAULT_TEMPLATES)
    for path in sorted((ROOT / "seeds").iterdir()):
        digest = parse_file(path, ParseOptions(today=dt.date(2026, 1, 1)))
        if digest.date is None:
            continue
        runs = [every_channel(templates, digest.date, list(digest.entries)) for _ in range(RUNS)]
        total = statistics.median(sum(run.values()) for run in runs) * 1000
        parts = ", ".join(
            f"{name} {statistics.median(run[name] for run in runs) * 1000:.1f}" for name in runs[0]
        )
        print(
            f"{digest.date} ({len(digest.entries)} papers), all channels: median {total:.1f} ms ({parts} ms)"
        )

    work = Path(tempfile.mkdtemp(prefix="paperboy-render-bench-"))
    url = args.db
    env = dict(os.environ)
    if url is None:
        docs = work / "docs"
        docs.mkdir()
        generate(docs, args.papers)
        url = f"sqlite:///{work}/archive.db"
        env["PAPERBOY_DATABASE_URL"] = url
        subprocess.run(
            [sys.executable, "-m", "bot", "ingest", str(docs)], env=env, check=True, capture_output=True
        )
    env["PAPERBOY_DATABASE_URL"] = url
    # Without and with the search index, in the same run (the machine is shared: compare within it).
    for switch in ("off", "on") if args.search_index == "both" else (args.search_index,):
        elapsed, peak, out = export(work / "site", {**env, "PAPERBOY_SEARCH_INDEX": switch})
        print(
            f"export-site, search index {switch}: {elapsed:.1f} s,"
            f" peak RSS of the process tree {peak / 1024:.0f} MB; {out}"
        )
        if switch == "on":
            index = work / "site" / "pagefind"
            size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
            files = sum(1 for p in index.rglob("*") if p.is_file())
            print(f"  the index: {files} files, {size / 2**20:.0f} MiB")
        shutil.rmtree(work / "site")
    shutil.rmtree(work)


def export(target: Path, env: dict[str, str]) -> tuple[float, int, str]:
    """`paperboy export-site` as a whole command: wall time, peak RSS (KB) of its process tree
    (workers and the Pagefind binary included), its report line."""
    began = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "export-site", str(target)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    while child.poll() is None:  # the whole tree: the command and its worker processes
        peak = max(peak, tree_rss_kb(child.pid))
        time.sleep(0.5)
    elapsed = time.perf_counter() - began
    out = child.stdout.read().strip() if child.stdout else ""
    if child.returncode != 0:
        raise SystemExit(f"export-site failed with status {child.returncode}")
    return elapsed, peak, out


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip())
        sizes[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(sizes.get(pid, 0) for pid in tree)


if __name__ == "__main__":
    main()
