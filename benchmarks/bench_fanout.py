"""Fan-out benchmark: one day to 10,000 subscribers through in-process stand-in channels.

    python benchmarks/bench_fanout.py [--subscribers 10000] [--rate 500] [--db sqlite:///...]

- through a stand-in that enforces R messages in any one second and counts breaches, with
  Paperboy's limiter set to R: total time against messages / R, and the breaches (goal: within
  1.10 x messages / R, none);
- through an unlimited stand-in: the ledger's own cost per delivery (claim, send, mark sent).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.schema import subscriptions  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
from bot.config import Settings  # noqa: E402
from scheduler.limits import Limits  # noqa: E402
from scheduler.publish import Publisher  # noqa: E402
from tests.fakes import PacedChannel  # noqa: E402

DAY = dt.date(2024, 7, 11)


def fresh_archive(url: str, count: int) -> object:
    archive = open_archive(url)
    archive.ingest(parse_file(ROOT / "seeds" / "daily-2024-07-11.txt", ParseOptions()))
    long_ago = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    rows = [
        {"kind": "telegram", "target": f"-{10**9 + n}", "tags": "[]", "status": "active", "created": long_ago}
        for n in range(count)
    ]
    with archive.engine.begin() as conn:
        conn.execute(insert(subscriptions), rows)
    return archive


async def fan_out(url: str, count: int, rate: float | None) -> tuple[float, PacedChannel]:
    archive = fresh_archive(url, count)
    settings = dataclasses.replace(Settings.from_env({}), site_dir=Path(tempfile.mkdtemp()) / "site")
    channel = PacedChannel(rate or 10**9)
    limits = {"telegram": Limits(per_second=rate, concurrency=64)}
    publisher = Publisher(archive, settings, {"telegram": channel}, worker="bench", limits=limits)  # type: ignore[arg-type]
    began = time.perf_counter()
    report = await publisher.publish(DAY, kinds=["telegram"])
    elapsed = time.perf_counter() - began
    assert report.fanout and report.fanout.sent == count, report
    return elapsed, channel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--db", help="an empty database URL (default: a new SQLite file)")
    args = parser.parse_args()

    def url(name: str) -> str:
        return args.db or f"sqlite:///{tempfile.mkdtemp()}/{name}.db"

    elapsed, channel = asyncio.run(fan_out(url("paced"), args.subscribers, args.rate))
    ideal = channel.messages / args.rate
    print(
        f"rate-limited fan-out: {channel.messages:,} messages at R = {args.rate:g}/s in {elapsed:.2f} s"
        f" = {elapsed / ideal:.3f} x messages/R; {channel.violations} limit violations"
    )
    elapsed, channel = asyncio.run(fan_out(url("free"), args.subscribers, None))
    print(
        f"ledger overhead (unlimited stand-in): {elapsed / args.subscribers * 1000:.3f} ms per delivery"
        f" ({args.subscribers:,} in {elapsed:.2f} s)"
    )


if __name__ == "__main__":
    main()
