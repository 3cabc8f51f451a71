"""Rendering benchmark: one seed day for every channel in process, export-site at scale, and
the site following a publish or a correction.

    python benchmarks/bench_render.py [--papers 100000] [--db sqlite:///path/to/archive.db]
                                      [--search-index both|off|on]

- every channel (telegram, discord, email, rss, atom, web) for each seed day, in process, after
  the templates are loaded: median of repeated runs;
- `paperboy export-site` of a generated archive (made as benchmarks/bench_archive.py makes it,
  or a copy of the one at --db: it is never changed) as a whole command in a child process,
  without and then with the search index (Pagefind over the paper pages): wall time and peak
  RSS of each, the index's size;
- into the site exported without the index: `paperboy publish DAY --channel web` of new days
  (100 papers, as the archive's days have; 10, as a curator's), and again after a correction of
  the 100-paper day (a title and a tag), each a whole command in a child process: the site
  update's own time (from the command's log), the command's wall time and peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
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

from bench_archive import _post, generate, seed_material  # noqa: E402

from bot.archive import queries  # noqa: E402
from bot.archive.parsers import Document, ParseOptions, parse_document, parse_file  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
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
#: Rounds of (a new 100-paper day, its correction), then of a new 10-paper day.
ROUNDS = 3
#: The command's peak RSS, measured by a parent that has no other child.
MEASURED = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]);"
    " print('peak_rss_kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr);"
    " sys.exit(done.returncode)"
)


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
    try:
        sites(work, args.db, args.papers, args.search_index)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def sites(work: Path, url: str | None, papers: int, search_index: str) -> None:
    """The exports, and the site following publishes and a correction (on an archive of its own:
    a copy of a SQLite --db, or one it generates; another --db is not changed, so not updated)."""
    env = dict(os.environ)
    own = url is None or url.startswith("sqlite:///")
    if url is not None and url.startswith("sqlite:///"):
        shutil.copyfile(Path(url.removeprefix("sqlite:///")), work / "archive.db")
        features = Path(url.removeprefix("sqlite:///") + ".suggest")  # the tag model's, beside it
        if features.is_dir():  # related papers on the paper pages
            shutil.copytree(features, work / "archive.db.suggest")
        url = f"sqlite:///{work}/archive.db"
    if url is None:
        docs = work / "docs"
        docs.mkdir()
        generate(docs, papers)
        url = f"sqlite:///{work}/archive.db"
        env["PAPERBOY_DATABASE_URL"] = url
        subprocess.run(
            [sys.executable, "-m", "bot", "ingest", str(docs)], env=env, check=True, capture_output=True
        )
    env["PAPERBOY_DATABASE_URL"] = url
    # Without and with the search index, in the same run (the machine is shared: compare within it).
    for switch in ("off", "on") if search_index == "both" else (search_index,):
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
        elif own:
            site_updates(work / "site", {**env, "PAPERBOY_SEARCH_INDEX": "export"}, url, elapsed)
        else:
            print(
                "the site following the archive: not measured, the --db archive is not a SQLite file to copy"
            )
        shutil.rmtree(work / "site")


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


def site_updates(site: Path, env: dict[str, str], url: str, export_s: float) -> None:
    """New days published into the exported site, and a correction, each by the real command."""
    env = {**env, "PAPERBOY_SITE_DIR": str(site)}
    rng = random.Random(15)
    material, comments = seed_material()
    with open_archive(url) as archive:
        day = queries.days(archive)[0].date
        timings: dict[str, list[tuple[float, float, float, int]]] = {}
        for number in range(ROUNDS * 2):
            day += dt.timedelta(days=1)
            count = 100 if number < ROUNDS else 10
            picks = [(1_000_000 + number * 1000 + k, rng.choice(material)) for k in range(count)]
            text = _post(day, picks, comments, rng)
            archive.ingest(parse_document(Document(f"bench-{day}.txt", text)))
            os.sync()  # the export's or the last round's writes are on disk, as a day later
            timings.setdefault(f"a new day of {count} papers", []).append(publish(day, env))
            if count == 100:  # the curator fixes a title and adds a tag: a correction of the day
                title = re.search(r"^(.+ \(study \d+\))$", text, re.MULTILINE)
                assert title is not None
                fixed = text.replace(title.group(1), title.group(1).replace("(study", "(Study"), 1)
                fixed = re.sub(r"^(#.*)$", r"\1 #errata", fixed, count=1, flags=re.MULTILINE)
                report = archive.ingest(parse_document(Document(f"bench-{day}-fixed.txt", fixed)))
                assert report.correction is not None, "the day had gone out: a correction"
                os.sync()
                timings.setdefault("a correction of that day (a title, a tag)", []).append(publish(day, env))
    print(f"the site following the archive, {ROUNDS} rounds (goal: the update < 2 s):")
    for label, runs in timings.items():
        updates = [update for update, *_ in runs]
        print(
            f"  {label}: update median {statistics.median(updates):.2f} s, max {max(updates):.2f} s"
            f" ({max(updates) / export_s * 100:.1f} % of the export at most),"
            f" CPU median {statistics.median(cpu for _, cpu, _, _ in runs):.2f} s;"
            f" whole command median {statistics.median(wall for _, _, wall, _ in runs):.2f} s,"
            f" peak RSS {max(peak for *_, peak in runs) / 1024:.0f} MB"
        )


def publish(day: dt.date, env: dict[str, str]) -> tuple[float, float, float, int]:
    """`paperboy publish DAY --channel web --json`: the site update's seconds and CPU seconds (as
    the command reports them), the command's wall time, its peak RSS (KB)."""
    command = [sys.executable, "-m", "bot", "publish", day.isoformat(), "--channel", "web", "--json"]
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", MEASURED, *command], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    peak = re.search(r"peak_rss_kb (\d+)", done.stderr)
    update = json.loads(done.stdout)["site_update"] if done.returncode == 0 else None
    if update is None or update["exported_whole"] or peak is None:
        raise SystemExit(
            f"publish {day} did not update the site:\n{done.stdout[-1000:]}{done.stderr[-1000:]}"
        )
    return float(update["seconds"]), float(update["cpu_seconds"]), wall, int(peak.group(1))


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
