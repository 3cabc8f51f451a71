"""Telegram fan-out benchmark: one seed day to 3,000 chats through the strict Bot API stand-in.

    python benchmarks/bench_telegram.py [--chats 3000] [--day 2024-03-15] [--scale 1] [--json]

A fresh SQLite archive in a temporary folder gets the seeds and ``--chats`` Telegram
subscriptions (one in ten a group or supergroup, the rest private chats); the real
``Publisher.publish(day)`` sends the day through the real ``TelegramChannel`` (python-telegram-bot,
``make_bot``) to ``tests/telegram_standin.py``, which answers 429 to anything beyond Telegram's
limits: 30 messages a second overall, 1 a second per chat, 20 a minute per group. The default
day, 2024-03-15, is 2 Telegram messages (2024-07-11 is 3). The stand-in runs in a second
process and sends its tally back through a pipe at the end; ``--in-process`` puts it in the
publisher's event loop instead (at the real limits both measured the same, 1.033 x floor).

Measured: the publish's total time against the floor the limits allow, the largest of
messages / 30 s (overall), (messages per chat - 1) x 1 s (per chat) and the group bound
(goal: within 1.10 x the floor); the 429s provoked (goal: none); duplicates, a chat that got a
message text twice (goal: none), and the ledger (goal: one row sent per chat, nothing else).

A run at the real limits takes about messages / 30 seconds (3,000 chats x 2 messages: 200 s;
``--chats 300``: 20 s). ``--scale F`` makes every window of the stand-in and of Paperboy's
limiters F times as long, their counts unchanged (Paperboy's by patching
``scheduler.limits._per``): 0.5 still measures the pacing (60 messages/s), but at 0.1 (300/s)
the two shared cores are the limit, not the pacing (1.85 x floor), so only its 429s and
duplicates mean anything.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._chat_fanout import (  # noqa: E402
    Tally,
    ledger_state,
    peak_in_window,
    scale_limiters,
    second_process,
    seeded_archive,
    serve_until_stopped,
)
from bot.channels.telegram.sender import TelegramChannel, make_bot  # noqa: E402
from bot.config import DEFAULT_TEMPLATES, Settings  # noqa: E402
from bot.render.context import digest_view  # noqa: E402
from bot.render.environment import Templates  # noqa: E402
from scheduler.publish import Publisher  # noqa: E402
from tests.telegram_standin import TelegramStandIn  # noqa: E402
from tests.telegram_standin_rules import Sent  # noqa: E402

#: 2 Telegram messages (3 papers); 2024-07-11 is 3 messages, 2024-06-18 is 5.
DAY = dt.date(2024, 3, 15)
#: Telegram's limits, as the stand-in enforces them and the floor is computed.
OVERALL_PER_SECOND, PER_CHAT_SECONDS, GROUP_PER_MINUTE = 30, 1.0, 20

Chat = tuple[int, str]  # (id, type)


def chat_list(count: int) -> list[Chat]:
    """Mostly private chats; every tenth a group, alternately a supergroup and a basic group."""
    chats: list[Chat] = []
    for n in range(count):
        if n % 10 != 9:
            chats.append((10**8 + n, "private"))
        elif n % 20 == 19:
            chats.append((-(10**12) - n, "supergroup"))  # -100…: Telegram's supergroup ids
        else:
            chats.append((-(4 * 10**9) - n, "group"))
    return chats


def digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def tally(api: TelegramStandIn, period: float) -> dict[str, Any]:
    """What the stand-in saw, reduced to what the parent needs (it crosses a pipe)."""
    chats: dict[int, list[Sent]] = collections.defaultdict(list)
    for sent in api.sent:
        chats[sent.chat_id].append(sent)
    times = sorted(sent.at for sent in api.sent)
    gaps = [b.at - a.at for seq in chats.values() for a, b in itertools.pairwise(seq)]
    texts = [[digest(sent.text) for sent in seq] for seq in chats.values()]
    return {
        "accepted": len(api.sent),
        "rejections": dict(collections.Counter(reason for _method, _chat, reason in api.rejections)),
        "errors": dict(collections.Counter(f"{code} {text}" for _method, code, text in api.errors)),
        "duplicates": sum(len(seq) - len(set(seq)) for seq in texts),
        "sequences": dict(collections.Counter("/".join(seq) for seq in texts)),
        "first_at": times[0] if times else 0.0,
        "last_at": times[-1] if times else 0.0,
        "peak_per_window": peak_in_window(times, period),
        "min_chat_gap": min(gaps, default=0.0),
    }


def open_standin(api: TelegramStandIn, chats: Sequence[Chat]) -> None:
    for chat, kind in chats:
        if kind == "private":
            api.add_user(chat, f"Reader {chat}")
        else:
            api.add_chat(chat, kind, title=f"Group {-chat}")


async def _serve(chats: Sequence[Chat], scale: float, pipe: Connection) -> None:
    async with TelegramStandIn(scale=scale) as api:
        open_standin(api, chats)
        await serve_until_stopped(pipe, (api.token, api.base_url), lambda: tally(api, scale))


def serve(chats: Sequence[Chat], scale: float, pipe: Connection) -> None:
    """The stand-in in a process of its own: its address out, then its tally when told to stop."""
    asyncio.run(_serve(chats, scale, pipe))


@asynccontextmanager
async def standin(
    chats: Sequence[Chat], scale: float, in_process: bool
) -> AsyncIterator[tuple[str, str, Tally]]:
    """Yield (token, base_url, tally): the stand-in here, or in a second process."""
    if in_process:
        async with TelegramStandIn(scale=scale) as api:
            open_standin(api, chats)

            async def local() -> dict[str, Any]:
                return tally(api, scale)

            yield api.token, api.base_url, local
        return
    async with second_process(serve, chats, scale) as ((token, base_url), remote):
        yield token, base_url, remote


def floor_seconds(messages: int, per_chat: int, groups: bool, scale: float) -> dict[str, float]:
    """The least time Telegram's limits allow: each bound, and the largest of them."""
    bounds = {
        "overall": messages / OVERALL_PER_SECOND,
        "per_chat": (per_chat - 1) * PER_CHAT_SECONDS,
        "group": (per_chat - 1) // GROUP_PER_MINUTE * 60.0 if groups else 0.0,
    }
    bounds = {name: value * scale for name, value in bounds.items()}
    return bounds | {"floor": max(bounds.values())}


async def run(count: int, day: dt.date, scale: float, in_process: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-telegram-") as folder:
        return await measure(Path(folder), count, day, scale, in_process)


async def measure(folder: Path, count: int, day: dt.date, scale: float, in_process: bool) -> dict[str, Any]:
    chats = chat_list(count)
    archive = seeded_archive(folder, "telegram", (chat for chat, _type in chats))
    settings = dataclasses.replace(Settings.from_env({}), site_dir=folder / "site")
    scale_limiters(scale)
    async with standin(chats, scale, in_process) as (token, base_url, finish):
        channel = TelegramChannel(make_bot(token, base_url), Templates(DEFAULT_TEMPLATES))
        publisher = Publisher(archive, settings, {"telegram": channel}, worker="bench")
        papers = publisher.contents(day)
        rendered = channel.render(digest_view(day, papers, settings.base_url, None))
        try:
            began = time.perf_counter()
            report = await publisher.publish(day, kinds=["telegram"])
            elapsed = time.perf_counter() - began
        finally:
            await channel.close()
        seen = await finish()
    per_chat = len(rendered)
    messages = count * per_chat
    floor = floor_seconds(messages, per_chat, any(kind != "private" for _, kind in chats), scale)
    expected = "/".join(digest(message.text) for message in rendered)
    fanout = report.fanout
    ledger = ledger_state(archive)
    archive.close()
    return {
        "day": day.isoformat(),
        "papers": len(papers),
        "messages_per_chat": per_chat,
        "chats": count,
        "private_chats": sum(kind == "private" for _, kind in chats),
        "groups": sum(kind != "private" for _, kind in chats),
        "scale": scale,
        "standin": "the publisher's event loop" if in_process else "a second process",
        "messages": messages,
        "floor_s": floor["floor"],
        "bounds_s": {name: floor[name] for name in ("overall", "per_chat", "group")},
        "total_s": elapsed,
        "ratio": elapsed / floor["floor"],
        "span_at_standin_s": seen["last_at"] - seen["first_at"],
        "accepted": seen["accepted"],
        "rejections_429": sum(seen["rejections"].values()),
        "rejections_by_reason": seen["rejections"],
        "other_errors": seen["errors"],
        "peak_per_window": seen["peak_per_window"],
        "min_chat_gap_s": seen["min_chat_gap"],
        "duplicates": seen["duplicates"],
        "chats_with_the_exact_day": seen["sequences"].get(expected, 0),
        "report": dataclasses.asdict(fanout) if fanout else None,
        "ledger": ledger,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=3_000)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DAY, help="a seed day (2024-03-15)")
    parser.add_argument("--scale", type=float, default=1.0, help="window lengths x F (0.1: ten times faster)")
    parser.add_argument("--in-process", action="store_true", help="the stand-in in the publisher's loop")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    if not (ROOT / "seeds" / f"daily-{args.day}.txt").exists():
        parser.error(f"no seed for {args.day}: seeds/daily-*.txt has the days")

    result = asyncio.run(run(args.chats, args.day, args.scale, args.in_process))
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    scaled = f" (windows x {args.scale:g})" if args.scale != 1 else ""
    bounds = ", ".join(f"{name} {value:.1f} s" for name, value in result["bounds_s"].items())
    sent = result["ledger"]["statuses"].get("sent", 0)
    reasons = f" {result['rejections_by_reason']}" if result["rejections_by_reason"] else ""
    print(
        f"day {result['day']}: {result['papers']} papers, {result['messages_per_chat']} Telegram messages"
        f" per chat; {result['chats']:,} chats ({result['private_chats']:,} private, {result['groups']}"
        f" groups); stand-in in {result['standin']}{scaled}\n"
        f"messages: {result['messages']:,}; floor {result['floor_s']:.2f} s ({bounds})\n"
        f"total: {result['total_s']:.2f} s = {result['ratio']:.3f} x floor"
        f" (first to last message at the stand-in: {result['span_at_standin_s']:.2f} s)\n"
        f"429s provoked: {result['rejections_429']}{reasons}; other errors: {result['other_errors'] or 0}\n"
        f"busiest window at the stand-in: {result['peak_per_window']} of {OVERALL_PER_SECOND};"
        f" closest two messages to one chat: {result['min_chat_gap_s']:.3f} s\n"
        f"duplicates: {result['duplicates']}; chats that got the day exactly, in order:"
        f" {result['chats_with_the_exact_day']:,}; ledger rows sent: {sent:,} of {result['chats']:,}\n"
        f"ledger: {result['ledger']}\nfan-out report: {result['report']}"
    )


if __name__ == "__main__":
    main()
