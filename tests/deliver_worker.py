"""A delivery worker for the scale-out test: sends whatever it can claim, logging each send."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from typing import Any

from bot.archive.store import open_archive
from bot.channels.base import Channel, Pace
from bot.config import Settings
from bot.render.context import DigestView
from scheduler.limits import Limits
from scheduler.publish import Publisher


class SlowLoggingChannel(Channel):
    """Sends slowly, logging each send to a file (flushed before the send returns)."""

    kind = "telegram"

    def __init__(self, log: str) -> None:
        self.log = open(log, "a", buffering=1)  # noqa: SIM115 (lives as long as the process)

    def render(self, digest: DigestView) -> Any:
        return len(digest.papers)

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        await pace()
        await asyncio.sleep(0.05)
        self.log.write(f"{target}\n")
        self.log.flush()
        os.fsync(self.log.fileno())
        return [target]


async def main(url: str, log: str) -> None:
    archive = open_archive(url)
    publisher = Publisher(
        archive,
        Settings.from_env({}),
        {"telegram": SlowLoggingChannel(log)},
        worker=f"{socket.gethostname()}:{os.getpid()}",
        limits={"telegram": Limits(concurrency=4)},
    )
    report = await publisher.deliver()
    print("sent", report.sent, flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
