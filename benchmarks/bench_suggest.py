"""Tag model and related papers benchmark: building the features, `similar`, a day's refresh.

    python benchmarks/bench_suggest.py [--papers 100000] [--db path/to/archive.db]

On the archive `bench_archive.py` builds (generated from the seeds; `--db` names a SQLite file
it made with `--keep`, which is copied, never changed), measures:

- `paperboy tag-suggestions refresh --rebuild` as a whole command in a child process: the first
  build of the features, every tag trained, every suggestion written, then (its second step,
  committed on its own) every paper's related list (wall time, peak RSS; the lists' share apart);
- `similar` warm, in process: `SimilarIndex.nearest` alone and `similar()` with the titles read
  from the database, over 2,000 lookups of papers drawn at random (p50, p99);
- a new day of 100 papers: `paperboy ingest FILE`, whose refresh at its end analyses only that
  day's papers, as a whole command (wall time, peak RSS, papers analysed), next to a cold
  `paperboy stats` run in the same way, the command's floor (starting Python, opening the
  archive), since these machines are shared and noisy: compare within a run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_archive import _post, generate, percentiles, seed_material  # noqa: E402
from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.queries import latest_day, stats  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
from bot.suggest.refresh import refresh  # noqa: E402
from bot.suggest.similar import SimilarIndex, similar  # noqa: E402
from bot.suggest.store import FeatureStore, folder_for  # noqa: E402

CPU: dict[str, float] = {}


def child(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run ``command``; its wall time, its peak RSS in MB (measured by a wrapper process of its
    own, so earlier children do not count) and its stdout. Its CPU time (user and system, which
    the machine's load does not inflate as it does the wall time) goes in ``CPU[command]``."""
    wrapper = (
        "import resource, subprocess, sys, json;"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "sys.stderr.write(p.stderr);"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(json.dumps([p.returncode, p.stdout, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime]))"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command], env=env, check=True, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - start
    code, out, peak, cpu = json.loads(done.stdout)
    CPU[" ".join(command[3:])] = float(cpu)
    if code:
        raise SystemExit(f"{' '.join(command)} exited {code}: {done.stderr[-2000:]}")
    return elapsed, float(peak), str(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--db", type=Path, help="a SQLite archive made by bench_archive.py --keep")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="paperboy-bench-suggest-"))
    db = work / "bench.db"
    paperboy = [sys.executable, "-m", "bot"]
    env = {**os.environ, "PAPERBOY_DATABASE_URL": f"sqlite:///{db}", "PAPERBOY_DATA_DIR": str(work)}
    if args.db:
        shutil.copyfile(args.db, db)
    else:
        docs = work / "docs"
        docs.mkdir()
        generate(docs, args.papers)
        subprocess.run([*paperboy, "ingest", str(docs)], env=env, check=True, capture_output=True)
        shutil.rmtree(docs)
    url = env["PAPERBOY_DATABASE_URL"]
    folder = folder_for(url, work)
    shutil.rmtree(folder, ignore_errors=True)
    with open_archive(url) as archive:
        summary = stats(archive)
        newest = latest_day(archive)
        last = newest[0] if newest else dt.date(2030, 1, 1)
    print(f"archive: {summary.papers:,} papers, {summary.tags:,} tags, {summary.digests:,} days")
    print(f"load average before: {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} cores")

    elapsed, peak, out = child([*paperboy, "tag-suggestions", "refresh", "--rebuild", "--json"], env)
    built = json.loads(out)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6
    print(
        f"build (`paperboy tag-suggestions refresh --rebuild`, whole command): {elapsed:.1f} s,"
        f" CPU {CPU['tag-suggestions refresh --rebuild --json']:.1f} s, peak RSS {peak:.0f} MB;"
        f" {built['papers']:,} papers, {len(built['tags'])} tags trained,"
        f" {len(built['suggesting'])} suggesting, {built['written']:,} suggestions; features {size:.0f} MB"
    )
    lists = built["related_seconds"]
    print(
        f"  of which the features (first commit) {built['seconds'] - lists:.1f} s in process,"
        f" and then the related lists of {built['relisted']:,} papers {lists:.1f} s"
    )

    state = FeatureStore(folder).state()
    assert state is not None
    ids = list(state.live())
    rng = random.Random(11)
    asked = [rng.choice(ids) for _ in range(2000)]
    index = SimilarIndex(folder)
    for paper_id in asked[:50]:  # warm: files mapped, pages in the cache
        index.nearest(paper_id)
    alone, whole, found = [], [], []
    with open_archive(url) as archive:
        for paper_id in asked:
            began = time.perf_counter_ns()
            near = index.nearest(paper_id)
            alone.append(time.perf_counter_ns() - began)
            found.append(len(near or ()))
            began = time.perf_counter_ns()
            similar(archive, index, paper_id)
            whole.append(time.perf_counter_ns() - began)
    for name, samples in (("SimilarIndex.nearest", alone), ("similar() with titles", whole)):
        p50, p99 = percentiles(samples)
        print(f"similar warm, {name} (2,000 papers at random): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"  related papers found: median {statistics.median(found)}, none for {found.count(0)} of 2,000")

    material, comments = seed_material()
    day = last + dt.timedelta(days=1)
    picks = [(900_000 + k, rng.choice(material)) for k in range(100)]
    new_day = work / "new-day.txt"
    new_day.write_text(_post(day, picks, comments, rng))
    floor, _, _ = child([*paperboy, "stats"], env)
    elapsed, peak, _ = child([*paperboy, "ingest", str(new_day)], env)
    again, _, out = child([*paperboy, "tag-suggestions", "refresh", "--json"], env)
    assert json.loads(out)["unchanged"], out
    print(
        f"a new day of 100 papers, `paperboy ingest FILE` (its refresh included), whole command:"
        f" {elapsed:.2f} s (CPU {CPU['ingest ' + str(new_day)]:.2f} s), peak RSS {peak:.0f} MB;"
        f" a cold `paperboy stats` {floor:.2f} s (CPU {CPU['stats']:.2f} s);"
        f" a refresh with nothing to do {again:.2f} s (CPU {CPU['tag-suggestions refresh --json']:.2f} s)"
    )
    with open_archive(url) as archive:
        second = work / "second-day.txt"
        picks = [(950_000 + k, rng.choice(material)) for k in range(100)]
        second.write_text(_post(day + dt.timedelta(days=1), picks, comments, rng))
        archive.ingest(parse_file(second, ParseOptions(today=day)))
        report = refresh(archive, folder)
    print(
        f"  the refresh alone, in process (another day of 100): {report.seconds:.2f} s,"
        f" {report.analysed} papers analysed, {len(report.retrained)} tags retrained,"
        f" {report.written} suggestions written, rebuilt: {report.rebuilt};"
        f" {report.relisted} related lists changed in {report.related_seconds:.2f} s of it"
    )
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this process, lookups included: peak RSS {peak_self:.0f} MB)")
    print(f"load average after: {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
