"""The slash commands, as Discord shows them: names, options, permissions and Korean descriptions.

Each command is a thin adapter over ``bot.commands`` through the ``Responder``; descriptions come
from the shared catalogue (``bot.commands.catalogue``), so /help, Telegram's menu and Discord's
command list say the same. The subscription commands are shown only to members with Manage
Channels (``default_member_permissions``; a server's admins can change that, so the responder
checks the member's permission again) and only in servers. String options are capped at the
length a command takes, which Discord enforces in its client; a forged longer value still gets
a clear answer from ``bot.commands``.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot.channels.discord.responder import Responder
from bot.commands import MAX_ARGUMENT
from bot.commands.catalogue import BY_NAME

log = logging.getLogger("paperboy.discord")
#: Room left in /subscribe's argument for the role, which travels as ``<@&ID>`` (≤ 25 characters).
TAGS_LENGTH = MAX_ARGUMENT - 25
EVERYONE = "@everyone cannot be the role to mention: pick a role, or leave mention empty."


def text(english: str, korean: str) -> locale_str:
    """A description with its Korean translation (``Translator`` hands it to Discord)."""
    return locale_str(english, ko=korean)


def about(name: str) -> locale_str:
    info = BY_NAME[name]
    return text(info.description, info.description_ko)


class Translator(app_commands.Translator):
    """Korean descriptions for Discord clients set to Korean; every other locale sees English."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        if locale is discord.Locale.korean:
            korean = string.extras.get("ko")
            return korean if isinstance(korean, str) else None
        return None


class CommandTree(app_commands.CommandTree[discord.Client]):
    """The tree with Paperboy's commands and its one error handler."""

    def __init__(self, client: discord.Client, responder: Responder) -> None:
        super().__init__(client)
        self.responder = responder
        install(self, responder)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """A value Discord could not give us (a role since deleted) or a failed check gets a line
        saying so; anything else is a bug or an outage: logged, and one polite line."""
        if isinstance(error, app_commands.TransformerError):
            kind = error.transformer.type.name
            await self.responder.tell(
                interaction, f"That {kind} could not be read; pick it again from the list."
            )
        elif isinstance(error, app_commands.CheckFailure):
            await self.responder.tell(interaction, str(error) or "You cannot use this command here.")
        else:
            cause = error.original if isinstance(error, app_commands.CommandInvokeError) else error
            await self.responder.failed(interaction, cause)


Interaction = discord.Interaction[discord.Client]
Text = app_commands.Range[str, 1, MAX_ARGUMENT]
Tags = app_commands.Range[str, 1, TAGS_LENGTH]


def install(tree: CommandTree, respond: Responder) -> None:
    """Add the commands to ``tree``; each hands its options to ``respond`` as the argument text."""

    @tree.command(name="help", description=about("help"))
    async def help_(interaction: Interaction) -> None:
        await respond.lookup(interaction, "help")

    @tree.command(name="tag", description=about("tag"))
    @app_commands.describe(tag=text("A tag, as in vq; suggestions appear as you type", "태그 (예: vq)"))
    async def tag(interaction: Interaction, tag: Text) -> None:
        await respond.lookup(interaction, "tag", tag)

    @tag.autocomplete("tag")
    async def tag_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await respond.complete_tag(interaction, current)

    @tree.command(name="tags", description=about("tags"))
    async def tags(interaction: Interaction) -> None:
        await respond.lookup(interaction, "tags")

    @tree.command(name="search", description=about("search"))
    @app_commands.describe(
        query=text("Words to look for, in English or Korean", "찾을 단어 (영어 또는 한국어)")
    )
    async def search(interaction: Interaction, query: Text) -> None:
        await respond.lookup(interaction, "search", query)

    @tree.command(name="latest", description=about("latest"))
    async def latest(interaction: Interaction) -> None:
        await respond.lookup(interaction, "latest")

    @tree.command(name="paper", description=about("paper"))
    @app_commands.rename(paper_id="id")
    @app_commands.describe(paper_id=text("The paper's id, as /tag and /search show it", "논문 id"))
    async def paper(interaction: Interaction, paper_id: Text) -> None:
        await respond.lookup(interaction, "paper", paper_id)

    @tree.command(name="similar", description=about("similar"))
    @app_commands.rename(paper_id="id")
    @app_commands.describe(paper_id=text("The paper's id, as /tag and /search show it", "논문 id"))
    async def similar(interaction: Interaction, paper_id: Text) -> None:
        await respond.lookup(interaction, "similar", paper_id)

    @tree.command(name="subscribe", description=about("subscribe"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    @app_commands.describe(
        tags=text(
            "Only papers with these tags, separated by spaces (empty: every paper)", "태그 (빈칸: 전체)"
        ),
        mention=text("A role to mention when the digest has papers for this channel", "알림을 받을 역할"),
    )
    async def subscribe(
        interaction: Interaction, tags: Tags | None = None, mention: discord.Role | None = None
    ) -> None:
        args = tags or ""
        if mention is not None:
            if mention.id == interaction.guild_id and interaction.permissions.manage_channels:
                await respond.tell(interaction, EVERYONE)
                return
            args = f"{args} <@&{mention.id}>"
        await respond.change(interaction, "subscribe", args)

    @subscribe.autocomplete("tags")
    async def tags_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await respond.complete_tags(interaction, current)

    @tree.command(name="unsubscribe", description=about("unsubscribe"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(interaction: Interaction) -> None:
        await respond.change(interaction, "unsubscribe")

    @tree.command(name="settings", description=about("settings"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_channels=True)
    async def settings(interaction: Interaction) -> None:
        await respond.change(interaction, "settings")
