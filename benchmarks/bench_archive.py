"""Archive benchmark: ingest rate, lookup latency, search latency, peak memory, cold start.

    python benchmarks/bench_archive.py [--papers 100000] [--keep DIR]

Builds an archive of generated documents made from the seeds (titles and tags varied, the
seeds' real abstracts and Korean commentary reused; four daily posts to one Hugging Face
listing), then measures:

- ingest: `paperboy ingest DIR` in a child process on a fresh SQLite file (papers/s, peak RSS);
- `tag` and `search` lookups in process (p50/p99 over many calls);
- `paperboy tag vq` as a whole command from a cold start (median of repeated runs), next to a
  bare `python -c pass` measured in the same run, since these machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
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

from bot.archive import queries  # noqa: E402
from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.search import search  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
from bot.errors import QueryError  # noqa: E402

PER_FILE = 100
TAGS = ["vq", "diffusion", "llm", "vision-language", "transformer", "pretraining", "dataset"]
SEARCHES = [
    "코드북",
    "모델",
    "학습",
    "diffusion",
    "vector quantization",
    "Kaiming He",
    "codebook 99%",
    "Nemotron 데이터",
    "autoregressive image",
    "benchmark contamination",
]


def seed_material() -> tuple[list[tuple[str, str, str, list[str]]], list[str]]:
    """(title, authors line, abstract, tags) from the daily posts and listing; the commentaries."""
    papers, comments = [], []
    for path in sorted((ROOT / "seeds").iterdir()):
        digest = parse_file(path, ParseOptions(today=dt.date(2026, 1, 1)))
        for p in digest.entries:
            authors = ", ".join(p.authors) or ", ".join(f"Author {i}" for i in range(p.author_count or 3))
            papers.append((p.title, authors, p.abstract.replace("\n", " "), list(p.tags)))
            if p.commentary:
                comments.append(p.commentary)
    return papers, comments


def generate(folder: Path, total: int) -> None:
    rng = random.Random(7)
    material, comments = seed_material()
    day = dt.date(2000, 1, 1)
    made = 0
    for number in range(-(-total // PER_FILE)):
        count = min(PER_FILE, total - made)
        picks = [(made + k, rng.choice(material)) for k in range(count)]
        text = _listing(day, picks, rng) if number % 5 == 4 else _post(day, picks, comments, rng)
        (folder / f"doc-{number:05d}.txt").write_text(text)
        made += count
        day += dt.timedelta(days=1)


def _post(day: dt.date, picks: list, comments: list[str], rng: random.Random) -> str:
    lines = [f"{day.year}년 {day.month}월 {day.day}일"]
    for n, (title, authors, abstract, tags) in picks:
        extra = [*rng.sample(TAGS, k=rng.randint(0, 2)), f"topic-{rng.randrange(300)}"]
        lines += [
            f"{title} (study {n})",
            f"({authors})",
            abstract,
            rng.choice(comments),
            " ".join(f"#{t}" for t in dict.fromkeys(tags + extra)),
        ]
    return "\n".join(lines) + "\n"


def _listing(day: dt.date, picks: list, rng: random.Random) -> str:
    lines = ["Daily Papers", "", f"{day:%b} {day.day}, {day.year}", ""]
    for n, (title, _authors, abstract, _tags) in picks:
        lines += [
            f"{title} (listing {n})",
            "",
            abstract,
            "",
            f"  • {rng.randint(1, 40)} authors",
            "·",
            f"{day:%b} {day.day}, {day.year} {rng.randint(1, 90)}",
            "",
        ]
    return "\n".join(lines)


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1e6
    return p50, p99


def median_wall(command: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="paperboy-bench-"))
    docs, db = work / "docs", work / "bench.db"
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    generate(docs, args.papers)
    size = sum(p.stat().st_size for p in docs.iterdir()) / 1e6
    print(f"generated {args.papers:,} papers in {len(list(docs.iterdir()))} documents ({size:.0f} MB)")

    env = {**os.environ, "PAPERBOY_DATABASE_URL": f"sqlite:///{db}"}
    paperboy = [sys.executable, "-m", "bot"]
    start = time.perf_counter()
    subprocess.run([*paperboy, "ingest", str(docs)], env=env, check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"ingest: {args.papers / elapsed:,.0f} papers/s ({elapsed:.1f} s), peak RSS {peak_mb:.0f} MB")

    with open_archive(f"sqlite:///{db}") as archive:
        stats = queries.stats(archive)
        print(f"archive: {stats.papers:,} papers, {stats.tags:,} tags, {stats.digests:,} days")
        tags = [*TAGS, "topic-17", "topic-250", "text2img", "nonexistent-tag"]
        samples = []
        for i in range(3000):
            tag, page = tags[i % len(tags)], 1 + (i % 3)
            began = time.perf_counter_ns()
            with contextlib.suppress(QueryError):  # a tag with fewer pages: still a lookup that answered
                queries.papers_by_tag(archive, tag, page)
            samples.append(time.perf_counter_ns() - began)
        p50, p99 = percentiles(samples)
        vq = queries.papers_by_tag(archive, "vq").total
        print(
            f"tag lookup (#vq has {vq:,} papers; 3,000 calls over {len(tags)} tags, pages 1-3): "
            f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
        )

        samples, fallback = [], []
        for i in range(600):
            query = SEARCHES[i % len(SEARCHES)]
            began = time.perf_counter_ns()
            search(archive, query)
            samples.append(time.perf_counter_ns() - began)
        for _ in range(10):
            began = time.perf_counter_ns()
            search(archive, "드북")  # mid-word: the index misses, the substring scan answers
            fallback.append(time.perf_counter_ns() - began)
        p50, p99 = percentiles(samples)
        print(f"search (600 calls over {len(SEARCHES)} queries): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
        p50, p99 = percentiles(fallback)
        print(
            f"search falling back to a substring scan (mid-word '드북'): p50 {p50:.0f} ms, p99 {p99:.0f} ms"
        )

    installed = shutil.which("paperboy", path=str(Path(sys.executable).parent))
    command = [installed] if installed else paperboy
    cold = median_wall([*command, "tag", "vq"], env, 21)
    bare = median_wall([sys.executable, "-c", "pass"], env, 21)
    print(f"`paperboy tag vq` cold start: median {cold:.3f} s (bare `python -c pass`: {bare:.3f} s)")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
