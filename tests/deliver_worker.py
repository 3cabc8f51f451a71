"""A delivery worker for the scale-out test: sends whatever it can claim, logging each send."""

from __future__ import annotations

import asyncio
import os
import socket
import sys

from bot.archive.store import open_archive
from bot.config import Settings
from scheduler.limits import Limits
from scheduler.publish import Publisher
from tests.crash_publish import SlowLoggingChannel


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
