"""The curator's desk on Telegram, end to end: the real python-telegram-bot Application polling the
stand-in Bot API, a real publisher sending through it, a curator posting (a document, a paste
Telegram split, /draft … /done, a post in their channel), reading the preview and pressing its
buttons; everyone else refused; broken and hostile posts answered without a trace."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import subscriptions as store
from bot.archive import queries
from bot.archive.schema import corrections
from bot.archive.store import Archive, open_archive
from bot.channels.telegram import desk as telegram_desk
from bot.channels.telegram.bot import TelegramBot
from bot.channels.telegram.sender import TelegramChannel, make_bot
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.desk import Desk, drafts
from bot.render.environment import Templates
from scheduler.publish import Publisher
from tests.desk_posts import (
    ADDED_SENTENCE,
    NEW_DAY,
    NEW_DAY_TEXT,
    TYPO_TITLE,
    archive_without,
    corrected,
    days,
    one_paper_post,
    sources,
    split_like_telegram,
    with_typo,
)
from tests.telegram_standin import TelegramStandIn
from tests.telegram_standin_rules import Sent
from tests.test_publish import LONG_AGO

ADA, CAROL, BOB, MALLORY = 42, 43, 7, 666
CHANNEL = -1009876


@dataclass
class Clock:
    now: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Room:
    """The stand-in, the bot, the archive and the desk's clock, as a scenario sees them."""

    api: TelegramStandIn
    bot: TelegramBot
    archive: Archive
    clock: Clock
    published: list[dt.date]

    async def preview(self, chat: int = ADA) -> tuple[Sent, Sent | None]:
        """The preview (the message with the buttons) and the digest's first message after it."""
        summary = await self.api.next_sent(chat, timeout=10)
        while summary.reply_markup is None and "cannot be published" not in summary.plain:
            summary = await self.api.next_sent(chat, timeout=10)  # a long preview's first parts
        if summary.reply_markup is None:
            return summary, None
        return summary, await self.api.next_sent(chat, timeout=10)

    async def said(self, words: str, chat: int = ADA) -> Sent:
        """The next message to ``chat`` holding ``words`` (the ones before it are passed over)."""
        while True:
            message = await self.api.next_sent(chat, timeout=30)
            if words in message.plain:
                return message

    def press(self, summary: Sent, label: str, user: int = ADA) -> None:
        rows = summary.reply_markup["inline_keyboard"] if summary.reply_markup else []
        (button,) = [b for row in rows for b in row if label in b["text"]]
        self.api.press(user, summary.chat_id, summary.message_id, button["callback_data"])

    async def answer(self) -> str:
        count = len(self.api.callback_answers)
        answers = await self.api.wait_for(lambda: self.api.callback_answers[count:], timeout=10)
        return answers[0].text or ""


Scenario = Callable[[Room], Awaitable[Any]]


def settings_for(tmp_path: Path) -> Settings:
    return Settings.from_env(
        {
            "PAPERBOY_CURATORS": f"telegram:{ADA}, telegram:{CAROL}, discord:123456789012345678",
            "PAPERBOY_SITE_DIR": str(tmp_path / "site"),
            "PAPERBOY_TIMEZONE": "UTC",
            "PAPERBOY_PUBLISH_AT": "09:00",
        }
    )


def play(
    archive: Archive,
    tmp_path: Path,
    scenario: Scenario,
    *,
    now: dt.datetime = dt.datetime(2024, 8, 2, 12, 0, tzinfo=dt.UTC),
    **bot_options: Any,
) -> TelegramStandIn:
    settings = settings_for(tmp_path)
    store.add(archive, f"telegram:{BOB}", now=LONG_AGO)
    clock = Clock(now)

    async def main() -> TelegramStandIn:
        async with TelegramStandIn() as api:
            for user, name in ((ADA, "Ada"), (CAROL, "Carol"), (BOB, "Bob"), (MALLORY, "Mallory")):
                api.add_user(user, name)
            api.add_chat(CHANNEL, "channel", title="Ada's papers", username="adas_papers", admins=(ADA,))
            templates = Templates(DEFAULT_TEMPLATES)
            channel = TelegramChannel(make_bot(api.token, api.base_url), templates)
            publisher = Publisher(archive, settings, {"telegram": channel}, worker="test")
            published: list[dt.date] = []

            async def on_publish(day: dt.date) -> int:
                published.append(day)
                return (await publisher.publish(day)).audience

            desk = Desk(archive, settings, on_publish, clock=clock)
            bot = TelegramBot(archive, settings, api.token, api_url=api.base_url, desk=desk, **bot_options)
            await bot.start()
            try:
                await scenario(Room(api, bot, archive, clock, published))
            finally:
                await bot.stop()
                await channel.close()
            return api

    api = asyncio.run(main())
    # Telegram accepted every call (429s are PTB's limiter waiting out a burst), and all HTML.
    assert [e for e in api.errors if e[1] != 429] == []
    return api


def test_a_curators_file_is_previewed_then_published_now_to_subscribers(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            api = room.api
            api.user_sends_document(ADA, ADA, NEW_DAY_TEXT.encode(), "today.txt")
            summary, sample = await room.preview()
            assert summary.plain.startswith(f"📝 Preview · {NEW_DAY}")
            assert "6 papers (daily-post)" in summary.plain and TYPO_TITLE in summary.plain
            assert "#autoregressive-model #text2img #vq" in summary.plain
            assert [b["text"] for row in summary.reply_markup["inline_keyboard"] for b in row] == [
                "✅ Publish now",
                "🗑 Discard",
            ]  # its publish time has passed: no "at the scheduled time"
            assert sample is not None and sample.plain.startswith(f"📰 Paperboy · {NEW_DAY}")
            assert drafts.count(room.archive) == 1 and NEW_DAY not in days(room.archive)

            room.press(summary, "Publish now")
            assert "going out now" in await room.answer()
            first = await api.next_sent(BOB, timeout=30)
            assert first.text == sample.text  # the preview showed exactly what Bob got
            done = await api.wait_for(lambda: [m for m in api.messages_in(ADA) if "went out" in m.plain], 30)
            assert done[0].plain == f"{NEW_DAY} went out to 1 subscriber."
            assert room.published == [NEW_DAY] and drafts.count(room.archive) == 0
            assert "chat-2024-08-01-daily-post.txt" in sources(room.archive)
            pressed = [e for e in api.edits if e.message_id == summary.message_id]
            assert pressed and pressed[-1].reply_markup is None  # the buttons are gone

        play(archive, tmp_path, scenario)


def test_anyone_else_is_told_only_curators_can_post(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)
        before = sources(archive)

        async def scenario(room: Room) -> None:
            api = room.api
            api.user_sends_document(MALLORY, MALLORY, NEW_DAY_TEXT.encode(), "today.txt")
            assert (await api.next_sent(MALLORY)).plain == "Only curators can post."
            api.user_says(MALLORY, MALLORY, "/draft")
            assert (await api.next_sent(MALLORY)).plain == "Only curators can post."
            api.user_says(MALLORY, MALLORY, NEW_DAY_TEXT[:2000])  # plain text: the usual hint
            assert "I answer commands" in (await api.next_sent(MALLORY)).plain
            await asyncio.sleep(0.3)
            assert len(api.messages_in(MALLORY)) == 3  # one line each, nothing more
            assert not [call for call in api.calls if call[0] == "getFile"]  # nothing was fetched

        play(archive, tmp_path, scenario)
        assert sources(archive) == before and drafts.count(archive) == 0


def test_discard_leaves_no_trace(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)
        before = sources(archive)

        async def scenario(room: Room) -> None:
            room.api.user_sends_document(ADA, ADA, NEW_DAY_TEXT.encode(), "today.md")
            summary, _ = await room.preview()
            room.press(summary, "Discard")
            assert await room.answer() == "Discarded: nothing was stored."
            assert drafts.count(room.archive) == 0
            await room.api.wait_for(lambda: [e for e in room.api.edits if e.message_id == summary.message_id])
            stale = summary.reply_markup["inline_keyboard"][0][0]["callback_data"]  # an app showing it still
            room.api.press(ADA, ADA, summary.message_id, stale, forged=True)
            assert "gone" in await room.answer()

        play(archive, tmp_path, scenario)
        assert sources(archive) == before and NEW_DAY not in days(archive)


def test_an_expired_draft_is_refused_and_swept(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_says(ADA, ADA, one_paper_post(NEW_DAY))
            summary, _ = await room.preview()
            room.clock.now += drafts.LIFETIME + dt.timedelta(minutes=1)
            room.press(summary, "Publish now")
            assert "expired" in await room.answer()
            assert drafts.count(room.archive) == 0  # refused on use, and deleted

            room.api.user_says(ADA, ADA, one_paper_post(NEW_DAY, "Another Paper"))
            await room.preview()
            assert drafts.count(room.archive) == 1
            later = room.clock.now + drafts.LIFETIME
            assert drafts.sweep(room.archive, now=later) == 1  # what the running service does

        play(archive, tmp_path, scenario)
        assert NEW_DAY not in days(archive) and drafts.count(archive) == 0


def test_a_paste_telegram_split_is_joined_back(tmp_path: Path) -> None:
    pieces = split_like_telegram(NEW_DAY_TEXT)
    assert len(pieces) == 3 and all(len(piece) <= 4096 for piece in pieces)
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            for piece in pieces:
                room.api.user_says(ADA, ADA, piece)
            summary, sample = await room.preview()
            assert "6 papers" in summary.plain and sample is not None
            await asyncio.sleep(3)
            assert len(room.api.messages_in(ADA)) == 2  # one preview, not one per piece
            assert drafts.count(room.archive) == 1

        play(archive, tmp_path, scenario)


def test_draft_then_done_joins_messages_of_any_length(tmp_path: Path) -> None:
    paragraphs = NEW_DAY_TEXT.strip().split("\n")
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_says(ADA, ADA, "/draft")
            assert "then /done" in (await room.api.next_sent(ADA)).plain
            for start in range(0, len(paragraphs), 4):  # short messages, each a few lines
                room.api.user_says(ADA, ADA, "\n".join(paragraphs[start : start + 4]))
            room.api.user_says(ADA, ADA, "/done")
            summary, _ = await room.preview()
            assert "6 papers" in summary.plain
            room.api.user_says(ADA, ADA, "/done")
            assert "Nothing to finish" in (await room.api.next_sent(ADA)).plain

        play(archive, tmp_path, scenario)


def test_a_draft_left_alone_does_not_swallow_later_posts(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(telegram_desk, "DRAFTING_IDLE", 0.5)
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_says(ADA, ADA, "/draft")
            await room.api.next_sent(ADA)
            await asyncio.sleep(0.6)  # the curator walked away
            room.api.user_says(ADA, ADA, one_paper_post(NEW_DAY))
            summary, _ = await room.preview()
            assert "A Small Paper About Codebooks" in summary.plain

        play(archive, tmp_path, scenario)


def test_a_post_in_the_curators_channel_is_previewed_to_every_curator(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.channel_post(CHANNEL, "오늘은 쉬어갑니다. No papers today!")  # not a post
            room.api.channel_post(CHANNEL, one_paper_post(NEW_DAY))
            ada, _ = await room.preview(ADA)  # the first thing Ada hears of: the real post
            carol, _ = await room.preview(CAROL)
            assert ada.plain == carol.plain and "A Small Paper About Codebooks" in ada.plain
            room.press(ada, "Publish now", ADA)
            assert "going out now" in await room.answer()
            room.press(carol, "Publish now", CAROL)  # too late: Ada's press took the draft
            assert "gone" in await room.answer()
            await room.api.wait_for(lambda: room.published, timeout=30)
            room.api.channel_posts_document(CHANNEL, b"%PDF-1.7 a paper", "paper.pdf")  # not a post
            room.api.channel_posts_document(CHANNEL, one_paper_post(NEW_DAY, "Second").encode(), "day.txt")
            carol, _ = await room.preview(CAROL)
            assert "1. Second · #vq #codebook" in carol.plain  # the file, not the PDF

        api = play(archive, tmp_path, scenario, source_channel="@adas_papers")
        assert [m.plain for m in api.messages_in(CHANNEL)] == []  # nothing said in the channel
        assert queries.digest_papers(archive, NEW_DAY)[0].title == "A Small Paper About Codebooks"


def test_a_correction_preview_lists_what_changes_paper_by_paper(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_sends_document(ADA, ADA, with_typo(NEW_DAY_TEXT).encode(), "day.txt")
            first, _ = await room.preview()
            room.press(first, "Publish now")
            await room.said("went out to 1 subscriber")
            await room.api.next_sent(BOB, timeout=30)
            kept = queries.digest_papers(room.archive, NEW_DAY)[0].id

            room.api.user_sends_document(ADA, ADA, corrected(NEW_DAY_TEXT).encode(), "day.txt")
            summary, sample = await room.preview()
            text = summary.plain
            assert f"{NEW_DAY} has gone out: what the correction changes" in text
            assert "title: “PaliGemma: A versatle 3B VLM for transfer” → “PaliGemma: A versatile" in text
            assert f"commentary: + “{ADDED_SENTENCE}”" in text
            assert "tags: + #open-weights" in text
            assert text.count("↳") == 3  # one paper, three changes: nothing else listed
            assert [b["text"] for row in summary.reply_markup["inline_keyboard"] for b in row] == [
                "✏️ Correct now",
                "🗑 Discard",
            ]
            assert sample is not None and "versatile" in sample.plain and "#open-weights" in sample.plain
            room.press(summary, "Correct now")
            assert "Corrected" in await room.answer()
            await room.api.wait_for(lambda: len(room.published) == 2, timeout=30)
            assert queries.digest_papers(room.archive, NEW_DAY)[0].id == kept  # the same paper

        play(archive, tmp_path, scenario)
        with archive.engine.connect() as conn:
            assert conn.execute(select(corrections.c.day)).scalars().all() == [NEW_DAY]


def test_a_day_whose_time_has_not_come_can_wait_for_it(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_says(ADA, ADA, one_paper_post(NEW_DAY))
            summary, _ = await room.preview()
            labels = [b["text"] for row in summary.reply_markup["inline_keyboard"] for b in row]
            assert labels == ["✅ Publish now", "🕘 At 08-01 09:00", "🗑 Discard"]
            room.press(summary, "At 08-01")
            assert await room.answer() == f"Stored {NEW_DAY} (1 paper); it goes out at 2024-08-01 09:00 UTC."
            assert room.published == []  # the schedule sends it, not the button

        play(archive, tmp_path, scenario, now=dt.datetime(2024, 7, 31, 12, 0, tzinfo=dt.UTC))
        assert queries.digest_papers(archive, NEW_DAY)[0].title == "A Small Paper About Codebooks"
        assert drafts.count(archive) == 0


def test_forged_and_stale_buttons_get_a_clear_answer(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)
        before = sources(archive)

        async def scenario(room: Room) -> None:
            room.api.user_says(ADA, ADA, one_paper_post(NEW_DAY))
            summary, _ = await room.preview()
            data = summary.reply_markup["inline_keyboard"][0][0]["callback_data"]
            forged = {
                MALLORY: data,  # someone else's hands on a real draft's button
                ADA: "desk:now:AAAAAAAAAAAAAAAA",  # a draft that never was
            }
            for user, value in forged.items():
                room.api.press(user, summary.chat_id, summary.message_id, value, forged=True)
                answer = await room.answer()
                assert answer == ("Only curators can post." if user == MALLORY else drafts.GONE)
            room.api.press(ADA, summary.chat_id, summary.message_id, "desk:burn:" + data[-16:], forged=True)
            assert await room.answer() == "That button is not one of the preview's."
            assert drafts.count(room.archive) == 1  # the real draft is still there

        play(archive, tmp_path, scenario)
        assert sources(archive) == before
