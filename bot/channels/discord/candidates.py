"""``/candidates`` on Discord, for curators: the list (shown only to them), its toggles and Draft.

The choosing is ``bot.desk.choosing``'s. The toggles are ``DynamicItem`` buttons whose custom_id
says the candidate and whether it is chosen (``cand:+:ID`` / ``cand:-:ID``), so a press edits
the buttons in place and the message itself remembers the choice, after a restart too; Draft
(``cand:draft``) reads it back from the message pressed and answers with the draft as a
``.txt`` attachment, to complete and send back with ``/post file:``.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any

import discord

from bot.channels.discord.buttons import data_buttons
from bot.channels.discord.responder import NO_MENTIONS
from bot.desk import Desk, choosing
from bot.render._split import chunks
from bot.render.discord import COLOR, DESCRIPTION_ROOM
from bot.render.environment import Templates

log = logging.getLogger("paperboy.discord")
Interaction = discord.Interaction[Any]
TEMPLATE = re.compile(r"cand:(?P<rest>draft|[+-]:[a-z0-9][a-z0-9._-]{0,55})")
ONLY_CURATORS = "Only curators can see the candidates."
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
DRAFT_LABEL = "📝 Draft the chosen"
PER_ROW = 5


class DiscordCandidates:
    def __init__(self, desk: Desk, templates: Templates) -> None:
        self.desk, self.templates = desk, templates
        self.buttons = data_buttons(TEMPLATE, self.press, primary=lambda data: data == choosing.DRAFT)

    def curator(self, interaction: Interaction) -> bool:
        roles = {role.id for role in getattr(interaction.user, "roles", ())}
        return self.desk.curators.on_discord(interaction.user.id, roles)

    async def candidates(self, interaction: Interaction) -> None:
        if not self.curator(interaction):
            log.info("discord user %s asked for the candidates; not a curator", interaction.user.id)
            await interaction.response.send_message(
                ONLY_CURATORS, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
            return
        found = await asyncio.to_thread(choosing.listing, self.desk)
        if not found.offered:
            await interaction.response.send_message(choosing.NOTHING, ephemeral=True)
            return
        body = self.templates.render("discord/reply/candidates.md", {"listing": found}).strip()
        embeds = [
            discord.Embed.from_dict({"description": p, "color": COLOR})
            for p in chunks(body, DESCRIPTION_ROOM)
        ]
        await interaction.response.send_message(
            content=f"**Candidates** · {len(found.offered)} newest",
            embeds=embeds,  # titles cut at 200: ten candidates stay well inside 6,000 characters
            view=self.view(list(found.choices)),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    def view(self, choices: list[choosing.Choice]) -> discord.ui.View:
        view = discord.ui.View(timeout=None)
        for index, choice in enumerate(choices):
            item = self.buttons(choice.data, choice.label)
            item.row = index // PER_ROW
            view.add_item(item)
        draft = self.buttons(choosing.DRAFT, DRAFT_LABEL)
        draft.row = min(4, -(-len(choices) // PER_ROW))
        view.add_item(draft)
        return view

    async def press(self, interaction: Interaction, data: str) -> None:
        """A toggle flips in place; Draft answers with the draft file. Errors are caught here
        (discord.py only logs a button's)."""
        try:
            if not self.curator(interaction):
                await interaction.response.send_message(ONLY_CURATORS, ephemeral=True)
                return
            shown = _custom_ids(interaction.message)
            if data == choosing.DRAFT:
                await self._draft(interaction, shown)
                return
            choices = [
                choosing.Choice(n, m["id"], chosen=m["state"] == "-")
                for n, item in enumerate(shown, start=1)
                if (m := choosing.CHOICE.fullmatch(item))
            ]
            flipped = [
                choosing.Choice(c.number, c.candidate_id, not c.chosen) if c.data == data else c
                for c in choices
            ]
            await interaction.response.edit_message(view=self.view(flipped))
        except Exception as exc:
            log.error("discord interaction %s (candidates) failed", interaction.id, exc_info=exc)
            if not interaction.response.is_done():
                await interaction.response.send_message(
                    "Sorry, something went wrong on our side.", ephemeral=True
                )

    async def _draft(self, interaction: Interaction, shown: list[str]) -> None:
        curator = f"discord:{interaction.user.id}"
        done = await asyncio.to_thread(choosing.draft, self.desk, choosing.chosen(shown), curator)
        if done.pick is None:
            await interaction.response.send_message(done.text, ephemeral=True)
            return
        attached = discord.File(io.BytesIO(done.pick.text.encode()), filename=done.pick.name)
        await interaction.response.send_message(
            done.text.replace("send the file back to me", "send it back with /post file:"),
            file=attached,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


def _custom_ids(message: discord.Message | None) -> list[str]:
    if message is None:
        return []
    found: list[str] = []
    for row in message.components:
        for child in getattr(row, "children", ()):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                found.append(custom_id)
    return found
