"""The curator's desk on Discord, end to end: the real discord.py client and its command tree, a
real publisher sending through the stand-in, a curator's ``/post`` (a file, or the modal), the
ephemeral preview with its buttons (which work after a restart), everyone else refused, broken
and hostile posts answered without a trace."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import subscriptions as store
from bot.archive import queries
from bot.archive.store import Archive, open_archive
from bot.channels.discord.bot import DiscordBot
from bot.channels.discord.sender import DiscordChannel
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.desk import Desk, drafts
from bot.render.environment import Templates
from scheduler.publish import Publisher
from tests.desk_posts import (
    ADDED_SENTENCE,
    NEW_DAY,
    NEW_DAY_TEXT,
    archive_without,
    corrected,
    one_paper_post,
    sources,
    with_typo,
)
from tests.discord_standin import DiscordStandIn, deliver
from tests.discord_standin_rules import EPHEMERAL, Json, Message
from tests.platform_rules import discord_violations
from tests.test_discord_bot import GUILD, NEWS, running, stand_in
from tests.test_publish import LONG_AGO

CURATOR, EDITOR, MALLORY = (1_500_000_000_000_000_000 + n for n in range(1, 4))
EDITORS, READERS = 1_400_000_000_000_000_010, 1_400_000_000_000_000_011
DESK = 1_200_000_000_000_000_009  # where the curators work


@dataclass
class Answer:
    """What the bot left for one interaction: its messages (response first), newest state."""

    payload: Json
    messages: list[Message]

    @property
    def summary(self) -> Message:
        return self.messages[0]

    @property
    def text(self) -> str:
        return _text(self.messages)

    def button(self, label: str) -> Json:
        (found,) = [
            c for row in self.summary.components for c in row["components"] if label in c.get("label", "")
        ]
        return found


def _text(messages: list[Message]) -> str:
    parts = []
    for message in messages:
        parts.append(message.content)
        for embed in message.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
    return "\n".join(parts)


@dataclass
class Room:
    api: DiscordStandIn
    bot: DiscordBot
    archive: Archive
    published: list[dt.date]

    async def run(self, payload: Json, messages: int = 1) -> Answer:
        """Deliver ``payload`` and wait until the bot has answered it with ``messages`` messages."""
        deliver(self.bot.client, payload)
        asked = int(payload["id"])

        def answered() -> list[Message]:
            found = [m for m in self.api.messages if m.interaction_id == asked and not m.deleted]
            return found if len(found) >= messages else []

        return Answer(payload, await self.api.wait_for(answered, timeout=20))

    async def post(
        self,
        data: bytes,
        filename: str = "day.txt",
        user: int = CURATOR,
        roles: tuple[int, ...] = (),
        messages: int = 2,
    ) -> Answer:
        """``/post file:`` with ``data``; the preview, once it has ``messages`` messages."""
        file = self.api.attach(data, filename)
        payload = self.api.interaction(
            "command", DESK, name="post", options={"file": file}, user_id=user, roles=roles
        )
        return await self.run(payload, messages)

    async def press(
        self, answer: Answer, label: str, user: int = CURATOR, roles: tuple[int, ...] = ()
    ) -> Message:
        """Press a button of the preview; the preview message as the press left it."""
        button = answer.button(label)
        payload = self.api.interaction(
            "component",
            DESK,
            message_id=answer.summary.id,
            custom_id=button["custom_id"],
            user_id=user,
            roles=roles,
        )
        deliver(self.bot.client, payload)
        asked = int(payload["id"])
        await self.api.wait_for(
            lambda: [r for r in self.api.interaction_responses if r.interaction_id == asked]
        )
        return answer.summary


Scenario = Callable[[Room], Awaitable[Any]]


def play(archive: Archive, tmp_path: Path, scenario: Scenario) -> DiscordStandIn:
    settings = Settings.from_env(
        {
            "PAPERBOY_CURATORS": f"discord:{CURATOR}, discord-role:{EDITORS}, telegram:42",
            "PAPERBOY_SITE_DIR": str(tmp_path / "site"),
            "PAPERBOY_TIMEZONE": "UTC",
        }
    )
    store.add(archive, f"discord:{NEWS}", now=LONG_AGO)

    async def main() -> DiscordStandIn:
        async with stand_in() as api:
            api.add_channel(DESK, GUILD, "text", name="desk")
            api.add_role(GUILD, EDITORS, "editors")
            api.add_role(GUILD, READERS, "readers")
            channel = DiscordChannel(api.token, Templates(DEFAULT_TEMPLATES), api.base)
            publisher = Publisher(archive, settings, {"discord": channel}, worker="test")
            published: list[dt.date] = []

            async def on_publish(day: dt.date) -> int:
                published.append(day)
                return (await publisher.publish(day)).audience

            desk = Desk(
                archive, settings, on_publish, clock=lambda: dt.datetime(2024, 8, 2, 12, tzinfo=dt.UTC)
            )
            try:
                async with running(archive, api, desk=desk) as session:
                    await api.gateway.wait_for_session(timeout=30)
                    await scenario(Room(api, session.bot, archive, published))
            finally:
                await channel.close()
        return api

    api = asyncio.run(main())
    assert api.errors == []  # Discord refused nothing
    for message in api.messages:
        shown = {"content": message.content, "embeds": message.embeds, "components": message.components}
        assert discord_violations(shown) == [], message
        assert message.pings == []
    return api


def published_in(api: DiscordStandIn, channel: int) -> list[Message]:
    return [m for m in api.messages_in(channel) if m.interaction_id is None]


def test_a_curators_file_is_previewed_privately_and_published_now(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            answer = await room.post(NEW_DAY_TEXT.encode())
            summary, sample = answer.messages
            assert all(m.flags & EPHEMERAL for m in answer.messages)  # only the curator sees it
            assert f"📝 Preview · {NEW_DAY}" in answer.text and "6 papers (daily-post)" in answer.text
            assert "#autoregressive-model #text2img #vq" in answer.text
            assert "#text2img is a new tag; the archive has #text-to-image (1)" in answer.text
            labels = [c["label"] for row in summary.components for c in row["components"]]
            assert labels == ["✅ Publish now", "🗑 Discard"]
            assert sample.content.startswith(f"**📰 Paperboy · {NEW_DAY}**") and not sample.components

            edited = await room.press(answer, "Publish now")
            assert edited.content == f"✅ Stored {NEW_DAY} (6 papers); it is going out now."
            assert edited.components == [] and edited.embeds == summary.embeds  # buttons gone
            first = (await room.api.wait_for(lambda: published_in(room.api, NEWS), timeout=30))[0]
            assert (first.content, first.embeds) == (sample.content, sample.embeds)  # as previewed
            said = await room.api.wait_for(
                lambda: [m for m in room.api.messages if "went out" in m.content], timeout=30
            )
            assert said[0].content == f"{NEW_DAY} went out to 1 subscriber." and said[0].flags & EPHEMERAL
            assert drafts.count(room.archive) == 0

        play(archive, tmp_path, scenario)
        assert "chat-2024-08-01-daily-post.txt" in sources(archive)


def test_a_curator_by_role_types_a_short_post_in_the_modal(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            opened = room.api.interaction("command", DESK, name="post", user_id=EDITOR, roles=(EDITORS,))
            deliver(room.bot.client, opened)
            asked = int(opened["id"])
            (modal,) = await room.api.wait_for(
                lambda: [r for r in room.api.interaction_responses if r.interaction_id == asked]
            )
            assert modal.type == 9 and modal.data is not None
            (field,) = [c for row in modal.data["components"] for c in row["components"]]
            assert field["max_length"] == 4000 and field["style"] == 2
            submit = room.api.interaction(
                "modal",
                DESK,
                opened_by=asked,
                values={field["custom_id"]: one_paper_post(NEW_DAY)},
                user_id=EDITOR,
                roles=(EDITORS,),
            )
            answer = await room.run(submit, messages=2)
            assert "A Small Paper About Codebooks · #vq #codebook" in answer.text
            await room.press(answer, "Discard", user=EDITOR, roles=(EDITORS,))
            assert answer.summary.content == "✅ Discarded: nothing was stored."
            assert drafts.count(room.archive) == 0

        play(archive, tmp_path, scenario)
        assert NEW_DAY not in [d.date for d in queries.days(archive)]


def test_anyone_else_is_refused_and_nothing_is_fetched(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)
        before = sources(archive)

        async def scenario(room: Room) -> None:
            for roles in ((), (READERS,)):
                answer = await room.post(NEW_DAY_TEXT.encode(), user=MALLORY, roles=roles, messages=1)
                assert answer.summary.content == "Only curators can post."
                assert answer.summary.flags & EPHEMERAL and len(answer.messages) == 1
            opened = room.api.interaction("command", DESK, name="post", user_id=MALLORY)
            answer = await room.run(opened)  # no modal for them either
            assert answer.summary.content == "Only curators can post."
            assert room.api.downloads == []

        play(archive, tmp_path, scenario)
        assert sources(archive) == before and drafts.count(archive) == 0


def test_the_buttons_work_after_a_restart_and_refuse_others(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            answer = await room.post(one_paper_post(NEW_DAY).encode())
            desk = room.bot.desk
            assert desk is not None
            await room.bot.stop()  # paperboy run restarts: a new client, no view kept in memory
            again = DiscordBot(
                room.archive, Settings.from_env({}), room.api.token, api_url=room.api.base, desk=desk.desk
            )
            await again.start()
            room.bot = again
            try:
                await room.press(answer, "Publish now", user=MALLORY)
                refused = [m for m in room.api.messages if m.content == "Only curators can post."]
                assert refused and refused[-1].flags & EPHEMERAL
                assert drafts.count(room.archive) == 1  # untouched
                await room.press(answer, "Publish now")
                assert answer.summary.content.startswith(f"✅ Stored {NEW_DAY} (1 paper)")
                await room.api.wait_for(lambda: room.published, timeout=30)
            finally:
                await again.stop()

        play(archive, tmp_path, scenario)


def test_a_correction_preview_lists_the_changes_and_corrects(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            first = await room.post(with_typo(NEW_DAY_TEXT).encode())
            await room.press(first, "Publish now")
            await room.api.wait_for(lambda: published_in(room.api, NEWS), timeout=30)
            kept = queries.digest_papers(room.archive, NEW_DAY)[0].id

            answer = await room.post(corrected(NEW_DAY_TEXT).encode())
            text = answer.text
            assert f"{NEW_DAY} has gone out: what the correction changes" in text
            # The typo fixed, the new sentence, the new tag: nothing else.
            assert "title: “PaliGemma: A versatle 3B VLM for transfer” → “PaliGemma: A versatile" in text
            assert f"commentary: + “{ADDED_SENTENCE}”" in text and "tags: + #open-weights" in text
            assert text.count("↳") == 3
            labels = [c["label"] for row in answer.summary.components for c in row["components"]]
            assert labels == ["✏️ Correct now", "🗑 Discard"]
            await room.press(answer, "Correct now")
            assert answer.summary.content.startswith(f"✅ Corrected {NEW_DAY} (1 changed)")
            await room.api.wait_for(lambda: len(room.published) == 2, timeout=30)
            assert queries.digest_papers(room.archive, NEW_DAY)[0].id == kept

        play(archive, tmp_path, scenario)


def test_broken_and_hostile_files_are_refused_with_their_line(tmp_path: Path) -> None:
    title = "**Bold** _under_ <b>tag</b> `tick` ||spoiler|| @everyone [link](https://x.org)"
    posts = [
        (b"\x89PNG\r\n\x1a\n\x00\x00junk", "post.txt", "Line 3: binary content (a NUL byte)"),
        (b"%PDF-1.7", "paper.pdf", "'paper.pdf' is not a post: send it as a .txt or .md file"),
        (b"\n \n", "empty.md", "The post is empty"),
        (NEW_DAY_TEXT.split("\n", 1)[1].encode(), "nodate.txt", "Line 1: unknown format"),
        ((NEW_DAY_TEXT * 500).encode(), "huge.txt", "at most 1 MB"),
    ]
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)
        before = sources(archive)

        async def scenario(room: Room) -> None:
            for data, name, error in posts:
                answer = await room.post(data, name, messages=1)
                assert "❌ This post cannot be published" in answer.text, answer.text
                assert error in answer.text and "Nothing was stored" in answer.text
                assert answer.summary.components == [] and len(answer.messages) == 1
            assert room.api.downloads and all(size < 1_000_000 for _, size in room.api.downloads)
            assert len(room.api.downloads) == 3  # the .pdf and the 5 MB file were never fetched
            assert drafts.count(room.archive) == 0

            answer = await room.post(one_paper_post(NEW_DAY, title).encode())
            summary, sample = answer.messages
            shown = summary.embeds[0]["description"]
            assert (
                "1\\. \\*\\*Bold\\*\\* \\_under\\_ <b>tag</b> \\`tick\\` \\|\\|spoiler\\|\\| @everyone"
                in shown
            )
            assert sample.embeds[0]["title"] == title  # an embed title is plain text on Discord

        play(archive, tmp_path, scenario)
        assert sources(archive) == before
