"""Buttons whose custom_id is all they carry (``cand:+:ID``, ``dtag:a:DRAFT:N:HASH``).

A ``DynamicItem`` is matched by its custom_id's pattern, so a press reaches the bot after a
restart too, and the button is rebuilt from the message pressed (its custom_id and label): the
message, not the process, remembers what it offered. Each kind of button differs only in its
pattern, which of its buttons is the primary one, and where a press goes.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, Self

import discord

Interaction = discord.Interaction[Any]
ButtonItem = discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]]
#: A button's label holds at most 80 characters (Discord's limit).
LABEL = 80


class DataButton(ButtonItem, template=re.compile(r"(?!)")):  # matches nothing: the bots' kinds do
    """``DataButton(data, label)``: a button whose custom_id is ``data``."""

    def __init__(self, data: str, label: str = "") -> None:
        style = discord.ButtonStyle.success if self.primary(data) else discord.ButtonStyle.secondary
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label=(label or data)[:LABEL], custom_id=data, style=style
        )
        super().__init__(button)
        self.data = data

    @staticmethod
    def primary(data: str) -> bool:
        """Whether this button is the action to take (shown as such)."""
        return False

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match.group(0), getattr(item, "label", None) or "")

    async def callback(self, interaction: Interaction) -> None:
        await self.pressed(interaction)

    async def pressed(self, interaction: Interaction) -> None:
        raise NotImplementedError


def data_buttons(
    template: re.Pattern[str],
    press: Callable[[Interaction, str], Awaitable[None]],
    *,
    primary: Callable[[str], bool],
) -> type[DataButton]:
    """A kind of button: those whose custom_id matches ``template``; a press of one reaches
    ``press(interaction, data)``, and ``primary(data)`` ones are shown as the action to take."""

    is_primary = primary

    class BotDataButton(DataButton, template=template):
        @staticmethod
        def primary(data: str) -> bool:
            return is_primary(data)

        async def pressed(self, interaction: Interaction) -> None:
            await press(interaction, self.data)

    return BotDataButton
