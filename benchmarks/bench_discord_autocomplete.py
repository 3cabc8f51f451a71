"""How fast the Discord bot answers tag autocomplete, on a 100,000-paper archive.

    python benchmarks/bench_discord_autocomplete.py [--requests 2000] [--db URL] [--papers 100000]

Discord asks for choices on every keystroke and drops an answer slower than 3 s; the goal is
p99 < 20 ms. The real bot (discord.py client, command tree, ``complete_tags`` on the archive in a
worker thread) answers autocomplete interactions delivered as the gateway would, and the
stand-in Discord API on 127.0.0.1 records the callback; the latency is from delivering the
payload to the stand-in accepting the answer. What is typed cycles through keystroke sequences
(``v``, ``vi``, ``vis``…, Korean, a miss, an empty box), about 50 a second. The archive lookup
alone is timed too, for comparison.

By default the archive is built first as ``bench_archive.py`` builds it (generated documents
from the seeds, ingested by ``paperboy ingest``: about a minute); ``--db`` takes an existing one
(e.g. ``sqlite:///DIR/bench.db`` after ``bench_archive.py --keep DIR``).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yarl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_archive import generate  # noqa: E402
from bot.archive import queries  # noqa: E402
from bot.archive.store import Archive, open_archive  # noqa: E402
from bot.channels.discord.bot import DiscordBot  # noqa: E402
from bot.commands import complete_tags  # noqa: E402
from bot.config import Settings  # noqa: E402
from tests.discord_standin import DiscordStandIn, deliver, discord, route_base  # noqa: E402
from tests.discord_standin_rules import InteractionResponse  # noqa: E402

GUILD, CHANNEL = 1_100_000_000_000_000_001, 1_200_000_000_000_000_001
WORDS = ["vision-language", "vq", "diffusion", "transformer", "topic-17", "topic-250", "코드북", "zzz"]
#: What a box holds keystroke by keystroke: every prefix of each word, and an empty box.
TYPED = ["", *(word[:n] for word in WORDS for n in range(1, len(word) + 1))]
GOAL_MS = 20.0
Choice = discord.app_commands.Choice[str]
#: The floor's answer: as many choices as a full answer of the bot's.
FIXED = [Choice(name=f"#topic-{n} · {300 + n}", value=f"topic-{n}") for n in range(25)]


async def measure(archive: Archive | None, requests: int, gap: float) -> list[float]:
    """Latencies of the bot's answers; with no archive, of the floor: a bare discord.py client
    whose autocomplete returns 25 fixed choices at once (discord.py and the stand-in, nothing else)."""
    async with DiscordStandIn() as api:
        api.add_guild(GUILD, "Bench")
        api.add_channel(CHANNEL, GUILD, "text", name="papers")
        gateway = discord.gateway.DiscordWebSocket
        before = gateway.DEFAULT_GATEWAY
        # The stand-in has no gateway: the bot retries it there (quietly, below), never online.
        gateway.DEFAULT_GATEWAY = yarl.URL(api.base.replace("http://", "ws://") + "/gateway")
        try:
            with route_base(api):
                if archive is None:
                    return await _floor(api, requests, gap)
                bot = DiscordBot(archive, Settings.from_env({}), api.token, api_url=api.base)
                await bot.start()
                try:
                    return await _ask(api, bot.client, requests, gap)
                finally:
                    await bot.stop()
        finally:
            gateway.DEFAULT_GATEWAY = before


async def _floor(api: DiscordStandIn, requests: int, gap: float) -> list[float]:
    async with discord.Client(intents=discord.Intents.none()) as client:
        await client.login(api.token)
        tree = discord.app_commands.CommandTree(client)

        async def complete(interaction: discord.Interaction, current: str) -> list[Choice]:
            return FIXED

        @tree.command(name="tag", description="Papers with a tag")
        @discord.app_commands.autocomplete(tag=complete)
        async def tag(interaction: discord.Interaction, tag: str) -> None: ...

        await tree.sync()
        return await _ask(api, client, requests, gap)


async def _ask(api: DiscordStandIn, client: discord.Client, requests: int, gap: float) -> list[float]:
    latencies: list[float] = []
    for n in range(requests):
        typed = TYPED[n % len(TYPED)]
        payload = api.interaction("autocomplete", CHANNEL, name="tag", options={"tag": typed}, focused="tag")
        wanted = int(payload["id"])
        asked = time.monotonic()
        deliver(client, payload)
        response = await api.wait_for(functools.partial(_answer, api, wanted))
        assert response is not None and response.type == 8 and len((response.data or {})["choices"]) <= 25
        latencies.append(response.at - asked)
        await asyncio.sleep(max(0.0, gap - (time.monotonic() - asked)))
    refused = [e for e in api.errors if e[1] != "/gateway"]  # the gateway: none there, as said
    assert not refused and not api.rejections, (refused, api.rejections)
    return latencies


def _answer(api: DiscordStandIn, interaction_id: int) -> InteractionResponse | None:
    return next((r for r in reversed(api.interaction_responses) if r.interaction_id == interaction_id), None)


def lookups(archive: Archive, requests: int) -> list[float]:
    samples = []
    for n in range(requests):
        began = time.perf_counter()
        complete_tags(archive, TYPED[n % len(TYPED)])
        samples.append(time.perf_counter() - began)
    return samples


def summary(seconds: list[float]) -> tuple[float, float, float]:
    ms = sorted(x * 1000 for x in seconds)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))], ms[-1]


def build(folder: Path, papers: int) -> str:
    docs, db = folder / "docs", folder / "bench.db"
    docs.mkdir()
    generate(docs, papers)
    env = {**os.environ, "PAPERBOY_DATABASE_URL": f"sqlite:///{db}"}
    started = time.perf_counter()
    ingest = [sys.executable, "-m", "bot", "ingest", str(docs)]
    subprocess.run(ingest, env=env, check=True, capture_output=True)
    print(f"built a {papers:,}-paper archive in {time.perf_counter() - started:.0f} s")
    return f"sqlite:///{db}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--papers", type=int, default=100_000, help="the archive to build (without --db)")
    parser.add_argument("--db", help="an existing archive instead of building one")
    args = parser.parse_args()
    for name in ("discord", "paperboy.discord"):  # the unreachable gateway's retries, expected here
        logging.getLogger(name).setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory(prefix="paperboy-bench-") as tmp:
        url = args.db or build(Path(tmp), args.papers)
        with open_archive(url) as archive:
            stats = queries.stats(archive)
            print(f"archive: {stats.papers:,} papers, {stats.tags:,} tags")
            asyncio.run(measure(archive, 50, 0.02))  # warm-up: imports, connections, caches
            through = summary(asyncio.run(measure(archive, args.requests, 0.02)))
            floor = summary(asyncio.run(measure(None, args.requests, 0.02)))
            alone = summary(lookups(archive, args.requests))
    print(
        f"autocomplete through discord.py and the stand-in: {args.requests} answers,"
        f" p50 {through[0]:.1f} ms, p99 {through[1]:.1f} ms, max {through[2]:.1f} ms"
    )
    print(
        f"floor (a bare discord.py client answering 25 fixed choices, same stand-in):"
        f" p50 {floor[0]:.1f} ms, p99 {floor[1]:.1f} ms, max {floor[2]:.1f} ms"
    )
    print(f"complete_tags alone: p50 {alone[0]:.2f} ms, p99 {alone[1]:.2f} ms, max {alone[2]:.2f} ms")
    print(f"goal p99 < {GOAL_MS:.0f} ms: {'met' if through[1] < GOAL_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
