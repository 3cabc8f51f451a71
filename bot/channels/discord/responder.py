"""What the Discord bot does with an interaction: a slash command, an autocomplete, a button.

Every answer comes from ``bot.commands`` (the Telegram bot's too); this module only finds out
who asks from where (the channel's subscription address, a forum post's forum, whether the
member has Manage Channels, what the bot itself may do there), runs the lookup in a worker
thread so a slow query never stalls the gateway, and sends the rendered reply: lookups visible
to the channel, everything else (mistakes, refusals, subscriptions) only to whoever asked.
No reply pings anyone: the client's allowed mentions are none.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import discord
from discord import app_commands

from bot.archive.store import Archive
from bot.channels.discord.replies import PAGE_EMBEDS, Reply, Where, is_private, render_answer
from bot.channels.discord.views import button_class, make_view
from bot.commands import PAGE_SIZE, Answer, Error, PapersPage, Subscribed, answer, complete_tags, turn_page
from bot.config import Settings
from bot.models import Subscription, TagCount
from bot.render.environment import Templates
from bot.suggest.similar import SimilarIndex
from bot.suggest.store import features_of

log = logging.getLogger("paperboy.discord")
OnSubscribe = Callable[[Subscription], Awaitable[object]]
Choice = app_commands.Choice[str]
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
NO_MENTIONS = discord.AllowedMentions.none()
#: Discord drops an interaction unanswered after 3 s; a lookup slower than this says "thinking" first.
DEFER_AFTER = 1.5
#: Discord's limit on an autocomplete choice's name and value.
CHOICE_LENGTH = 100
#: What the bot needs where it posts digests, by target (names as discord.Permissions has them).
NEEDED: dict[Where, tuple[str, ...]] = {
    "channel": ("view_channel", "send_messages", "embed_links"),
    "thread": ("view_channel", "send_messages_in_threads", "embed_links"),
    "forum": ("view_channel", "send_messages", "send_messages_in_threads", "embed_links"),
}
#: How an interaction was acknowledged before its answer was ready.
Deferred = Literal["public", "private", "update"] | None


@dataclass(frozen=True)
class Target:
    """Where a subscription command applies: ``discord:ID`` and what the id is."""

    address: str
    where: Where


class Responder:
    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        templates: Templates,
        on_subscribe: OnSubscribe | None = None,
        *,
        page_size: int = PAGE_SIZE,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        if not 1 <= page_size <= PAGE_EMBEDS:
            raise ValueError(f"a Discord page shows 1 to {PAGE_EMBEDS} papers, not {page_size}")
        self.archive, self.settings, self.templates = archive, settings, templates
        self.on_subscribe = on_subscribe
        self.page_size, self.defer_after = page_size, defer_after
        self.buttons = button_class(self.press)
        #: The features /similar reads, open for the bot's life (reopened after each refresh).
        self.index = SimilarIndex(features_of(archive, settings.data_dir))

    async def lookup(self, interaction: discord.Interaction[Any], name: str, args: str = "") -> None:
        """/tag, /tags, /search, /latest, /paper, /help: what anyone may ask anywhere."""
        now = dt.datetime.now(dt.UTC)
        work = functools.partial(
            answer,
            self.archive,
            name,
            args,
            page_size=self.page_size,
            base_url=self.settings.base_url,
            today=now.astimezone(self.settings.timezone).date(),
            index=self.index,
        )
        result, deferred = await self._compute(interaction, work, "private" if name == "help" else "public")
        await self._reply(interaction, result, deferred)

    async def change(self, interaction: discord.Interaction[Any], name: str, args: str = "") -> None:
        """/subscribe, /unsubscribe, /settings: the subscription of the channel (or forum) asked in.

        Discord hides these commands from members without Manage Channels, but a server's admins
        can change that, so the member's permission is checked again here."""
        target = await self._target(interaction)
        is_admin = interaction.permissions.manage_channels
        where: Where = target.where if target else "channel"
        if name == "subscribe" and target and is_admin:
            lacking = missing(interaction.app_permissions, target.where)
            if lacking:
                await self._reply(interaction, cannot_post(lacking, target.where), None, where)
                return
        now = dt.datetime.now(dt.UTC)
        work = functools.partial(
            answer,
            self.archive,
            name,
            args,
            chat=target.address if target else None,
            is_admin=is_admin,
            now=now,
        )
        result, deferred = await self._compute(interaction, work, "private")
        await self._reply(interaction, result, deferred, where)
        if isinstance(result, Subscribed) and result.change != "already" and self.on_subscribe:
            await self.on_subscribe(result.subscription)

    async def complete_tag(self, interaction: discord.Interaction[Any], current: str) -> list[Choice]:
        """The tags starting with what is typed (then containing it), most used first, 25 at most."""
        found = await self._completions(current)
        return [Choice(name=f"#{t.tag} · {t.count}"[:CHOICE_LENGTH], value=t.tag) for t in found]

    async def complete_tags(self, interaction: discord.Interaction[Any], current: str) -> list[Choice]:
        """Several tags typed with spaces between: the last one completes, the others stay."""
        head, _, last = current.rpartition(" ")
        kept = " ".join(head.split())  # as typed, whitespace folded: it goes back into the box
        values = [f"{kept} {t.tag}".strip() for t in await self._completions(last)]
        return [Choice(name=value, value=value) for value in values if len(value) <= CHOICE_LENGTH]

    async def _completions(self, prefix: str) -> list[TagCount]:
        # Nothing can be said in an autocomplete box: a failure is logged and offers nothing.
        try:
            return await asyncio.to_thread(complete_tags, self.archive, prefix)
        except Exception:
            log.exception("tag completion for %r failed", prefix[:100])
            return []

    async def press(self, interaction: discord.Interaction[Any], action: str, cursor: str) -> None:
        """A button: ``page`` shows another page in the same message, ``open`` a suggested tag's
        first page as a new one. discord.py only logs a button's errors, so they are caught here."""
        try:
            if action == "idle":  # a greyed-out end of the row; only a forged press gets here
                await interaction.response.defer()
                return
            work = functools.partial(
                turn_page,
                self.archive,
                cursor,
                page_size=self.page_size,
                base_url=self.settings.base_url,
                index=self.index,
            )
            edit = action == "page"
            result, deferred = await self._compute(interaction, work, "update" if edit else "public")
            if edit and isinstance(result, PapersPage):
                message = self._message(render_answer(self.templates, result)[0])
                if deferred:
                    await interaction.edit_original_response(**message)
                else:
                    await interaction.response.edit_message(**message)
                return
            await self._reply(interaction, result, deferred)
        except Exception as exc:  # one polite line; the trace goes to the log
            await self.failed(interaction, exc)

    async def failed(self, interaction: discord.Interaction[Any], error: BaseException) -> None:
        """A bug or an outage: logged for the operator, one polite line for the user, no trace."""
        command = interaction.command.name if interaction.command else interaction.data
        log.error("discord interaction %s (%s) failed", interaction.id, command, exc_info=error)
        await self.tell(interaction, SORRY)

    async def tell(self, interaction: discord.Interaction[Any], text: str) -> None:
        """One line only the asker sees, whether or not the interaction was acknowledged yet."""
        if interaction.type is discord.InteractionType.autocomplete:
            return  # nothing can be said in an autocomplete box
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
            else:
                await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        except discord.HTTPException as exc:
            log.warning("could not tell interaction %s what went wrong: %s", interaction.id, exc)

    async def _compute(
        self, interaction: discord.Interaction[Any], work: Callable[[], Answer], defer: Deferred
    ) -> tuple[Answer, Deferred]:
        """``work()`` in a thread; if it is slow, the interaction is acknowledged meanwhile."""
        task = asyncio.ensure_future(asyncio.to_thread(work))
        done, _ = await asyncio.wait({task}, timeout=self.defer_after)
        if done:
            return task.result(), None
        if defer == "update":
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=defer == "private", thinking=True)
        return await task, defer

    async def _reply(
        self,
        interaction: discord.Interaction[Any],
        result: Answer,
        deferred: Deferred,
        where: Where = "channel",
    ) -> None:
        lang = str(interaction.locale)
        replies = render_answer(
            self.templates, result, lang=lang, base_url=self.settings.base_url, where=where
        )
        ephemeral = is_private(result)
        first, *rest = replies
        if deferred is None:
            await interaction.response.send_message(**self._message(first), ephemeral=ephemeral)
        elif deferred == ("private" if ephemeral else "public"):
            await interaction.edit_original_response(**self._message(first))
        else:  # the "thinking" message shows to the wrong people, or a button's message must stay
            if deferred != "update":
                await interaction.delete_original_response()
            await interaction.followup.send(**self._message(first), ephemeral=ephemeral)
        for reply in rest:
            await interaction.followup.send(**self._message(reply), ephemeral=ephemeral)

    def _message(self, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {
            "content": reply.content or None,
            "embeds": [discord.Embed.from_dict(embed) for embed in reply.embeds],
            "allowed_mentions": NO_MENTIONS,
        }
        view = make_view(self.buttons, reply.buttons)
        if view is not None:
            message["view"] = view
        return message

    async def _target(self, interaction: discord.Interaction[Any]) -> Target | None:
        """The channel asked in; a forum post stands for its forum, which gets a post a day."""
        channel = interaction.channel
        if interaction.guild_id is None or channel is None:
            return None  # a direct message: subscriptions belong to a server's channels
        if not isinstance(channel, discord.Thread):
            return Target(f"discord:{channel.id}", "channel")
        parent: object = channel.parent
        if parent is None:
            try:
                parent = await interaction.client.fetch_channel(channel.parent_id)
            except discord.HTTPException:
                parent = None
        if isinstance(parent, discord.ForumChannel):
            return Target(f"discord:{parent.id}", "forum")
        return Target(f"discord:{channel.id}", "thread")


_LABELS = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "send_messages_in_threads": "Send Messages in Threads",
    "embed_links": "Embed Links",
}


def missing(permissions: discord.Permissions, where: Where) -> list[str]:
    """The permissions the bot lacks to post digests in a ``where``, as Discord's settings name them."""
    return [_LABELS[name] for name in NEEDED[where] if not getattr(permissions, name)]


def cannot_post(lacking: list[str], where: Where) -> Error:
    names = " and ".join([", ".join(lacking[:-1]), lacking[-1]] if len(lacking) > 1 else lacking)
    return Error(
        f"Paperboy cannot post the digest in this {where} yet: it needs {names} here."
        " Grant them to Paperboy's role or in this channel's permissions, then /subscribe again."
    )
