"""How fast the Telegram bot answers ``/tag vq``, measured through the stand-in Bot API.

    python benchmarks/bench_telegram_replies.py [--requests 300] [--db sqlite:///archive.db]

The real bot (python-telegram-bot Application, long polling) runs against the stand-in on
127.0.0.1 with Telegram's limits on; distinct users each send ``/tag vq`` (so no one chat's
1 message/s limit is what is measured) at about 20 a second, under the 30/s overall limit. The
latency is from the update being queued at the stand-in to the reply being accepted by it:
the bot's long poll, the archive lookup, rendering, and sendMessage. Goal: p99 < 50 ms. With
``--db`` the archive is an existing one (e.g. the 100,000-paper archive of bench_archive.py);
by default, the seeds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.store import Archive, open_archive  # noqa: E402
from bot.channels.telegram.bot import TelegramBot  # noqa: E402
from bot.config import Settings  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402


async def measure(archive: Archive, requests: int, gap: float) -> list[float]:
    async with TelegramStandIn() as api:
        bot = TelegramBot(archive, Settings.from_env({}), api.token, api_url=api.base_url)
        await bot.start()
        latencies: list[float] = []
        try:
            for user in range(1, requests + 1):
                api.add_user(user, f"User {user}")
                loop = asyncio.get_running_loop()
                asked = loop.time()
                api.user_says(user, user, "/tag vq")
                reply = await api.next_sent(user, timeout=10)
                latencies.append(reply.at - asked)
                await asyncio.sleep(max(0.0, gap - (loop.time() - asked)))
        finally:
            await bot.stop()
        assert not api.rejections, api.rejections
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--db", help="an existing archive (default: the seeds in a temporary SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = open_archive(args.db or f"sqlite:///{tmp}/bench.db")
        if not args.db:
            for path in sorted((ROOT / "seeds").glob("*.txt")):
                archive.ingest(parse_file(path, ParseOptions()))
        asyncio.run(measure(archive, 20, 0.05))  # warm-up: imports, caches, the first long poll
        latencies = sorted(asyncio.run(measure(archive, args.requests, 0.05)))
        archive.close()
    ms = [x * 1000 for x in latencies]
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(
        f"/tag vq through the stand-in: {len(ms)} replies,"
        f" p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms"
    )
    print(f"goal p99 < 50 ms: {'met' if p99 < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
