"""Corrections on Telegram through the real python-telegram-bot client and the strict stand-in:
the channel's primitives, called as ``scheduler/edits.py`` calls them on a real seed day, edit
exactly the messages that changed (editMessageText, never a new message for an edit), send what
a longer day needs into the same chat or topic, delete what a shorter one no longer needs, and
turn Telegram's answers into the scheduler's outcomes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.channels.base import Pace, Permanent, RetryAfter, TargetGone
from bot.channels.telegram.sender import TelegramChannel, make_bot
from bot.config import DEFAULT_TEMPLATES
from bot.render.environment import Templates
from bot.render.telegram import TelegramMessage
from scheduler import limits
from scheduler.limits import Pacer
from tests import corrected_day as day
from tests.platform_rules import telegram_parse
from tests.telegram_standin import TelegramStandIn

ADA, GROUP, FORUM = 42, -500, -1001234
TARGETS = {str(ADA): ADA, str(GROUP): GROUP, f"{FORUM}/5": FORUM}
SCALE = 0.2  # the stand-in's windows and Paperboy's, five times shorter

Scenario = Callable[[TelegramStandIn, TelegramChannel, Callable[[str], Pace]], Awaitable[Any]]


@pytest.fixture(autouse=True)
def _scaled_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Paperboy's windows SCALE times as long, their counts unchanged, as the stand-in's."""
    per = limits._per
    monkeypatch.setattr(limits, "_per", lambda limit, period: per(limit, period * SCALE))


def play(scenario: Scenario) -> TelegramStandIn:
    """Run ``scenario`` with a channel and ``pace(target)``, the scheduler's pacing for a target
    (one per target: a call holds the target's slots until the next), against a stand-in holding
    Ada's private chat, a group and a forum with topic 5."""

    async def main() -> TelegramStandIn:
        async with TelegramStandIn(scale=SCALE) as api:
            api.add_user(ADA, "Ada")
            api.add_chat(GROUP, "group", title="Readers")
            api.add_chat(FORUM, "supergroup", title="ML", is_forum=True, threads=(5,))
            channel = TelegramChannel(make_bot(api.token, api.base_url), Templates(DEFAULT_TEMPLATES))
            pacer = Pacer(limits.TELEGRAM, limits.telegram_is_group)
            paces: dict[str, Pace] = {}
            try:
                await scenario(api, channel, lambda target: paces.setdefault(target, pacer.pace(target)))
            finally:
                await channel.close()
            return api

    return asyncio.run(main())


def parts(channel: TelegramChannel, papers: Any) -> tuple[TelegramMessage, ...]:
    return channel.parts(channel.render(day.view(papers)))


def shown(api: TelegramStandIn, chat: int) -> list[str]:
    return [message["text"] for message in api.shown_in(chat)]


def plain(messages: tuple[TelegramMessage, ...]) -> list[str]:
    return [telegram_parse(message.text).text for message in messages]


def test_a_correction_edits_only_the_messages_that_changed_in_every_chat_and_topic() -> None:
    async def scenario(api: TelegramStandIn, channel: TelegramChannel, pace: Callable[[str], Pace]) -> None:
        before, after = parts(channel, day.published()), parts(channel, day.corrected())
        assert len(before) == len(after) == 3
        assert [a == b for a, b in zip(before, after, strict=True)] == [True, False, False]
        assert day.TITLE in after[1].text and "#video" in after[2].text and "4DiM." in after[2].text

        async def one(target: str, chat: int) -> None:  # as the scheduler does, many at once
            ids = await channel.send(target, before, pace(target))
            assert await day.correct(channel, target, ids, before, after, pace(target)) == ids
            assert shown(api, chat) == plain(after)
            assert [(e.message_id, e.text) for e in api.edits if e.chat_id == chat] == [
                (int(ids[1]), after[1].text),
                (int(ids[2]), after[2].text),
            ]

        await asyncio.gather(*(one(target, chat) for target, chat in TARGETS.items()))

    api = play(scenario)
    assert len(api.sent) == 9 and api.errors == [] and api.rejections == []  # no message sent for an edit
    assert all(edit.parse_mode == "HTML" and edit.link_preview_disabled for edit in api.edits)


@pytest.mark.parametrize("longer", [True, False], ids=["longer", "shorter"])
def test_a_longer_day_sends_the_rest_to_the_same_chat_and_topic_a_shorter_one_deletes(
    longer: bool,
) -> None:
    async def scenario(api: TelegramStandIn, channel: TelegramChannel, pace: Callable[[str], Pace]) -> None:
        before = parts(channel, day.published())
        after = parts(channel, day.longer() if longer else day.shorter())
        assert (len(before), len(after)) == (3, 5 if longer else 2)

        async def one(target: str, chat: int) -> None:
            ids = await channel.send(target, before, pace(target))
            now = await day.correct(channel, target, ids, before, after, pace(target))
            assert now[:2] == ids[:2] and shown(api, chat) == plain(after)
            assert [int(i) for i in now] == [m["message_id"] for m in api.shown_in(chat)]
            if chat == FORUM:
                assert {m.get("message_thread_id") for m in api.shown_in(chat)} == {5}
            if not longer:
                assert (chat, int(ids[2])) in api.deleted

        await asyncio.gather(*(one(target, chat) for target, chat in TARGETS.items()))

    api = play(scenario)
    assert api.errors == [] and api.rejections == []
    assert len(api.sent) == 9 + (6 if longer else 0) and len(api.deleted) == (0 if longer else 3)
    assert len(api.edits) == 3 * (3 if longer else 2)  # every message kept changed (the count of papers)


def test_an_edit_telegram_finds_already_made_is_done_and_a_deleted_message_is_permanent() -> None:
    edited: list[tuple[int, str]] = []

    async def scenario(api: TelegramStandIn, channel: TelegramChannel, pace: Callable[[str], Pace]) -> None:
        before, after = parts(channel, day.published()), parts(channel, day.corrected())
        ids = await channel.send(str(ADA), before, pace(str(ADA)))
        edited.append((int(ids[1]), after[1].text))
        await channel.edit_part(str(ADA), ids, 1, after[1], pace(str(ADA)))
        await channel.edit_part(str(ADA), ids, 1, after[1], pace(str(ADA)))  # a retry after a crash
        assert api.errors[-1][:2] == ("editMessageText", 400) and "is not modified" in api.errors[-1][2]
        del api.chats[ADA].messages[int(ids[2])]  # Ada deleted it for everyone
        with pytest.raises(Permanent, match="Message to edit not found"):
            await channel.edit_part(str(ADA), ids, 2, after[2], pace(str(ADA)))
        await channel.delete_part(str(ADA), ids, 2, pace(str(ADA)))  # already gone: done
        assert "message to delete not found" in api.errors[-1][2].lower()
        api.age(ADA, int(ids[1]), hours=49)
        with pytest.raises(Permanent, match="Message can't be deleted"):
            await channel.delete_part(str(ADA), ids, 1, pace(str(ADA)))

    api = play(scenario)
    assert [(e.message_id, e.text) for e in api.edits] == edited and api.deleted == []


@pytest.mark.parametrize(
    ("fault", "outcome", "said"),
    [
        ("block", TargetGone, "bot was blocked by the user"),
        ("kick", TargetGone, "bot was kicked"),
        ("delete_chat", TargetGone, "chat not found"),
    ],
)
def test_a_gone_chat_is_target_gone_for_every_primitive(
    fault: str, outcome: type[Exception], said: str
) -> None:
    async def scenario(api: TelegramStandIn, channel: TelegramChannel, pace: Callable[[str], Pace]) -> None:
        before, after = parts(channel, day.published()), parts(channel, day.longer())
        chat = ADA if fault == "block" else GROUP
        ids = await channel.send(str(chat), before, pace(str(chat)))
        getattr(api, fault)(chat)
        for call in (
            channel.edit_part(str(chat), ids, 1, after[1], pace(str(chat))),
            channel.send_part(str(chat), ids, after[3], pace(str(chat))),
            channel.delete_part(str(chat), ids, 2, pace(str(chat))),
        ):
            with pytest.raises(outcome) as raised:
                await call
            assert said in str(raised.value).lower()

    api = play(scenario)
    assert api.edits == [] and api.deleted == []


def test_a_429_on_an_edit_is_retry_after_and_the_edit_then_goes_once() -> None:
    async def scenario(api: TelegramStandIn, channel: TelegramChannel, pace: Callable[[str], Pace]) -> None:
        before, after = parts(channel, day.published()), parts(channel, day.corrected())
        ids = await channel.send(str(GROUP), before, pace(str(GROUP)))
        api.fail(GROUP, "retry_after", seconds=3)
        with pytest.raises(RetryAfter) as raised:
            await channel.edit_part(str(GROUP), ids, 1, after[1], pace(str(GROUP)))
        assert raised.value.seconds == 3.0
        await channel.edit_part(str(GROUP), ids, 1, after[1], pace(str(GROUP)))

    api = play(scenario)
    assert api.rejections == [("editMessageText", GROUP, "injected")]
    assert [e.message_id for e in api.edits] == [2]
