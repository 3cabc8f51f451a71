"""Discovery in Discord, end to end: the real discord.py client against the stand-in, over the
seeds analysed by ``bot.suggest.refresh``: /tag marks the model's suggestions on their cards,
/similar answers the nearest papers, and a card's "similar" button answers the same."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from bot.archive import candidates, queries
from bot.archive.store import Archive
from bot.channels.discord.bot import DiscordBot
from bot.config import Settings
from bot.desk import Desk, drafts
from bot.suggest.similar import similar
from bot.suggest.store import folder_for
from tests.discord_standin import DiscordStandIn
from tests.discord_standin_rules import EPHEMERAL
from tests.test_discord_bot import GUILD, Session, checked, stand_in
from tests.test_discord_desk import Room
from tests.test_telegram_discovery import CODE, NOW, SIMVLG, VLM, discovered, post_of, room

__all__ = ["discovered", "room"]  # the fixtures, shared with the Telegram tests

Scenario = Callable[[Session], Awaitable[Any]]


def play(archive: Archive, settings: Settings, scenario: Scenario, **options: Any) -> DiscordStandIn:
    async def main() -> DiscordStandIn:
        async with stand_in() as api:
            bot = DiscordBot(archive, settings, api.token, api_url=api.base, **options)
            await bot.start()
            try:
                await scenario(Session(api, bot))
            finally:
                await bot.stop()
            return api

    return checked(asyncio.run(main()))  # every call accepted, every message within Discord's limits


def test_tag_cards_mark_the_suggested_papers_and_not_the_curators(room: tuple[Archive, Settings]) -> None:
    archive, settings = room

    async def scenario(session: Session) -> None:
        asked = await session.command("tag", tag="vision-language")
        (message,) = asked.messages
        assert message.content.startswith("**\\#vision-language** · 9 papers (5 suggested")
        cards = {e["title"]: e["description"] for e in message.embeds}
        assert len(cards) == 9
        paligemma = next(d for t, d in cards.items() if "PaliGemma" in t)
        simvlg_title, simvlg = next((t, d) for t, d in cards.items() if "SimVLG" in t)
        assert "Suggested" not in paligemma and "☆" not in next(t for t in cards if "PaliGemma" in t)
        assert simvlg_title.startswith("8. ☆ SimVLG")
        assert simvlg.startswith("☆ **Suggested** for #vision-language by the model")

    play(archive, settings, scenario, page_size=10)


def test_similar_and_the_cards_similar_button_answer_the_nearest_papers(
    room: tuple[Archive, Settings],
) -> None:
    archive, settings = room
    expected = similar(archive, folder_for(settings.database_url, settings.data_dir), SIMVLG, 5)

    async def scenario(session: Session) -> None:
        asked = await session.command("similar", id="simvlg")
        (message,) = asked.messages
        assert not asked.ephemeral
        (embed,) = message.embeds
        assert embed["title"].startswith("Like: SimVLG")
        lines = embed["description"].splitlines()
        assert [line for line in lines if line.startswith("/paper ")] == [
            f"/paper {r.id}" for r in expected.similar
        ]
        assert SIMVLG not in embed["description"]  # never the paper itself

        page = await session.command("tag", tag="vision-language")
        pressed = await session.press(page.messages[0], "≈ 8")  # SimVLG's card
        assert pressed.messages[0].id != page.messages[0].id  # a new message, the page stays
        assert pressed.messages[0].embeds == message.embeds

        unknown = await session.command("similar", id="no-such-paper")
        assert unknown.ephemeral and "No paper has the id" in unknown.messages[0].content

    play(archive, settings, scenario, page_size=10)


# -- the curator's side: /candidates and the preview's suggested tags --------------------------------

CURATOR, MALLORY = 1_500_000_000_000_000_001, 1_500_000_000_000_000_003
DESK_CHANNEL = 1_200_000_000_000_000_009


def curating(
    archive: Archive, settings: Settings, scenario: Callable[[Room], Awaitable[Any]]
) -> DiscordStandIn:
    curators = Settings.from_env({"PAPERBOY_CURATORS": f"discord:{CURATOR}"}).curators
    settings = dataclasses.replace(settings, curators=curators)

    async def main() -> DiscordStandIn:
        async with stand_in() as api:
            api.add_channel(DESK_CHANNEL, GUILD, "text", name="desk")
            desk = Desk(archive, settings, clock=lambda: NOW)
            bot = DiscordBot(archive, settings, api.token, api_url=api.base, desk=desk)
            await bot.start()
            try:
                await api.gateway.wait_for_session(timeout=30)
                await scenario(Room(api, bot, archive, []))
            finally:
                await bot.stop()
            return api

    return checked(asyncio.run(main()))


def test_candidates_on_discord_are_the_curators_and_a_pick_is_an_attached_draft(
    room: tuple[Archive, Settings],
) -> None:
    archive, settings = room
    candidates.store_pull(archive, [VLM, CODE], now=NOW)

    async def scenario(desk: Room) -> None:
        api = desk.api
        refused = await desk.run(api.interaction("command", DESK_CHANNEL, name="candidates", user_id=MALLORY))
        assert refused.summary.content == "Only curators can see the candidates."
        assert refused.summary.flags & EPHEMERAL

        listing = await desk.run(api.interaction("command", DESK_CHANNEL, name="candidates", user_id=CURATOR))
        assert listing.summary.flags & EPHEMERAL and listing.summary.content == "**Candidates** · 2 newest"
        described = listing.summary.embeds[0]["description"]
        assert "▲ 42" in described and "#vision-language" in described.split(CODE.title)[0]
        labels = [c["label"] for row in listing.summary.components for c in row["components"]]
        assert labels == ["☐ 1", "☐ 2", "📝 Draft the chosen"]

        toggled = await desk.press(listing, "☐ 1")
        labels = [c["label"] for row in toggled.components for c in row["components"]]
        assert labels == ["☑ 1", "☐ 2", "📝 Draft the chosen"]
        payload = api.interaction(
            "component", DESK_CHANNEL, message_id=listing.summary.id, custom_id="cand:draft", user_id=CURATOR
        )
        drafted = await desk.run(payload)
        assert "send it back with /post file:" in drafted.messages[-1].content
        ((_, name, data),) = api.files_sent
        assert (
            name == f"draft-{NOW.date()}.txt"
            and VLM.title in data.decode()
            and CODE.title not in data.decode()
        )

    curating(archive, settings, scenario)
    assert [c.status for c in candidates.get(archive, [VLM.id, CODE.id])] == ["drafted", "new"]


def test_a_discord_preview_accepts_an_offered_tag_into_the_draft(room: tuple[Archive, Settings]) -> None:
    archive, settings = room
    abstract = queries.find_paper(archive, SIMVLG).abstract
    title = "A Simple Pretraining of Visual Language Models With Merged Tokens"

    async def scenario(desk: Room) -> None:
        preview = await desk.post(post_of(title, abstract, "#llm").encode(), user=CURATOR)
        assert "☆ suggested: *#vision-language*" in preview.text.replace("\\#", "#")
        button = preview.button("✅ 1 #vision-language")
        assert len(button["custom_id"]) <= 100
        edited = await desk.press(preview, "✅ 1 #vision-language")
        text = "\n".join(e.get("description", "") for e in edited.embeds)
        assert "#llm #vision-language" in text.replace("\\#", "#")
        draft_id = button["custom_id"].split(":")[2]
        assert "\n#llm #vision-language\n" in drafts.get(archive, draft_id, now=NOW).text

    curating(archive, settings, scenario)
