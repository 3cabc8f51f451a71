"""Discord fan-out benchmark: one seed day to 500 channels through the strict REST stand-in.

    python benchmarks/bench_discord.py [--channels 500] [--day 2024-06-18] [--scale 1] [--json]

A fresh SQLite archive in a temporary folder gets the seeds and ``--channels`` Discord channel
subscriptions; the real ``Publisher.publish(day)`` sends the day through the real
``DiscordChannel`` (discord.py's REST client, logged in once) to ``tests/discord_standin.py``,
which answers 429 to anything beyond Discord's limits: 50 requests a second for the bot (its
fixed one-second window), 5 messages per 5 s a channel (the "messages" bucket, which discord.py
also reads from the headers). The stand-in runs in a second process and sends its tally back
through a pipe at the end. The default day, 2024-06-18, is 3 Discord messages (9 papers, 9 embeds);
2024-07-11 is 2, 2024-03-15 is 1.

Measured: the publish's total time against the floor the limits allow, the larger of messages / 50
s (global) and (ceil(messages per channel / 5) - 1) x 5 s (per channel) (goal: within 1.10 x the
floor; the two login requests are left out of it, which only makes it stricter); the 429s provoked
(goal: none); duplicates, a channel that got a message twice (goal: none); the channels that got
the day exactly, in order; and the ledger (goal: one row sent per channel, nothing else).

At the real limits a run takes about messages / 50 seconds (500 channels x 3 messages: 30 s).
``--scale F`` makes every window of the stand-in and of Paperboy's limiters F times as long, their
counts unchanged (Paperboy's by patching ``scheduler.limits._per``, as ``bench_telegram.py`` does):
at 0.5 (100 requests/s) the pacing is still what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime as dt
import hashlib
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._chat_fanout import (  # noqa: E402
    ledger_state,
    peak_in_window,
    scale_limiters,
    second_process,
    seeded_archive,
    serve_until_stopped,
)
from bot.channels.discord.sender import DiscordChannel  # noqa: E402
from bot.config import DEFAULT_TEMPLATES, Settings  # noqa: E402
from bot.render.context import digest_view  # noqa: E402
from bot.render.discord import DiscordMessage  # noqa: E402
from bot.render.environment import Templates  # noqa: E402
from scheduler.publish import Publisher  # noqa: E402
from tests.discord_standin import DiscordStandIn  # noqa: E402
from tests.discord_standin_rules import Message  # noqa: E402

DAY = dt.date(2024, 6, 18)  # 3 Discord messages
GUILD = 1_100_000_000_000_000_001
#: Discord's limits, as the stand-in enforces them and the floor is computed.
GLOBAL_PER_SECOND, PER_CHANNEL, PER_CHANNEL_SECONDS = 50, 5, 5.0


def channel_ids(count: int) -> list[int]:
    return [1_200_000_000_000_000_000 + n for n in range(count)]


def digest(content: str, titles: Sequence[str]) -> str:
    return hashlib.sha1(json.dumps([content, *titles]).encode()).hexdigest()[:16]


def sent_digest(message: Message) -> str:
    return digest(message.content, [embed.get("title", "") for embed in message.embeds])


def rendered_digest(message: DiscordMessage) -> str:
    return digest(message.content.strip(), [embed.get("title", "") for embed in message.embeds])


def tally(api: DiscordStandIn, period: float) -> dict[str, Any]:
    """What the stand-in saw, reduced to what the parent needs (it crosses a pipe)."""
    per_channel: dict[int, list[Message]] = collections.defaultdict(list)
    for message in api.messages:
        per_channel[message.channel_id].append(message)
    times = sorted(message.at for message in api.messages)
    sequences = [[sent_digest(m) for m in seq] for seq in per_channel.values()]
    return {
        "accepted": len(api.messages),
        "requests": len(api.requests),
        "rejections": dict(collections.Counter(reason for _name, reason in api.rejections)),
        "errors": dict(collections.Counter(f"{status} {code}" for *_, status, code in api.errors)),
        "duplicates": sum(len(seq) - len(set(seq)) for seq in sequences),
        "sequences": dict(collections.Counter("/".join(seq) for seq in sequences)),
        "first_at": times[0] if times else 0.0,
        "last_at": times[-1] if times else 0.0,
        "peak_per_window": peak_in_window(times, period),
    }


async def _serve(channels: Sequence[int], scale: float, pipe: Connection) -> None:
    async with DiscordStandIn(scale=scale) as api:
        api.add_guild(GUILD, "Benchmark")
        for channel in channels:
            api.add_channel(channel, GUILD, "text")
        await serve_until_stopped(pipe, (api.token, api.base), lambda: tally(api, scale))


def serve(channels: Sequence[int], scale: float, pipe: Connection) -> None:
    """The stand-in in a process of its own: its address out, then its tally when told to stop."""
    asyncio.run(_serve(channels, scale, pipe))


def floor_seconds(messages: int, per_channel: int, scale: float) -> dict[str, float]:
    """The least time Discord's limits allow: each bound, and the larger of them."""
    bounds = {
        "global": messages / GLOBAL_PER_SECOND,
        "per_channel": (math.ceil(per_channel / PER_CHANNEL) - 1) * PER_CHANNEL_SECONDS,
    }
    bounds = {name: value * scale for name, value in bounds.items()}
    return bounds | {"floor": max(bounds.values())}


async def measure(folder: Path, count: int, day: dt.date, scale: float) -> dict[str, Any]:
    channels = channel_ids(count)
    archive = seeded_archive(folder, "discord", channels)
    settings = dataclasses.replace(Settings.from_env({}), site_dir=folder / "site")
    scale_limiters(scale)
    async with second_process(serve, channels, scale) as ((token, base), finish):
        channel = DiscordChannel(token, Templates(DEFAULT_TEMPLATES), base)
        publisher = Publisher(archive, settings, {"discord": channel}, worker="bench")
        papers = publisher.contents(day)
        rendered = channel.render(digest_view(day, papers, settings.base_url, None))
        try:
            began = time.perf_counter()
            report = await publisher.publish(day, kinds=["discord"])
            elapsed = time.perf_counter() - began
        finally:
            await channel.close()
        seen = await finish()
    per_channel = len(rendered.messages)
    messages = count * per_channel
    floor = floor_seconds(messages, per_channel, scale)
    expected = "/".join(rendered_digest(message) for message in rendered.messages)
    ledger = ledger_state(archive)
    archive.close()
    return {
        "day": day.isoformat(),
        "papers": len(papers),
        "messages_per_channel": per_channel,
        "embeds_per_channel": sum(len(m.embeds) for m in rendered.messages),
        "channels": count,
        "scale": scale,
        "messages": messages,
        "floor_s": floor["floor"],
        "bounds_s": {name: floor[name] for name in ("global", "per_channel")},
        "total_s": elapsed,
        "ratio": elapsed / floor["floor"] if floor["floor"] else math.inf,
        "span_at_standin_s": seen["last_at"] - seen["first_at"],
        "accepted": seen["accepted"],
        "requests": seen["requests"],
        "rejections_429": sum(seen["rejections"].values()),
        "rejections_by_reason": seen["rejections"],
        "other_errors": seen["errors"],
        "peak_per_window": seen["peak_per_window"],
        "duplicates": seen["duplicates"],
        "channels_with_the_exact_day": seen["sequences"].get(expected, 0),
        "report": dataclasses.asdict(report.fanout) if report.fanout else None,
        "ledger": ledger,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DAY, help="a seed day (2024-06-18)")
    parser.add_argument("--scale", type=float, default=1.0, help="window lengths x F (0.5: twice as fast)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    if not (ROOT / "seeds" / f"daily-{args.day}.txt").exists():
        parser.error(f"no seed for {args.day}: seeds/daily-*.txt has the days")

    with tempfile.TemporaryDirectory(prefix="bench-discord-") as folder:
        result = asyncio.run(measure(Path(folder), args.channels, args.day, args.scale))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    scaled = f" (windows x {args.scale:g})" if args.scale != 1 else ""
    bounds = ", ".join(f"{name} {value:.1f} s" for name, value in result["bounds_s"].items())
    sent = result["ledger"]["statuses"].get("sent", 0)
    reasons = f" {result['rejections_by_reason']}" if result["rejections_by_reason"] else ""
    print(
        f"day {result['day']}: {result['papers']} papers, {result['messages_per_channel']} Discord messages"
        f" ({result['embeds_per_channel']} embeds) per channel; {result['channels']:,} channels;"
        f" stand-in in a second process{scaled}\n"
        f"messages: {result['messages']:,} ({result['requests']:,} requests); floor {result['floor_s']:.2f} s"
        f" ({bounds})\n"
        f"total: {result['total_s']:.2f} s = {result['ratio']:.3f} x floor"
        f" (first to last message at the stand-in: {result['span_at_standin_s']:.2f} s)\n"
        f"429s provoked: {result['rejections_429']}{reasons}; other errors: {result['other_errors'] or 0}\n"
        f"busiest window at the stand-in: {result['peak_per_window']} messages of {GLOBAL_PER_SECOND}\n"
        f"duplicates: {result['duplicates']}; channels that got the day exactly, in order:"
        f" {result['channels_with_the_exact_day']:,}; ledger rows sent: {sent:,} of {result['channels']:,}\n"
        f"ledger: {result['ledger']}\nfan-out report: {result['report']}"
    )


if __name__ == "__main__":
    main()
