"""Publishing to Telegram through the real python-telegram-bot client and the stand-in Bot API:
every subscribed chat gets the day once, in order, inside Telegram's rules; 429s are waited out;
blocked, kicked and vanished chats retire their subscriptions; a migrated group is followed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.channels.base import RetryAfter
from bot.channels.telegram.sender import TelegramChannel, make_bot, split_target
from bot.config import DEFAULT_TEMPLATES
from bot.render.context import digest_view
from bot.render.environment import Templates
from scheduler.publish import Publisher
from tests.telegram_standin import TelegramStandIn
from tests.test_publish import DAY, LONG_AGO, make

ADA, BOB, GROUP, FORUM = 42, 7, -500, -1001234

Scenario = Callable[[TelegramStandIn, Publisher], Awaitable[Any]]


def play(archive: Archive, tmp_path: Path, scenario: Scenario, **options: Any) -> TelegramStandIn:
    async def main() -> TelegramStandIn:
        async with TelegramStandIn(**options) as api:
            api.add_user(ADA, "Ada")
            api.add_user(BOB, "Bob")
            api.add_chat(GROUP, "group", title="Readers", admins=(BOB,))
            api.add_chat(FORUM, "supergroup", title="ML", is_forum=True, threads=(5,))
            channel = TelegramChannel(make_bot(api.token, api.base_url), Templates(DEFAULT_TEMPLATES))
            publisher = make(archive, tmp_path, {"telegram": channel}, sleep=asyncio.sleep)
            try:
                await scenario(api, publisher)
            finally:
                await channel.close()
            return api

    return asyncio.run(main())


def test_split_target() -> None:
    assert split_target("-1001234/5") == (-1001234, 5)
    assert split_target("42") == (42, None)
    assert split_target("@digest") == ("@digest", None)


def test_a_day_reaches_every_chat_once_in_order_within_telegrams_rules(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    for target in (f"telegram:{ADA}", f"telegram:{GROUP}", f"telegram:{FORUM}/5"):
        store.add(seeded_sqlite, target, now=LONG_AGO)

    async def scenario(api: TelegramStandIn, publisher: Publisher) -> None:
        report = await publisher.publish(DAY)
        assert report.fanout and (report.fanout.sent, report.fanout.failed) == (3, 0)
        again = await publisher.publish(DAY)
        assert again.opened == 0 and again.fanout and again.fanout.sent == 0

    api = play(seeded_sqlite, tmp_path, scenario)
    assert api.rejections == [] and api.errors == []
    per_chat = {chat: api.messages_in(chat) for chat in (ADA, GROUP, FORUM)}
    counts = {len(messages) for messages in per_chat.values()}
    assert len(counts) == 1 and counts.pop() >= 2  # the day needs several messages, the same for all
    for messages in per_chat.values():
        assert messages[0].plain.startswith("📰 Paperboy · 2024-07-11")
        assert "PaliGemma" in messages[0].plain or "PaliGemma" in messages[1].plain
        assert all(m.parse_mode == "HTML" and m.link_preview_disabled for m in messages)
    assert {m.thread_id for m in per_chat[FORUM]} == {5}


def test_retry_after_is_waited_out_and_nothing_is_lost_or_doubled(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    store.add(seeded_sqlite, f"telegram:{ADA}", now=LONG_AGO)
    store.add(seeded_sqlite, f"telegram:{BOB}", now=LONG_AGO)

    async def scenario(api: TelegramStandIn, publisher: Publisher) -> None:
        api.fail(ADA, "retry_after", seconds=1, times=3)
        report = await publisher.publish(DAY)
        assert report.fanout and (report.fanout.sent, report.fanout.failed) == (2, 0)

    api = play(seeded_sqlite, tmp_path, scenario)
    assert [reason for _, chat, reason in api.rejections if chat == ADA] == ["injected"] * 3
    texts = [m.text for m in api.messages_in(ADA)]
    assert texts == [m.text for m in api.messages_in(BOB)]  # same day, once, in the same order
    assert len(texts) == len(set(texts))


def test_a_digest_interrupted_mid_way_resumes_without_resending(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    async def scenario(api: TelegramStandIn, publisher: Publisher) -> None:
        channel = publisher.channels["telegram"]
        digest = digest_view(DAY, list(publisher.contents(DAY)), publisher.fanout.base_url)
        rendered = channel.render(digest)
        assert len(rendered) >= 2

        async def pace() -> None:
            await asyncio.sleep(1.05)  # Telegram's one message a second per chat

        async def trip_after_first() -> None:
            await api.next_sent(ADA)
            api.fail(ADA, "retry_after", seconds=1, times=1)

        tripwire = asyncio.create_task(trip_after_first())
        with pytest.raises(RetryAfter) as caught:
            await channel.send(str(ADA), rendered, pace)
        await tripwire
        assert caught.value.seconds == 1.0
        ids = await channel.send(str(ADA), rendered, pace)
        assert len(ids) == len(rendered) == len(set(ids))
        assert [m.text for m in api.messages_in(ADA)] == [m.text for m in rendered]

    play(seeded_sqlite, tmp_path, scenario)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("block", "bot was blocked by the user"),
        ("kick", "bot was kicked from the group chat"),
        ("delete_chat", "chat not found"),
    ],
)
def test_a_gone_chat_retires_its_subscription_and_the_others_still_get_the_day(
    seeded_sqlite: Archive, tmp_path: Path, fault: str, error: str
) -> None:
    store.add(seeded_sqlite, f"telegram:{GROUP}", now=LONG_AGO)
    store.add(seeded_sqlite, f"telegram:{ADA}", now=LONG_AGO)

    async def scenario(api: TelegramStandIn, publisher: Publisher) -> None:
        getattr(api, fault)(GROUP)
        report = await publisher.publish(DAY)
        assert report.fanout and (report.fanout.sent, report.fanout.gone) == (1, 1)

    api = play(seeded_sqlite, tmp_path, scenario)
    gone = store.get(seeded_sqlite, f"telegram:{GROUP}")
    assert gone.status == "gone" and gone.last_error and error in gone.last_error.lower()
    assert api.messages_in(GROUP) == [] and api.messages_in(ADA)


def test_a_group_upgraded_to_a_supergroup_is_followed_and_gets_the_day_there(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    store.add(seeded_sqlite, f"telegram:{GROUP}", now=LONG_AGO)
    new_id = -1005550001

    async def scenario(api: TelegramStandIn, publisher: Publisher) -> None:
        api.migrate(GROUP, new_id)
        report = await publisher.publish(DAY)
        assert report.fanout and report.fanout.sent == 1

    api = play(seeded_sqlite, tmp_path, scenario)
    moved = store.get(seeded_sqlite, f"telegram:{new_id}")
    assert moved.status == "active"
    assert api.messages_in(new_id) and api.messages_in(GROUP) == []
    assert [s.address for s in store.all_subscriptions(seeded_sqlite)] == [f"telegram:{new_id}"]


def test_the_published_day_is_marked_with_telegrams_message_ids(
    seeded_sqlite: Archive, tmp_path: Path
) -> None:
    store.add(seeded_sqlite, f"telegram:{ADA}", now=LONG_AGO)
    marked: list[list[str]] = []

    async def scenario(api: TelegramStandIn, publisher: Publisher) -> None:
        await publisher.publish(DAY)
        marked.extend(list(row.message_ids) for row in publisher.ledger.listing(day=DAY))

    api = play(seeded_sqlite, tmp_path, scenario)
    assert marked == [[str(m.message_id) for m in api.messages_in(ADA)]]
