"""The Discord bot end to end: the real discord.py client, its command tree and buttons, answering
INTERACTION_CREATE payloads handed to it directly (``deliver``; it is connected to the stand-in's
gateway too, where ``test_discord_run`` sends them), against the stand-in Discord API,
which refuses what Discord refuses (limits, response types, acknowledging twice or too late).

The harness here (``play``, ``Session``) is shared with ``test_discord_bot_subscribe.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.archive import queries
from bot.archive.store import Archive
from bot.channels.discord import responder as responder_module
from bot.channels.discord.bot import DiscordBot
from bot.channels.discord.replies import render_answer
from bot.channels.discord.responder import OnSubscribe
from bot.commands import PapersPage, complete_tags
from bot.config import Settings
from bot.models import Digest, Subscription
from bot.render.context import paper_view
from bot.render.discord import embed_size
from bot.render.environment import Templates
from tests.discord_standin import DiscordStandIn, deliver, route_base
from tests.discord_standin_rules import EPHEMERAL, InteractionResponse, Json, Message
from tests.discord_standin_state import Call
from tests.hostile import DAY, hostile_papers
from tests.platform_rules import discord_violations

GUILD = 1_100_000_000_000_000_001
NEWS, FORUM, POST, THREAD = (1_200_000_000_000_000_000 + n for n in range(1, 5))
ROLE = 1_400_000_000_000_000_007
MANAGE_CHANNELS, EMBED_LINKS = 1 << 4, 1 << 14
VQ_TITLES = [
    "MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis",
    "Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%",
]
VQGAN_ID = "scaling-the-codebook-size-of-vqgan-to-e718ffe0"


@dataclass
class Asked:
    """One interaction and what the bot answered: the callback and the messages it left."""

    payload: Json
    response: InteractionResponse
    messages: list[Message]

    @property
    def ephemeral(self) -> bool:
        return all(m.flags & EPHEMERAL for m in self.messages) and bool(self.messages)

    @property
    def text(self) -> str:
        """Everything a reader sees: contents, embed titles, descriptions and fields."""
        parts = []
        for message in self.messages:
            parts.append(message.content)
            for embed in message.embeds:
                parts += [embed.get("title", ""), embed.get("description", "")]
                parts += [f["value"] for f in embed.get("fields", [])]
        return "\n".join(parts)

    @property
    def buttons(self) -> list[Json]:
        return buttons(self.messages[0]) if self.messages else []


def buttons(message: Message) -> list[Json]:
    return [c for row in message.components for c in row["components"]]


class Session:
    """The stand-in and a started bot, with the ways a user acts on it."""

    def __init__(self, api: DiscordStandIn, bot: DiscordBot) -> None:
        self.api, self.bot = api, bot

    async def command(
        self,
        name: str,
        channel: int = NEWS,
        *,
        admin: bool = False,
        app_permissions: int | None = None,
        resolved: Json | None = None,
        locale: str = "en-US",
        **options: Any,
    ) -> Asked:
        payload = self.api.interaction("command", channel, name=name, options=options, locale=locale)
        if admin:
            member = payload["member"]
            member["permissions"] = str(int(member["permissions"]) | MANAGE_CHANNELS)
        if app_permissions is not None:
            payload["app_permissions"] = str(app_permissions)
        if resolved:
            payload["data"]["resolved"] = resolved
        return await self.run(payload)

    async def press(self, message: Message, label: str) -> Asked:
        (button,) = [b for b in buttons(message) if b.get("label") == label]
        assert not button.get("disabled"), f"{label} is greyed out"
        payload = self.api.interaction(
            "component", message.channel_id, message_id=message.id, custom_id=button["custom_id"]
        )
        return await self.run(payload)

    async def complete(self, name: str, option: str, typed: str) -> list[Json]:
        payload = self.api.interaction(
            "autocomplete", NEWS, name=name, options={option: typed}, focused=option
        )
        asked = await self.run(payload)
        assert asked.response.type == 8
        choices: list[Json] = (asked.response.data or {})["choices"]
        return choices

    async def run(self, payload: Json) -> Asked:
        """Deliver ``payload`` as the gateway would and wait until the bot has done with it."""
        deliver(self.bot.client, payload)
        await handled()
        found = int(payload["id"])
        (response,) = [r for r in self.api.interaction_responses if r.interaction_id == found]
        messages = [m for m in self.api.messages if m.interaction_id == found and not m.deleted]
        if response.type == 7:  # the button's own message, edited
            messages = [m for m in self.api.messages if m.id == payload["message"]["id"]]
        return Asked(payload, response, messages)


async def handled(timeout: float = 30.0) -> None:
    """Wait for the tasks discord.py runs commands, autocompletes and buttons in."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        busy = [
            task
            for task in asyncio.all_tasks()
            if task.get_name() == "CommandTree-invoker" or task.get_name().startswith("discord-ui-dynamic")
        ]
        if not busy:
            return
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError(f"the bot is still busy with {busy}")
        await asyncio.wait(busy, timeout=left)


Scenario = Callable[[Session], Awaitable[Any]]


class StandIn(DiscordStandIn):
    """The stand-in, and Discord's "thinking…" placeholder of a deferred answer, which a bot may
    delete (to answer privately instead); the stand-in writes a deferred answer's message only
    at its first edit, so it has no placeholder to delete."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.placeholders_deleted: list[int] = []

    async def _route_delete_hook_message(self, call: Call) -> None:
        _, interaction = self._hook_message(call)
        if interaction is not None and interaction.response_type == 5 and interaction.original_id is None:
            self.placeholders_deleted.append(interaction.id)
            return
        await super()._route_delete_hook_message(call)


@contextlib.asynccontextmanager
async def stand_in() -> AsyncIterator[DiscordStandIn]:
    """The stand-in with a server holding a text channel, a forum with a post, and a thread."""
    async with StandIn() as api:
        api.add_guild(GUILD, "ML papers")
        api.add_channel(NEWS, GUILD, "text", name="papers")
        api.add_channel(FORUM, GUILD, "forum", name="digests")
        api.add_channel(POST, GUILD, "thread", name="Digests go here", parent_id=FORUM)
        api.add_channel(THREAD, GUILD, "thread", name="chat about papers", parent_id=NEWS)
        with route_base(api):
            yield api


@contextlib.asynccontextmanager
async def running(
    archive: Archive, api: DiscordStandIn, on_subscribe: OnSubscribe | None = None, **options: Any
) -> AsyncIterator[Session]:
    """A bot process, started and stopped as ``paperboy run`` does."""
    bot = DiscordBot(
        archive, Settings.from_env({}), api.token, api_url=api.base, on_subscribe=on_subscribe, **options
    )
    await bot.start()
    try:
        yield Session(api, bot)
    finally:
        await bot.stop()


def checked(api: DiscordStandIn) -> DiscordStandIn:
    """Discord accepted every call, every message keeps its limits, and no reply pinged anyone."""
    assert api.errors == []
    for message in api.messages:
        shown = {"content": message.content, "embeds": message.embeds, "components": message.components}
        assert discord_violations(shown) == [], message
        assert message.pings == [], message
    return api


def play(archive: Archive, scenario: Scenario, **options: Any) -> tuple[DiscordStandIn, list[Subscription]]:
    """Run ``scenario`` against a started ``DiscordBot(**options)``; the subscriptions it welcomed."""
    welcomed: list[Subscription] = []

    async def on_subscribe(sub: Subscription) -> None:
        welcomed.append(sub)

    async def main() -> DiscordStandIn:
        async with stand_in() as api, running(archive, api, on_subscribe, **options) as session:
            await scenario(session)
        return api

    return checked(asyncio.run(main())), welcomed


# -- commands as Discord shows them ----------------------------------------------------------------


def test_commands_are_synced_globally_with_permissions_options_and_korean(seeded_sqlite: Archive) -> None:
    api, _ = play(seeded_sqlite, lambda session: asyncio.sleep(0))
    assert list(api.commands) == [None]  # no server was named: global commands
    synced = {c["name"]: c for c in api.commands[None]}
    assert sorted(synced) == sorted(
        [
            "help",
            "tag",
            "tags",
            "search",
            "latest",
            "paper",
            "similar",
            "subscribe",
            "unsubscribe",
            "settings",
        ]
    )
    for name in ("subscribe", "unsubscribe", "settings"):
        assert synced[name]["default_member_permissions"] == str(MANAGE_CHANNELS), name
        assert (synced[name]["dm_permission"], synced[name]["contexts"]) == (False, [0]), name  # servers only
    for name in ("tag", "search", "latest", "paper", "tags", "help"):
        assert synced[name]["default_member_permissions"] is None, name
    (tag,) = synced["tag"]["options"]
    assert (tag["name"], tag["required"], tag["autocomplete"], tag["max_length"]) == ("tag", True, True, 200)
    assert synced["tag"]["description_localizations"] == {"ko": "태그가 붙은 논문 (최신순)"}
    tags, mention = synced["subscribe"]["options"]
    assert (tags["name"], tags["required"], tags["autocomplete"]) == ("tags", False, True)
    assert (mention["name"], mention["type"], mention["required"]) == ("mention", 8, False)  # a role
    assert [o["name"] for o in synced["paper"]["options"]] == ["id"]


def test_a_development_server_gets_the_commands_and_nothing_is_global(seeded_sqlite: Archive) -> None:
    api, _ = play(seeded_sqlite, lambda session: asyncio.sleep(0), guild=GUILD)
    assert list(api.commands) == [GUILD]
    assert len(api.commands[GUILD]) == 10 and all(c["guild_id"] == str(GUILD) for c in api.commands[GUILD])


# -- lookups ------------------------------------------------------------------------------------------


def test_tag_vq_answers_visibly_with_a_card_per_paper_newest_first(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        asked = await session.command("tag", tag="vq")
        assert (asked.response.type, asked.ephemeral, len(asked.messages)) == (4, False, 1)
        (message,) = asked.messages
        assert message.content.startswith("**\\#vq** · 2 papers")
        assert [e["title"] for e in message.embeds] == [f"1. {VQ_TITLES[0]}", f"2. {VQ_TITLES[1]}"]
        assert f"/paper {VQGAN_ID}" in message.embeds[1]["description"]
        # One page: no Previous/Next, only a "similar" button per paper, carrying its id.
        assert [(b["label"], b["custom_id"]) for b in asked.buttons] == [
            ("≈ 1", "open:similar:mars-mixture-of-auto-regressive-models-dbf751e1"),
            ("≈ 2", f"open:similar:{VQGAN_ID}"),
        ]
        again = await session.command("tag", tag="#VQ")  # as people type it
        assert again.messages[0].embeds == message.embeds

    play(seeded_sqlite, scenario)


def test_next_and_previous_turn_the_page_in_place(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        first = await session.command("tag", tag="vision-language")
        (message,) = first.messages
        assert "page 1 of 2" in message.content and len(message.embeds) == 2
        assert [(b["label"], b.get("disabled", False)) for b in first.buttons] == [
            ("≈ 1", False),
            ("≈ 2", False),
            ("◀ Previous", True),
            ("Next ▶", False),
        ]
        assert [len(row["components"]) for row in message.components] == [2, 2]  # papers', then pages
        assert first.buttons[3]["custom_id"] == "page:tag:vision-language:2"
        turned = await session.press(message, "Next ▶")
        assert turned.response.type == 7  # the message itself is updated
        (same,) = turned.messages
        assert (same.id, same.edits, same.interaction_id) == (message.id, 1, message.interaction_id)
        assert "page 2 of 2" in same.content and [e["title"][:2] for e in same.embeds] == ["3.", "4."]
        assert [b.get("disabled", False) for b in buttons(same)] == [False, False, False, True]
        back = await session.press(same, "◀ Previous")
        assert "page 1 of 2" in back.messages[0].content and back.messages[0].edits == 2
        assert [m.id for m in session.api.messages_in(NEWS)] == [message.id]  # edited, never re-sent

    play(seeded_sqlite, scenario, page_size=2)


def test_pages_still_turn_after_a_restart(seeded_sqlite: Archive) -> None:
    """The cursor is in the button: a new process with no memory of the message pages it."""

    async def main() -> DiscordStandIn:
        async with stand_in() as api:
            async with running(seeded_sqlite, api, page_size=2) as before:
                (sent,) = (await before.command("tag", tag="vision-language")).messages
            async with running(seeded_sqlite, api, page_size=2) as after:
                turned = await after.press(sent, "Next ▶")
                assert turned.response.type == 7 and "page 2 of 2" in turned.messages[0].content
        return api

    checked(asyncio.run(main()))


def test_an_unknown_tag_suggests_tags_whose_buttons_open_their_page(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        asked = await session.command("tag", tag="vision")
        assert asked.ephemeral and "No paper is tagged #vision. Did you mean" in asked.text
        labels = [b["label"] for b in asked.buttons]
        assert "#vision-language" in labels
        opened = await session.press(asked.messages[0], "#vision-language")
        assert (opened.response.type, opened.ephemeral) == (4, False)  # a new message, for everyone
        assert opened.messages[0].content.startswith("**\\#vision-language** · 4 papers")

    play(seeded_sqlite, scenario)


def test_tags_search_in_korean_paper_latest_and_help(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        tags = await session.command("tags")
        assert not tags.ephemeral and "\\#vision-language · 4" in tags.text and "\\#vq · 2" in tags.text
        found = await session.command("search", query="코드북")
        assert not found.ephemeral and VQ_TITLES[1] in found.text
        paper = await session.command("paper", id=VQGAN_ID)
        assert not paper.ephemeral and paper.messages[0].embeds[0]["title"] == VQ_TITLES[1]
        assert "Appeared in the digest of 2024-06-18" in paper.messages[0].content
        latest = await session.command("latest")  # the Hugging Face listing: several messages
        assert not latest.ephemeral and latest.messages[0].content.startswith("**📰 Paperboy · 2025-12-11**")
        assert len(latest.messages) > 1 and all(m.interaction_id for m in latest.messages)
        shown = sum(1 for m in latest.messages for e in m.embeds if "(continued)" not in e["title"])
        assert shown == len(queries.latest_day(seeded_sqlite, None)[1])  # type: ignore[index]
        helped = await session.command("help", locale="ko")
        assert helped.ephemeral and "**/tag** · 태그가 붙은 논문 (최신순)" in helped.text
        assert "/start" not in helped.text  # Telegram's first contact has no Discord command

    play(seeded_sqlite, scenario)


def test_an_unknown_paper_id_is_an_ephemeral_error(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        asked = await session.command("paper", id="arxiv-9999.99999")
        assert (asked.response.type, asked.ephemeral) == (4, True)
        assert "No paper has the id 'arxiv-9999.99999'" in asked.text and "/search" in asked.text
        nothing = await session.command("search", query="zzzqqqxxx")
        assert nothing.ephemeral and 'Nothing matches "zzzqqqxxx"' in nothing.text

    play(seeded_sqlite, scenario)


# -- autocomplete ------------------------------------------------------------------------------------


@pytest.fixture
def many_tags(seeded_sqlite: Archive) -> Archive:
    """The seeds and the hostile papers: 60 more tags (``tag-number-N``), a Korean one."""
    seeded_sqlite.ingest(Digest(DAY, "hostile.txt", "daily-post", tuple(hostile_papers())))
    return seeded_sqlite


def test_tag_autocomplete_offers_at_most_25_prefix_matches_most_used_first(many_tags: Archive) -> None:
    counts = {t.tag: t.count for t in queries.tag_counts(many_tags)}

    async def scenario(session: Session) -> None:
        everything = await session.complete("tag", "tag", "")
        assert len(everything) == 25 and len(counts) > 25
        values = [c["value"] for c in everything]
        assert values == sorted(counts, key=lambda tag: (-counts[tag], tag))[:25]
        v = await session.complete("tag", "tag", "V")
        tags = [c["value"] for c in v]
        assert tags[:2] == ["vision-language", "vq"] and v[1] == {"name": "#vq · 3", "value": "vq"}
        assert all(t.startswith("v") for t in tags[:2]) and not any(t.startswith("v") for t in tags[2:])
        numbered = [c["value"] for c in await session.complete("tag", "tag", "tag-n")]
        assert len(numbered) == 25 and all(t.startswith("tag-number-") for t in numbered)
        assert [c["value"] for c in await session.complete("tag", "tag", "#VQ")] == ["vq"]
        assert [c["value"] for c in await session.complete("tag", "tag", "한국")] == ["한국어"]
        assert await session.complete("tag", "tag", "x" * 5000) == []
        assert await session.complete("tag", "tag", "'; DROP TABLE tags; --") == []
        several = await session.complete("subscribe", "tags", "llm vq vision-l")
        assert [c["value"] for c in several] == ["llm vq vision-language"]

    play(many_tags, scenario)
    assert [t.tag for t in complete_tags(many_tags, "v")][:2] == ["vision-language", "vq"]


# -- failures -------------------------------------------------------------------------------------------


def test_a_bug_gets_one_polite_line_and_the_trace_goes_to_the_log(
    seeded_sqlite: Archive, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the disk is on fire")

    async def scenario(session: Session) -> None:
        (sent,) = (await session.command("tag", tag="vq")).messages  # page 1 of 2
        monkeypatch.setattr(responder_module, "answer", broken)
        monkeypatch.setattr(responder_module, "turn_page", broken)
        asked = await session.command("tag", tag="vq")
        assert (asked.ephemeral, asked.text) == (True, responder_module.SORRY)
        pressed = await session.press(sent, "Next ▶")
        assert (pressed.ephemeral, pressed.text) == (True, responder_module.SORRY)

    api, _ = play(seeded_sqlite, scenario, page_size=1)
    assert [m.content for m in api.messages if m.flags & EPHEMERAL] == [responder_module.SORRY] * 2
    failures = [r for r in caplog.records if r.name == "paperboy.discord" and r.exc_info]
    assert len(failures) == 2 and "the disk is on fire" in str(failures[0].exc_info[1])  # type: ignore[index]


def test_a_slow_lookup_is_acknowledged_first_then_answered(seeded_sqlite: Archive) -> None:
    async def scenario(session: Session) -> None:
        asked = await session.command("tag", tag="vq")
        assert asked.response.type == 5  # "Paperboy is thinking…", then the answer in its place
        assert len(asked.messages) == 1 and asked.messages[0].content.startswith("**\\#vq**")
        # "Thinking" was shown to the channel, but a mistake is answered to the asker alone.
        wrong = await session.command("tag", tag="no-such-tag-at-all")
        assert wrong.response.type == 5 and wrong.ephemeral and "No paper is tagged" in wrong.text
        assert isinstance(session.api, StandIn)
        assert session.api.placeholders_deleted == [int(wrong.payload["id"])]
        page = await session.command("tag", tag="vision-language")
        turned = await session.press(page.messages[0], "Next ▶")
        assert turned.response.type == 6 and "page 2 of 2" in session.api.messages_in(NEWS)[-1].content

    play(seeded_sqlite, scenario, page_size=2, defer_after=0.0)


# -- replies within Discord's limits ----------------------------------------------------------------


def test_a_page_of_ten_huge_papers_is_one_message_within_discords_limits(templates: Templates) -> None:
    papers = [paper_view(paper, "https://papers.example") for paper in hostile_papers()]
    page = PapersPage("#huge", tuple(papers * 3)[:10], 1, 3, 30, 10, older="tag:huge:2")
    (reply,) = render_answer(templates, page, base_url="https://papers.example")
    message = {"content": reply.content, "embeds": list(reply.embeds)}
    assert discord_violations(message) == [] and len(reply.embeds) == 10
    assert sum(embed_size(embed) for embed in reply.embeds) <= 6000
    long_title = reply.embeds[3]["title"]
    assert long_title.startswith("4. An extremely long title An") and long_title.endswith("…")
    pages = [(b.label, b.cursor) for b in reply.buttons if b.action == "page"]
    assert pages == [("◀ Previous", None), ("Next ▶", "tag:huge:2")]
    assert [b.label for b in reply.buttons if b.action == "open"] == [f"≈ {n}" for n in range(1, 11)]
    assert reply.embeds[0]["url"] == "https://papers.example/papers/html-like-0001.html"
