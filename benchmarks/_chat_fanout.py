"""What the Telegram and Discord fan-out benchmarks share: the seeded archive with one platform's
subscribers, the platform stand-in in a second process (its address out, its tally back when
told to stop), the busiest window it saw, Paperboy's limiters scaled with the stand-in's, and the
ledger's final state.

A stand-in process runs ``serve(*args, pipe)``, a top-level function (the "spawn" start method
pickles it), which starts the stand-in and hands over to ``serve_until_stopped``.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import json
import multiprocessing
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

import scheduler.limits
from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.schema import deliveries, subscriptions
from bot.archive.store import Archive, open_archive

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 11, 23)  # as in the tests: parsing does not depend on the clock
LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

#: Tells the stand-in's process a command ("stop": send the tally and end); returns its answer.
Tally = Callable[..., Awaitable[dict[str, Any]]]


def seeded_archive(folder: Path, kind: str, targets: Iterable[object]) -> Archive:
    """A fresh SQLite archive with the seeds and one ``kind`` subscription per target, every paper."""
    archive = open_archive(f"sqlite:///{folder}/archive.db")
    for path in sorted((ROOT / "seeds").iterdir()):
        archive.ingest(parse_file(path, ParseOptions(today=TODAY)))
    rows = [
        {"kind": kind, "target": str(target), "tags": "[]", "status": "active", "created": LONG_AGO}
        for target in targets
    ]
    with archive.engine.begin() as conn:
        conn.execute(insert(subscriptions), rows)
    return archive


def peak_in_window(times: Sequence[float], period: float) -> int:
    """The most events of the sorted ``times`` in any window of ``period`` seconds."""
    peak, first = 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= period:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


async def serve_until_stopped(pipe: Connection, hello: object, tally: Callable[[], dict[str, Any]]) -> None:
    """In the stand-in's process: send ``hello`` (its address), wait for "stop", send the tally."""
    pipe.send(hello)
    try:
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
    except EOFError:  # the benchmark failed and closed its end
        return
    pipe.send(tally())


@asynccontextmanager
async def second_process(serve: Callable[..., None], *args: object) -> AsyncIterator[tuple[Any, Tally]]:
    """Run ``serve(*args, pipe)`` in a process of its own; yield its hello and how to get its tally."""
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    process = context.Process(target=serve, args=(*args, theirs))
    process.start()
    try:
        hello = await loop.run_in_executor(None, mine.recv)

        async def remote(command: str = "stop") -> dict[str, Any]:
            mine.send(command)  # "stop" ends ``serve_until_stopped``; a serve loop may know others
            result: dict[str, Any] = await loop.run_in_executor(None, mine.recv)
            return result

        yield hello, remote
    finally:
        mine.close()
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()


def scale_limiters(scale: float) -> None:
    """Paperboy's windows ``scale`` times as long, their counts unchanged (as the stand-in's)."""
    if scale == 1:
        return
    per = scheduler.limits._per
    scheduler.limits._per = lambda limit, period: per(limit, period * scale)


def ledger_state(archive: Archive) -> dict[str, Any]:
    with archive.engine.connect() as conn:
        by_status = select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        statuses: dict[str, int] = {status: count for status, count in conn.execute(by_status)}
        by_attempts = select(deliveries.c.attempts, func.count()).group_by(deliveries.c.attempts)
        attempts: dict[int, int] = {tries: count for tries, count in conn.execute(by_attempts)}
        ids = conn.execute(select(deliveries.c.message_ids).where(deliveries.c.status == "sent")).scalars()
        parts = collections.Counter(len(json.loads(value or "[]")) for value in ids)
    return {
        "statuses": statuses,
        "attempts": attempts,
        "message_ids_per_row": dict(parts),
    }
