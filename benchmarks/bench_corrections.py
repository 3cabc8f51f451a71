"""Corrections benchmark: a day already sent, corrected in every chat through the strict stand-ins.

    python benchmarks/bench_corrections.py telegram [--targets 3000] [--scale 1] [--json]
    python benchmarks/bench_corrections.py discord [--targets 500] [--scale 1] [--json]

The day (2024-08-01, written here from the seeds: 2024-06-18's nine papers and 2024-07-11's first
three) is 6 Telegram messages and 4 Discord messages. A fresh SQLite archive gets it and
``--targets`` subscriptions (Telegram: one chat in ten a group, as ``bench_telegram.py``; Discord:
text channels, as ``bench_discord.py``). The day is first published through the real channel to
the stand-in with every limit off (quickly: that is not what is measured); then the stand-in
turns Telegram's or Discord's limits on with fresh counters, as hours after a publish, the
curator's correction (a tag added to every paper, so every message of the day reads differently
and the day keeps its length) is ingested, and ``Publisher.deliver()`` opens and works the edits
ledger: every message is edited in place (Telegram's editMessageText; Discord's PATCH).

Measured: the correction's total time against the floor the limits allow (Telegram: edits / 30 s
overall, (6 - 1) x 1 s per chat, 20 a minute per group; Discord: edits / 50 s global, 5 per 5 s a
channel) (goal: within 1.10 x); the 429s provoked (goal: none); messages edited twice (goal: none),
sends and deletions (none: the day keeps its length); the targets whose messages all read as the
corrected day, in order; and the edits ledger (goal: one row done per target).

At the real limits the Telegram run edits 18,000 messages in about 600 s (after a publish of as
many sends in about half a minute); Discord 2,000 in 40 s. ``--scale F`` makes every window of
the stand-in and of Paperboy's limiters F times as long, as in the fan-out benchmarks.
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

from sqlalchemy import func, insert, select  # noqa: E402

from benchmarks import bench_discord, bench_telegram  # noqa: E402
from benchmarks._chat_fanout import LONG_AGO, peak_in_window, scale_limiters, second_process  # noqa: E402
from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.schema import edits, subscriptions  # noqa: E402
from bot.archive.store import Archive, open_archive  # noqa: E402
from bot.channels.base import Channel  # noqa: E402
from bot.channels.discord._publish import outgoing  # noqa: E402
from bot.channels.discord.sender import DiscordChannel  # noqa: E402
from bot.channels.telegram.sender import TelegramChannel, make_bot  # noqa: E402
from bot.config import DEFAULT_TEMPLATES, Settings  # noqa: E402
from bot.render.context import digest_view  # noqa: E402
from bot.render.environment import Templates  # noqa: E402
from scheduler.limits import Limits  # noqa: E402
from scheduler.publish import Publisher  # noqa: E402
from tests.discord_standin import DiscordStandIn  # noqa: E402
from tests.discord_standin_limits import ROUTE_LIMITS  # noqa: E402
from tests.platform_rules import telegram_parse  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402

DAY = dt.date(2024, 8, 1)
TAG = "icml2024"  # the correction adds it to every paper
UNLIMITED = Limits(concurrency=64)


def day_posts(folder: Path) -> tuple[Path, Path]:
    """The day's post and its correction, as files the curator would write."""

    def papers(seed: str) -> list[str]:
        blocks, block = [], []
        for line in (ROOT / "seeds" / f"daily-{seed}.txt").read_text().splitlines()[1:]:
            block.append(line)
            if line.startswith("#"):  # a paper's tags end it
                blocks.append(block)
                block = []
        return ["\n".join(b) for b in blocks]

    blocks = papers("2024-06-18") + papers("2024-07-11")[:3]
    post, corrected = folder / f"daily-{DAY}.txt", folder / f"daily-{DAY}-corrected.txt"
    post.write_text("2024년 8월 1일\n" + "\n".join(blocks) + "\n")
    corrected.write_text("2024년 8월 1일\n" + "\n".join(f"{b} #{TAG}" for b in blocks) + "\n")
    return post, corrected


def digest(parts: Sequence[Any]) -> str:
    return hashlib.sha1(json.dumps(list(parts), ensure_ascii=False).encode()).hexdigest()[:16]


def discord_look(content: str, embeds: Sequence[dict[str, Any]]) -> list[Any]:
    """What a reader sees of a Discord message: its content, each embed's texts and field values."""
    shown = [
        [e.get("title"), e.get("description"), [f.get("value") for f in e.get("fields", [])]] for e in embeds
    ]
    return [content.strip(), shown]


# -- the stand-ins, in their own process ---------------------------------------------------------


async def _serve_loop(pipe: Connection, hello: object, enforce: Any, tally: Any) -> None:
    """Send ``hello``; on "enforce" turn the limits on; on "stop" send the tally and end."""
    pipe.send(hello)
    loop = asyncio.get_running_loop()
    while True:
        try:
            command = await loop.run_in_executor(None, pipe.recv)
        except EOFError:
            return
        if command != "enforce":
            pipe.send(tally())
            return
        enforce()
        pipe.send({"enforced": True})


def telegram_tally(api: TelegramStandIn, period: float) -> dict[str, Any]:
    times = sorted(edit.at for edit in api.edits)
    per_message = collections.Counter((edit.chat_id, edit.message_id) for edit in api.edits)
    return {
        "edits": len(api.edits),
        "sends": len(api.sent),
        "deletes": len(api.deleted),
        "rejections": dict(collections.Counter(reason for _m, _c, reason in api.rejections)),
        "errors": dict(collections.Counter(f"{method} {code} {text}" for method, code, text in api.errors)),
        "edited_twice": sum(1 for count in per_message.values() if count > 1),
        "sequences": dict(
            collections.Counter(digest([m["text"] for m in api.shown_in(chat)]) for chat in api.chats)
        ),
        "first_at": times[0] if times else 0.0,
        "last_at": times[-1] if times else 0.0,
        "peak_per_window": peak_in_window(times, period),
    }


async def _serve_telegram(chats: Sequence[bench_telegram.Chat], scale: float, pipe: Connection) -> None:
    async with TelegramStandIn(scale=scale, enforce=False) as api:
        bench_telegram.open_standin(api, chats)

        def enforce() -> None:  # the publish was long ago: nothing of it counts any more
            for chat in api.chats.values():
                chat.last_send = -math.inf
                chat.recent.clear()
            api._overall.clear()
            api.enforce = True

        await _serve_loop(pipe, (api.token, api.base_url), enforce, lambda: telegram_tally(api, scale))


def serve_telegram(chats: Sequence[bench_telegram.Chat], scale: float, pipe: Connection) -> None:
    asyncio.run(_serve_telegram(chats, scale, pipe))


class TimedDiscord(DiscordStandIn):
    """The Discord stand-in, noting when it accepted each edit."""

    edited_at: list[float]

    def _edit(self, message: Any, body: Any, flags_allowed: int) -> Any:
        answer = super()._edit(message, body, flags_allowed)
        self.edited_at.append(time.monotonic())
        return answer


def discord_tally(api: TimedDiscord, period: float) -> dict[str, Any]:
    edited = [m for m in api.messages if m.edits]
    times = sorted(api.edited_at)
    by_channel: dict[int, list[Any]] = collections.defaultdict(list)
    for message in api.messages:
        if not message.deleted:
            by_channel[message.channel_id].append(discord_look(message.content, message.embeds))
    return {
        "edits": len(times),
        "sends": len(api.messages),
        "deletes": sum(m.deleted for m in api.messages),
        "requests": len(api.requests),
        "rejections": dict(collections.Counter(reason for _name, reason in api.rejections)),
        "errors": dict(collections.Counter(f"{m} {status} {code}" for m, _p, status, code in api.errors)),
        "edited_twice": sum(1 for m in edited if m.edits > 1),
        "sequences": dict(collections.Counter(digest(seq) for seq in by_channel.values())),
        "first_at": times[0] if times else 0.0,
        "last_at": times[-1] if times else 0.0,
        "peak_per_window": peak_in_window(times, period),
    }


async def _serve_discord(channels: Sequence[int], scale: float, pipe: Connection) -> None:
    off = dict.fromkeys(ROUTE_LIMITS, (0, 0.0))
    async with TimedDiscord(scale=scale, limits=off, global_limit=0) as api:
        api.edited_at = []
        api.add_guild(bench_discord.GUILD, "Benchmark")
        for channel in channels:
            api.add_channel(channel, bench_discord.GUILD, "text")

        def enforce() -> None:  # the publish was long ago: nothing of it counts any more
            api.limiter.limits = dict(ROUTE_LIMITS)
            api.limiter.global_limit = bench_discord.GLOBAL_PER_SECOND
            api.limiter.windows.clear()

        await _serve_loop(pipe, (api.token, api.base), enforce, lambda: discord_tally(api, scale))


def serve_discord(channels: Sequence[int], scale: float, pipe: Connection) -> None:
    asyncio.run(_serve_discord(channels, scale, pipe))


# -- the measurement ---------------------------------------------------------------------------


@dataclasses.dataclass
class Platform:
    """What differs between the two runs."""

    kind: str
    targets: list[Any]  # as the subscriptions name them
    serve: Any
    serve_args: tuple[Any, ...]

    def channel(self, hello: tuple[str, str]) -> Channel:
        token, base = hello
        templates = Templates(DEFAULT_TEMPLATES)
        if self.kind == "telegram":
            return TelegramChannel(make_bot(token, base), templates)
        return DiscordChannel(token, templates, base)

    def expected(self, channel: Channel, papers: Any) -> str:
        """The digest of the corrected day as a target's messages should read."""
        parts = channel.parts(channel.render(digest_view(DAY, papers, None)))
        if self.kind == "telegram":
            return digest([telegram_parse(part.text).text for part in parts])
        return digest([discord_look(outgoing(p, None).content or "", p.embeds) for p in parts])

    def floor(self, edits: int, per_target: int, scale: float) -> dict[str, float]:
        if self.kind == "telegram":
            groups = any(kind != "private" for _, kind in self.serve_args[0])
            return bench_telegram.floor_seconds(edits, per_target, groups, scale)
        return bench_discord.floor_seconds(edits, per_target, scale)


def platform(kind: str, count: int) -> Platform:
    if kind == "telegram":
        chats = bench_telegram.chat_list(count)
        return Platform(kind, [chat for chat, _ in chats], serve_telegram, (chats,))
    channels = bench_discord.channel_ids(count)
    return Platform(kind, channels, serve_discord, (channels,))


def fresh_archive(folder: Path, post: Path, kind: str, targets: Sequence[Any]) -> Archive:
    archive = open_archive(f"sqlite:///{folder}/archive.db")
    archive.ingest(parse_file(post, ParseOptions(today=DAY)))
    rows = [
        {"kind": kind, "target": str(t), "tags": "[]", "status": "active", "created": LONG_AGO}
        for t in targets
    ]
    with archive.engine.begin() as conn:
        conn.execute(insert(subscriptions), rows)
    return archive


def edits_ledger(archive: Archive) -> dict[str, Any]:
    with archive.engine.connect() as conn:
        statuses = dict(conn.execute(select(edits.c.status, func.count()).group_by(edits.c.status)).all())
        steps = dict(conn.execute(select(edits.c.edited, func.count()).group_by(edits.c.edited)).all())
    return {"statuses": statuses, "messages_changed_per_row": steps}


async def measure(folder: Path, kind: str, count: int, scale: float) -> dict[str, Any]:
    post, fix = day_posts(folder)
    chosen = platform(kind, count)
    archive = fresh_archive(folder, post, kind, chosen.targets)
    settings = dataclasses.replace(Settings.from_env({}), site_dir=folder / "site")
    scale_limiters(scale)
    async with second_process(chosen.serve, *chosen.serve_args, scale) as (hello, remote):
        channel = chosen.channel(hello)
        try:
            first = Publisher(archive, settings, {kind: channel}, worker="bench", limits={kind: UNLIMITED})
            before = channel.parts(channel.render(digest_view(DAY, first.contents(DAY), None)))
            published = await first.publish(DAY, kinds=[kind])
            assert published.fanout and published.fanout.sent == count, published.fanout
            await remote("enforce")
            report = archive.ingest(parse_file(fix, ParseOptions(today=DAY)))
            assert report.correction is not None, "the corrected post is not a correction"
            publisher = Publisher(archive, settings, {kind: channel}, worker="bench")
            after_papers = publisher.contents(DAY)
            after = channel.parts(channel.render(digest_view(DAY, after_papers, None)))
            assert len(before) == len(after) and all(a != b for a, b in zip(before, after, strict=True))
            began = time.perf_counter()
            delivered = await publisher.deliver()
            elapsed = time.perf_counter() - began
        finally:
            await channel.close()
        seen = await remote()
    per_target = len(after)
    changed = count * per_target
    floor = chosen.floor(changed, per_target, scale)
    ledger = edits_ledger(archive)
    archive.close()
    return {
        "platform": kind,
        "day": DAY.isoformat(),
        "papers": len(after_papers),
        "messages_per_target": per_target,
        "targets": count,
        "scale": scale,
        "edits_expected": changed,
        "floor_s": floor["floor"],
        "bounds_s": {name: value for name, value in floor.items() if name != "floor"},
        "total_s": elapsed,
        "ratio": elapsed / floor["floor"] if floor["floor"] else math.inf,
        "span_at_standin_s": seen["last_at"] - seen["first_at"],
        "edits": seen["edits"],
        "sends_after_publish": seen["sends"] - count * len(before),
        "deletes": seen["deletes"],
        "rejections_429": sum(seen["rejections"].values()),
        "rejections_by_reason": seen["rejections"],
        "errors": seen["errors"],
        "edited_twice": seen["edited_twice"],
        "peak_per_window": seen["peak_per_window"],
        "targets_showing_the_corrected_day": seen["sequences"].get(chosen.expected(channel, after_papers), 0),
        "editor": dataclasses.asdict(delivered.edits) if delivered.edits else None,
        "ledger": ledger,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("platform", choices=["telegram", "discord"])
    parser.add_argument("--targets", type=int, help="chats or channels (3,000 on Telegram, 500 on Discord)")
    parser.add_argument("--scale", type=float, default=1.0, help="window lengths x F (0.5: twice as fast)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    count = args.targets or (3_000 if args.platform == "telegram" else 500)
    with tempfile.TemporaryDirectory(prefix="bench-corrections-") as folder:
        result = asyncio.run(measure(Path(folder), args.platform, count, args.scale))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    scaled = f" (windows x {args.scale:g})" if args.scale != 1 else ""
    bounds = ", ".join(f"{name} {value:.1f} s" for name, value in result["bounds_s"].items())
    reasons = f" {result['rejections_by_reason']}" if result["rejections_by_reason"] else ""
    print(
        f"{result['platform']}: day {result['day']}, {result['papers']} papers,"
        f" {result['messages_per_target']} messages per target, {result['targets']:,} targets,"
        f" every message corrected{scaled}\n"
        f"edits: {result['edits']:,} of {result['edits_expected']:,};"
        f" floor {result['floor_s']:.2f} s ({bounds})\n"
        f"total: {result['total_s']:.2f} s = {result['ratio']:.3f} x floor"
        f" (first to last edit at the stand-in: {result['span_at_standin_s']:.2f} s)\n"
        f"429s provoked: {result['rejections_429']}{reasons}; errors: {result['errors'] or 0}\n"
        f"busiest window at the stand-in: {result['peak_per_window']} edits\n"
        f"edited twice: {result['edited_twice']};"
        f" messages sent by the correction: {result['sends_after_publish']};"
        f" deleted: {result['deletes']}; targets showing the corrected day, in order:"
        f" {result['targets_showing_the_corrected_day']:,} of {result['targets']:,}\n"
        f"edits ledger: {result['ledger']}\neditor: {result['editor']}"
    )


if __name__ == "__main__":
    main()
