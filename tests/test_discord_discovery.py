"""Discovery in Discord, end to end: the real discord.py client against the stand-in, over the
seeds analysed by ``bot.suggest.refresh``: /tag marks the model's suggestions on their cards,
/similar answers the nearest papers, and a card's "similar" button answers the same."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from bot.archive.store import Archive
from bot.channels.discord.bot import DiscordBot
from bot.config import Settings
from bot.suggest.similar import similar
from bot.suggest.store import folder_for
from tests.discord_standin import DiscordStandIn
from tests.test_discord_bot import Session, checked, stand_in
from tests.test_telegram_discovery import SIMVLG, discovered, room

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
