"""Buttons whose ``custom_id`` is the cursor of the page they open, so the bot keeps no state.

A page's Previous and Next carry ``page:`` plus the cursor of the page before or after
(``page:tag:vq:2``); a suggested tag carries ``open:`` plus its first page's cursor; a greyed-out
end of the row carries ``idle:``. Cursors are at most 64 bytes (``bot.commands.cursor``), well
inside Discord's 100 characters. The buttons are discord.py ``DynamicItem``s: the client matches
any pressed ``custom_id`` against the template, whenever the message was sent, so paging works on
messages sent before a restart, and no view is kept in memory per message.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self

import discord

from bot.channels.discord.replies import Button

#: What a press asks for: the action (``page``, ``open``, ``idle``) and the cursor it carries.
Press = Callable[[discord.Interaction[Any], str, str], Awaitable[None]]
TEMPLATE = r"(?P<action>page|open|idle):(?P<cursor>.{1,96})"
PER_ROW = 5
_STYLES = {"page": discord.ButtonStyle.secondary, "open": discord.ButtonStyle.primary}

PATTERN = re.compile(TEMPLATE, re.DOTALL)

ButtonItem = discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]]


class CursorButton(ButtonItem, template=PATTERN):
    """A button whose ``custom_id`` is ``ACTION:CURSOR``; ``button_class`` says what a press does."""

    def __init__(self, action: str, cursor: str, label: str, *, disabled: bool = False) -> None:
        style = _STYLES.get(action, discord.ButtonStyle.secondary)
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label=label, custom_id=f"{action}:{cursor}", style=style, disabled=disabled
        )
        super().__init__(button)
        self.action, self.cursor = action, cursor

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match["action"], match["cursor"], getattr(item, "label", None) or "")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await self.pressed(interaction)

    async def pressed(self, interaction: discord.Interaction[Any]) -> None:
        raise NotImplementedError


def button_class(press: Press) -> type[CursorButton]:
    """The bot's button type, whose presses reach ``press``; register it with
    ``client.add_dynamic_items`` so that presses on any message find it."""

    class BotButton(CursorButton, template=PATTERN):
        async def pressed(self, interaction: discord.Interaction[Any]) -> None:
            await press(interaction, self.action, self.cursor)

    return BotButton


def make_view(kind: type[CursorButton], buttons: Sequence[Button]) -> discord.ui.View | None:
    """A reply's buttons as a view (rows of five), or None when it has none."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for index, spec in enumerate(buttons):
        if spec.cursor is None:  # an end of a row of pages: shown, greyed out
            item = kind("idle", str(index), spec.label, disabled=True)
        else:
            item = kind(spec.action, spec.cursor, spec.label)
        item.row = index // PER_ROW if spec.row is None else spec.row
        view.add_item(item)
    return view
