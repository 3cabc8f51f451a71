"""The curator's desk on Discord: ``/post``, its preview, and the preview's buttons.

``/post file:`` takes the post as an attachment (``.txt``/``.md``, checked by name and size before
it is fetched, and fetched with the same cap); ``/post`` alone opens a modal to type a short post
(a text input holds 4,000 characters). Only curators may post (``PAPERBOY_CURATORS``: user ids,
or role ids checked against the member's roles), checked here on every interaction, whatever
Discord shows to whom; anyone else gets one line.

The preview is shown only to the curator (ephemeral): the summary with the buttons, then the
first message of the digest exactly as subscribers will get it (``render_discord``). The buttons
are ``DynamicItem``s whose custom_id is ``desk:ACTION:DRAFT``, so they work after a restart;
the desk decides what a press does and refuses a forged or stale one.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Self

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot.channels.discord.buttons import ButtonItem, data_buttons
from bot.channels.discord.candidates import DiscordCandidates
from bot.channels.discord.replies import clip
from bot.channels.discord.responder import NO_MENTIONS
from bot.desk import LIFETIME, ONLY_CURATORS, Desk, Outcome, Received, buttons, intake, retag
from bot.desk.drafts import ID_PATTERN
from bot.errors import InputError
from bot.render._split import chunks
from bot.render.discord import COLOR, CONTENT, DESCRIPTION_ROOM, pack, render_discord
from bot.render.environment import Templates

log = logging.getLogger("paperboy.discord")
Interaction = discord.Interaction[Any]
TEMPLATE = re.compile(rf"desk:(?P<action>[a-z]{{1,8}}):(?P<draft>{ID_PATTERN})")
#: A modal's text input holds at most 4,000 characters (Discord's limit).
MODAL_TEXT = 4000
#: Discord drops an interaction unanswered after 3 s: a slower preview says "thinking" first.
DEFER_AFTER = 1.5
STYLES = {"now": discord.ButtonStyle.success, "later": discord.ButtonStyle.primary}
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
Press = Callable[[Interaction, str, str], Awaitable[None]]


class DeskButton(ButtonItem, template=TEMPLATE):
    """A preview's button: ``desk:ACTION:DRAFT``; ``desk_buttons`` says what a press does."""

    def __init__(self, action: str, draft_id: str, label: str = "") -> None:
        style = STYLES.get(action, discord.ButtonStyle.secondary)
        button: discord.ui.Button[discord.ui.View] = discord.ui.Button(
            label=label or action, custom_id=f"desk:{action}:{draft_id}", style=style
        )
        super().__init__(button)
        self.action, self.draft_id = action, draft_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match["action"], match["draft"], getattr(item, "label", None) or "")

    async def callback(self, interaction: Interaction) -> None:
        await self.pressed(interaction)

    async def pressed(self, interaction: Interaction) -> None:
        raise NotImplementedError


def desk_buttons(press: Press) -> type[DeskButton]:
    """The bot's preview button type, whose presses reach ``press``."""

    class BotDeskButton(DeskButton, template=TEMPLATE):
        async def pressed(self, interaction: Interaction) -> None:
            await press(interaction, self.action, self.draft_id)

    return BotDeskButton


class PostModal(discord.ui.Modal, title="Post the day's digest"):
    """A short post typed in Discord (a longer one goes as a file: /post file:)."""

    text: discord.ui.TextInput[PostModal] = discord.ui.TextInput(
        label="The post (a date line, then the papers)",
        style=discord.TextStyle.paragraph,
        max_length=MODAL_TEXT,
    )

    def __init__(self, submit: Callable[[Interaction, str], Awaitable[None]]) -> None:
        super().__init__(timeout=30 * 60)
        self.submit = submit

    async def on_submit(self, interaction: Interaction) -> None:
        await self.submit(interaction, self.text.value)

    async def on_error(self, interaction: Interaction, error: Exception, /) -> None:  # type: ignore[override]
        log.error("discord modal %s failed", interaction.id, exc_info=error)
        await tell(interaction, SORRY)


class DiscordDesk:
    """What the bot does with ``/post``, its modal and the preview's buttons."""

    def __init__(self, desk: Desk, templates: Templates, *, defer_after: float = DEFER_AFTER) -> None:
        self.desk, self.templates, self.defer_after = desk, templates, defer_after
        self.buttons = desk_buttons(self.press)
        self.retag_buttons = data_buttons(
            retag.BUTTON, self.retagged, primary=lambda data: data.startswith("dtag:a:")
        )
        self._tasks: set[asyncio.Task[None]] = set()

    def curator(self, interaction: Interaction) -> bool:
        user = interaction.user
        roles = {role.id for role in getattr(user, "roles", ())}
        return self.desk.curators.on_discord(user.id, roles)

    async def post(self, interaction: Interaction, file: discord.Attachment | None) -> None:
        if not self.curator(interaction):
            log.info("discord user %s tried to post; not in PAPERBOY_CURATORS", interaction.user.id)
            await tell(interaction, ONLY_CURATORS)
            return
        if file is None:
            await interaction.response.send_modal(PostModal(self.typed))
            return
        try:
            intake.check_file(file.filename, file.size)
        except InputError as exc:
            await self._show(interaction, self.desk.refuse(str(exc)), deferred=False)
            return
        await self._answer(interaction, self._fetched(interaction, file))

    async def typed(self, interaction: Interaction, text: str) -> None:
        """The modal's post."""
        if not self.curator(interaction):
            await tell(interaction, ONLY_CURATORS)
            return
        receive = self.desk.receive_text
        curator, where = f"discord:{interaction.user.id}", f"discord:{interaction.channel_id}"
        await self._answer(interaction, asyncio.to_thread(receive, curator, text, reply_to=where))

    async def _fetched(self, interaction: Interaction, file: discord.Attachment) -> Received:
        try:
            data = await intake.fetch(file.url)
        except InputError as exc:
            return self.desk.refuse(str(exc))
        curator, where = f"discord:{interaction.user.id}", f"discord:{interaction.channel_id}"
        return await asyncio.to_thread(self.desk.receive_file, curator, data, file.filename, reply_to=where)

    async def _answer(self, interaction: Interaction, work: Awaitable[Received]) -> None:
        """``work``'s preview; if it is slow, the interaction is acknowledged meanwhile."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        if not done:
            await interaction.response.defer(ephemeral=True, thinking=True)
        await self._show(interaction, await task, deferred=not done)

    # -- the preview -----------------------------------------------------------------------------

    def render(self, received: Received) -> list[dict[str, Any]]:
        """The preview's messages (keyword arguments of a send): the summary, the last part with
        the buttons, then the digest's first message."""
        context = {"preview": received.preview, "hours": int(LIFETIME.total_seconds() // 3600)}
        body = self.templates.render("discord/reply/preview.md", context).strip()
        embeds = [{"description": piece, "color": COLOR} for piece in chunks(body, DESCRIPTION_ROOM)]
        messages = [_message(m.content, m.embeds) for m in pack("", embeds)]
        draft = received.draft
        if draft is not None:
            view = discord.ui.View(timeout=None)
            for label, action in buttons(received.preview):
                view.add_item(self.buttons(action, draft.id, label))
            for index, offer in enumerate(received.preview.offers):  # two offers a row, rows 1-4
                for label, data in offer.buttons(draft.id):
                    item = self.retag_buttons(data, label)
                    item.row = 1 + index // 2
                    view.add_item(item)
            messages[-1]["view"] = view
            if received.preview.digest is not None:
                first = render_discord(self.templates, received.preview.digest)[0]
                messages.append(_message(first.content, first.embeds))
        return messages

    async def _show(self, interaction: Interaction, received: Received, *, deferred: bool) -> None:
        first, *rest = self.render(received)
        if deferred:
            await interaction.edit_original_response(**first)
        else:
            await interaction.response.send_message(**first, ephemeral=True)
        for message in rest:
            await interaction.followup.send(**message, ephemeral=True)

    # -- the buttons -----------------------------------------------------------------------------

    async def press(self, interaction: Interaction, action: str, draft_id: str) -> None:
        """A preview button. discord.py only logs a button's errors, so they are caught here."""
        try:
            if not self.curator(interaction):
                await tell(interaction, ONLY_CURATORS)
                return
            curator = f"discord:{interaction.user.id}"
            outcome = await asyncio.to_thread(self.desk.act, draft_id, action, curator)
            if outcome.keep:
                await tell(interaction, outcome.text)
                return
            shown = clip(f"{'✅' if outcome.ok else '❌'} {outcome.text}", CONTENT)
            await interaction.response.edit_message(content=shown, view=None)
            if outcome.publish:
                task = asyncio.create_task(self._publish(interaction, outcome), name="discord-desk-publish")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except Exception as exc:
            log.error("discord interaction %s (desk %s) failed", interaction.id, action, exc_info=exc)
            await tell(interaction, SORRY)

    async def retagged(self, interaction: Interaction, data: str) -> None:
        """A suggested tag's ✅ or ✖: the draft (✅) and the preview change in place."""
        try:
            if not self.curator(interaction):
                await tell(interaction, ONLY_CURATORS)
                return
            shown = [
                custom_id
                for row in (interaction.message.components if interaction.message else [])
                for child in getattr(row, "children", ())
                if (custom_id := getattr(child, "custom_id", None))
            ]
            curator = f"discord:{interaction.user.id}"
            done = await asyncio.to_thread(self.desk.retag, data, curator, shown)
            if done.received is None:
                await tell(interaction, done.text)
                return
            (summary,) = [m for m in self.render(done.received) if "view" in m]
            await interaction.response.edit_message(**summary)
            await interaction.followup.send(done.text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except Exception as exc:
            log.error("discord interaction %s (desk tag) failed", interaction.id, exc_info=exc)
            await tell(interaction, SORRY)

    async def _publish(self, interaction: Interaction, outcome: Outcome) -> None:
        """The day goes out (which may take minutes); then one line says how it went."""
        try:
            text = await self.desk.publish(outcome)
        except Exception:
            log.exception("publishing %s for a curator failed", outcome.day)
            day = outcome.day
            text = f"Publishing {day} failed; it is stored, and `paperboy publish {day}` sends it."
        if text:
            try:
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException as exc:  # the interaction's 15 minutes are over
                log.warning("could not tell the curator how publishing went: %s", exc)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def install(tree: app_commands.CommandTree[Any], desk: DiscordDesk, picks: DiscordCandidates) -> None:
    """Add ``/post`` and ``/candidates`` to ``tree``."""

    @tree.command(
        name="candidates",
        description=locale_str(
            "Today's candidates, to start a post from (curators only)",
            ko="오늘의 후보 논문 (큐레이터 전용)",
        ),
    )
    async def candidates(interaction: discord.Interaction[discord.Client]) -> None:
        await picks.candidates(interaction)

    @tree.command(
        name="post",
        description=locale_str(
            "Post the day's digest (curators only): attach the file, or leave it out to type",
            ko="오늘의 글 올리기 (큐레이터 전용): 파일을 붙이거나 비워 두고 입력",
        ),
    )
    @app_commands.describe(
        file=locale_str("The post as a .txt or .md file (UTF-8)", ko="글 파일 (.txt 또는 .md, UTF-8)")
    )
    async def post(
        interaction: discord.Interaction[discord.Client], file: discord.Attachment | None = None
    ) -> None:
        await desk.post(interaction, file)


async def tell(interaction: Interaction, text: str) -> None:
    """One line only the asker sees, whether or not the interaction was acknowledged yet."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not tell interaction %s: %s", interaction.id, exc)


def _message(content: str, embeds: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "content": content or None,
        "embeds": [discord.Embed.from_dict(embed) for embed in embeds],
        "allowed_mentions": NO_MENTIONS,
    }
