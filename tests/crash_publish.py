"""A publishing process for the crash test: sends slowly through a channel that logs each
send to a file (flushed before the send returns), so the test can kill it mid fan-out."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
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

CONCURRENCY = 4


class SlowLoggingChannel(Channel):
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


async def main(url: str, log: str, day: str) -> None:
    archive = open_archive(url)
    settings = dataclasses.replace(
        Settings.from_env({}), site_dir=Settings.from_env({}).data_dir / "crash-site"
    )
    publisher = Publisher(
        archive,
        settings,
        {"telegram": SlowLoggingChannel(log)},
        worker=f"{socket.gethostname()}:{os.getpid()}",
        limits={"telegram": Limits(concurrency=CONCURRENCY)},
    )
    print("recovered", publisher.ledger.recover_dead(), flush=True)
    await publisher.publish(dt.date.fromisoformat(day), kinds=["telegram"])


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
