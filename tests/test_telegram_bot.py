"""The Telegram bot end to end: the real python-telegram-bot Application, long polling the
stand-in Bot API, answering people the way the issue asks (commands, pages, admins, topics,
inline mode, hostile input) with every reply inside Telegram's rules."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.channels.telegram import handlers
from bot.channels.telegram.bot import TelegramBot
from bot.config import Settings
from bot.models import Subscription
from tests.telegram_standin import TelegramStandIn

ADA, BOB, GROUP, FORUM, CHANNEL = 42, 7, -500, -1001234, -1009876
VQ_TITLES = [
    "MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis",
    "Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%",
]
Scenario = Callable[[TelegramStandIn, TelegramBot], Awaitable[Any]]


def play(
    archive: Archive, scenario: Scenario, **bot_options: Any
) -> tuple[TelegramStandIn, list[Subscription]]:
    welcomed: list[Subscription] = []

    async def on_subscribe(sub: Subscription) -> None:
        welcomed.append(sub)

    async def main() -> TelegramStandIn:
        async with TelegramStandIn() as api:
            api.add_user(ADA, "Ada", "ada", language_code="ko")
            api.add_user(BOB, "Bob")
            api.add_chat(GROUP, "group", title="Readers", admins=(BOB,), members=(ADA,))
            api.add_chat(FORUM, "supergroup", title="ML", is_forum=True, threads=(5,), admins=(BOB,))
            api.add_chat(CHANNEL, "channel", title="Digest", username="digest", admins=(BOB,))
            bot = TelegramBot(
                archive,
                Settings.from_env({}),
                api.token,
                api_url=api.base_url,
                on_subscribe=on_subscribe,
                **bot_options,
            )
            await bot.start()
            try:
                await scenario(api, bot)
            finally:
                await bot.stop()
            return api

    api = asyncio.run(main())
    # Telegram accepted every call the bot made (users typing faster than Telegram's 1/s per chat
    # earn 429s, which PTB's limiter waits out: the storm test checks that).
    assert [e for e in api.errors if e[1] != 429] == []
    return api, welcomed


def test_tag_vq_answers_the_two_vq_papers_newest_first(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.user_says(ADA, ADA, "/tag vq")
        reply = await api.next_sent(ADA)
        assert [VQ_TITLES[0] in reply.plain, VQ_TITLES[1] in reply.plain] == [True, True]
        assert reply.plain.index(VQ_TITLES[0]) < reply.plain.index(VQ_TITLES[1])
        assert reply.plain.startswith("#vq") and "2 papers" in reply.plain
        api.user_says(BOB, GROUP, "/tag@paperboy_test_bot #VQ")  # a group, addressed by name
        in_group = await api.next_sent(GROUP)
        assert VQ_TITLES[0] in in_group.plain

    api, _ = play(seeded_sqlite, scenario)
    assert {lang for _, lang in api.commands} == {"", "ko"}
    menu = {c["command"]: c["description"] for c in api.commands[("default", "ko")]}
    assert menu["tag"] == "태그가 붙은 논문 (최신순)" and "subscribe" in menu


def test_pages_turn_in_place_with_older_and_newer_buttons(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.user_says(ADA, ADA, "/tag vision-language")
        first = await api.next_sent(ADA)
        assert "page 1 of 2" in first.plain
        buttons = [b for row in first.reply_markup["inline_keyboard"] for b in row]
        assert [b["text"] for b in buttons] == ["≈ 1", "≈ 2", "Older ▶"]  # a "similar" per paper
        api.press(ADA, ADA, first.message_id, buttons[-1]["callback_data"])
        edit = await api.wait_for(lambda: api.edits[-1] if api.edits else None)
        assert edit.message_id == first.message_id and "page 2 of 2" in edit.plain
        turned = [b["text"] for row in edit.reply_markup["inline_keyboard"] for b in row]
        assert turned == ["≈ 3", "≈ 4", "◀ Newer"]
        await api.wait_for(lambda: api.callback_answers)
        assert len(api.messages_in(ADA)) == 1  # edited, not re-sent

    play(seeded_sqlite, scenario, page_size=2)


def test_unknown_tag_tags_paper_search_latest_and_help(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        async def ask(text: str) -> str:
            api.user_says(ADA, ADA, text)
            return (await api.next_sent(ADA)).plain

        assert "Did you mean" in await ask("/tag vision")
        tags = await ask("/tags")
        assert "#vision-language 4" in tags and "#vq 2" in tags
        assert "VQGAN" in await ask("/search 코드북")
        detail = await ask("/paper scaling-the-codebook-size-of-vqgan-to-e718ffe0")
        assert VQ_TITLES[1] in detail and "2024-06-18" in detail
        assert "/tag <tag>" in await ask("/tag")  # usage, not a silent nothing
        help_ko = await ask("/help")
        assert "최신 다이제스트" in help_ko  # Ada's language_code is ko
        latest = await ask("/latest")  # the newest day: the Hugging Face listing, many messages
        assert latest.startswith("📰 Paperboy · 2025-12-11")
        before = len(api.messages_in(ADA)) - 1
        parts = await api.wait_for(
            lambda: api.messages_in(ADA)[before:][2:] and api.messages_in(ADA)[before:]
        )
        assert len({part.text for part in parts}) == len(parts)
        gaps = [b.at - a.at for a, b in itertools.pairwise(parts)]
        assert min(gaps) >= 0.9  # several messages to one chat go at Telegram's one a second

    play(seeded_sqlite, scenario)


def test_only_group_admins_change_the_subscription_and_topics_are_targets(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.user_says(ADA, GROUP, "/subscribe vq")
        refused = await api.next_sent(GROUP)
        assert "administrator" in refused.plain
        api.user_says(BOB, GROUP, "/subscribe vq")
        assert "Subscribed" in (await api.next_sent(GROUP)).plain
        api.user_says(BOB, FORUM, "/subscribe", thread_id=5)
        topic = await api.next_sent(FORUM)
        assert topic.thread_id == 5 and "Subscribed" in topic.plain
        api.user_says(ADA, GROUP, "/settings")  # anyone may look
        assert "#vq" in (await api.next_sent(GROUP)).plain

    _, welcomed = play(seeded_sqlite, scenario)
    subs = {s.address: s.tags for s in store.all_subscriptions(seeded_sqlite)}
    assert subs == {f"telegram:{GROUP}": ("vq",), f"telegram:{FORUM}/5": ()}
    assert [s.address for s in welcomed] == [f"telegram:{GROUP}", f"telegram:{FORUM}/5"]


def test_a_channel_subscribes_by_its_own_post_or_a_forwarded_one(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.channel_post(CHANNEL, "/subscribe llm")
        assert "Subscribed" in (await api.next_sent(CHANNEL)).plain

    play(seeded_sqlite, scenario)
    assert store.get(seeded_sqlite, f"telegram:{CHANNEL}").tags == ("llm",)


@pytest.mark.parametrize(
    "text",
    [
        "/search " + "x" * 5000,
        "/search <b>bold</b> & <script>alert(1)</script>",
        "/tag '; DROP TABLE papers; --",
        "/search 🧠🔥 코드북",
        "/tag v\u200bq",
        "/tag \u202eqv",
        "/paper ../../etc/passwd",
        "/subscribe #<i>",
    ],
)
def test_hostile_input_gets_a_clear_reply_and_never_a_trace(seeded_sqlite: Archive, text: str) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.user_says(ADA, ADA, text)
        reply = await api.next_sent(ADA)
        assert "Traceback" not in reply.plain and "Error:" not in reply.plain
        assert reply.plain != handlers.SORRY
        assert 0 < len(reply.plain) <= 4096

    play(seeded_sqlite, scenario)


def test_unknown_commands_and_plain_text_get_a_hint_only_where_addressed(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.user_says(ADA, ADA, "/tga vq")
        assert "Did you mean /tag?" in (await api.next_sent(ADA)).plain
        api.user_says(ADA, ADA, "hello there")
        assert (await api.next_sent(ADA)).plain == handlers.HINT
        api.user_says(ADA, GROUP, "/weather")  # maybe another bot's: not ours to answer
        api.user_says(ADA, GROUP, "/weather@otherbot")
        api.user_says(ADA, GROUP, "just chatting")
        api.user_says(ADA, GROUP, "/nope@paperboy_test_bot")
        reply = await api.next_sent(GROUP)
        assert "There is no /nope command" in reply.plain
        await asyncio.sleep(0.3)
        assert len(api.messages_in(GROUP)) == 1

    play(seeded_sqlite, scenario)


def test_inline_mode_offers_papers_by_tag_or_words(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.inline(ADA, "vq")
        by_tag = await api.wait_for(lambda: api.inline_answers)
        assert [r["title"] for r in by_tag[0].results] == VQ_TITLES
        api.inline(ADA, "PaliGemma")
        words = await api.wait_for(lambda: api.inline_answers[1:])
        assert words[0].results and "PaliGemma" in words[0].results[0]["title"]

    play(seeded_sqlite, scenario)


def test_a_failure_inside_the_bot_is_one_polite_line(
    seeded_sqlite: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database is on fire")

    monkeypatch.setattr(handlers, "answer", broken)

    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.user_says(ADA, ADA, "/tags")
        reply = await api.next_sent(ADA)
        assert reply.plain == handlers.SORRY and "fire" not in reply.plain

    play(seeded_sqlite, scenario)


def test_a_429_storm_slows_replies_down_without_losing_one(seeded_sqlite: Archive) -> None:
    async def scenario(api: TelegramStandIn, bot: TelegramBot) -> None:
        api.fail(ADA, "retry_after", seconds=1, times=3)
        api.user_says(ADA, ADA, "/tag vq")
        reply = await api.next_sent(ADA, timeout=15)
        assert VQ_TITLES[0] in reply.plain
        assert [r for _, chat, r in api.rejections if chat == ADA] == ["injected"] * 3
        assert len(api.messages_in(ADA)) == 1

    play(seeded_sqlite, scenario)
