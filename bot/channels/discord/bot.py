"""The Discord bot inside ``paperboy run``: slash commands, tag autocomplete and paging buttons.

``start`` logs in over REST, registers the commands (in one server with ``PAPERBOY_DISCORD_GUILD``,
instantly, for development; otherwise globally, which Discord may take a while to show
everywhere) and then keeps the gateway connection in a background task; interactions arrive
over it. Nothing listens on the service's web server (``routes`` is empty): the gateway is an
outbound connection. Settings:

- ``PAPERBOY_DISCORD_TOKEN``: the bot's token (turns it on);
- ``PAPERBOY_DISCORD_API_URL``: another REST base than Discord's (a proxy, or the tests' stand-in);
  the gateway is then the one its ``GET /gateway/bot`` names;
- ``PAPERBOY_DISCORD_GUILD``: a server id to register the commands in, instead of globally;
- ``PAPERBOY_DISCORD_SHARDS``: ``auto`` or a number runs an ``AutoShardedClient`` (Discord requires
  shards from 2,500 servers); unset, one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import discord

from bot.archive.store import Archive
from bot.channels.checks import DISCORD_API, discord_guild, discord_shards
from bot.channels.discord.api import api_base, use_api_base, use_gateway
from bot.channels.discord.candidates import DiscordCandidates
from bot.channels.discord.commands import CommandTree, Translator
from bot.channels.discord.desk import DiscordDesk
from bot.channels.discord.desk import install as install_desk
from bot.channels.discord.responder import DEFER_AFTER, OnSubscribe, Responder
from bot.commands import PAGE_SIZE
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.desk import Desk
from bot.errors import InputError
from bot.render.environment import Templates

log = logging.getLogger("paperboy.discord")
MAX_RETRY_DELAY = 60.0


class DiscordBot:
    """One discord.py client and its command tree; ``start``/``stop`` are called by the service."""

    name = "discord"
    routes: ClassVar[list[Any]] = []  # the gateway is outbound: nothing to serve

    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        token: str,
        *,
        api_url: str | None = None,
        guild: int | None = None,
        shards: int | Literal["auto"] | None = None,
        on_subscribe: OnSubscribe | None = None,
        templates: Templates | None = None,
        page_size: int = PAGE_SIZE,
        defer_after: float = DEFER_AFTER,
        desk: Desk | None = None,
    ) -> None:
        """``desk``: curators' posts (``/post``) go there; None: no ``/post`` command."""
        self.token, self.guild, self.api_url = token, guild, api_base(api_url)
        options: dict[str, Any] = {
            # Interactions need no intent; the guilds intent keeps channels (a thread's forum) cached.
            "intents": discord.Intents(guilds=True),
            # No reply of the bot's ever pings: not @everyone in a paper's text, nor a user's input.
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if shards is None:
            self.client: discord.Client = discord.Client(**options)
        else:
            count = None if shards == "auto" else shards
            self.client = discord.AutoShardedClient(shard_count=count, **options)
        templates = templates or Templates(DEFAULT_TEMPLATES, settings.templates)
        self.responder = Responder(
            archive, settings, templates, on_subscribe, page_size=page_size, defer_after=defer_after
        )
        self.tree = CommandTree(self.client, self.responder)
        self.client.add_dynamic_items(self.responder.buttons)
        self.desk = None if desk is None else DiscordDesk(desk, templates, defer_after=defer_after)
        if self.desk is not None and desk is not None:
            picks = DiscordCandidates(desk, templates)
            install_desk(self.tree, self.desk, picks)
            self.client.add_dynamic_items(self.desk.buttons, self.desk.retag_buttons, picks.buttons)
        self._gateway: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Log in, register the commands, and connect to the gateway in the background."""
        use_api_base(self.api_url)
        try:
            await self._login()
            await self._find_gateway()
            await self.sync()
        except BaseException:
            await self.client.close()  # its HTTP session, which login opened
            raise
        self._gateway = asyncio.create_task(self._connect(), name="discord-gateway")
        user = self.client.user
        where = f"server {self.guild}" if self.guild else "every server"
        log.info("discord bot %s has its commands in %s", user.name if user else "?", where)

    async def _login(self) -> None:
        try:
            await self.client.login(self.token)
        except discord.LoginFailure:
            raise InputError("Discord refused PAPERBOY_DISCORD_TOKEN: copy the bot's token again") from None

    async def _find_gateway(self) -> None:
        """Another API than Discord's has its own gateway: connect where its /gateway/bot says.
        (discord.py asks Discord's only when sharding automatically; Discord's is the default.)"""
        if self.api_url == DISCORD_API:
            use_gateway(None)
            return
        try:
            _, url, _ = await self.client.http.get_bot_gateway()
        except discord.GatewayNotFound:
            raise InputError(
                f"PAPERBOY_DISCORD_API_URL {self.api_url} names no gateway (GET /gateway/bot failed):"
                " check the URL, or unset it to use Discord's"
            ) from None
        use_gateway(url)

    async def sync(self) -> list[discord.app_commands.AppCommand]:
        """Register the commands: in ``guild`` only (instant), or globally."""
        await self.tree.set_translator(Translator())
        target = discord.Object(self.guild) if self.guild else None
        if target is not None:
            self.tree.copy_global_to(guild=target)
        try:
            return await self.tree.sync(guild=target)
        except discord.Forbidden as exc:
            raise InputError(
                f"Discord refused the commands for server {self.guild} ({exc.text}): invite the bot"
                " there with the applications.commands scope, or unset PAPERBOY_DISCORD_GUILD"
            ) from None

    async def stop(self) -> None:
        if self.desk is not None:
            await self.desk.stop()
        await self.client.close()
        if self._gateway is not None:
            self._gateway.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gateway
            self._gateway = None
        await _close_half_made(asyncio.get_running_loop())

    async def _connect(self) -> None:
        """The gateway connection, kept up until ``stop``. discord.py reconnects a dropped one
        itself, but gives up when the first connection fails (its retry reads the connection it
        never made), so that case is retried here, waiting longer each time."""
        delay = 1.0
        while not self.client.is_closed():
            try:
                await self.client.connect(reconnect=True)
            except (discord.LoginFailure, discord.PrivilegedIntentsRequired):
                log.exception("discord closed the gateway connection for good; slash commands go unanswered")
                return
            except Exception as exc:
                if self.client.is_closed():
                    return
                # discord.py's own retry fails reading the connection it never made: say why it failed.
                cause = exc.__context__ if isinstance(exc, AttributeError) and exc.__context__ else exc
                log.warning("no discord gateway connection (%s); trying again in %.0f s", cause, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)


async def _close_half_made(loop: asyncio.AbstractEventLoop) -> None:
    """Close the gateway connections this loop never finished, and their heartbeat threads.

    A shard still starting when the bot stops (HELLO in, waiting its turn to IDENTIFY) already
    beats from a thread and holds a socket, neither known to the client until the shard is
    launched, so ``close()`` misses both: the thread would outlive the loop and fail at its next
    beat, the socket would be left open. discord.py's heartbeat threads name their connection.
    """
    for thread in threading.enumerate():
        if isinstance(thread, discord.gateway.KeepAliveHandler) and thread.ws.loop is loop:
            thread.stop()
            with contextlib.suppress(Exception):
                await thread.ws.close(1000)


def from_env(
    archive: Archive,
    settings: Settings,
    env: Mapping[str, str],
    on_subscribe: OnSubscribe | None,
    desk: Desk | None = None,
) -> DiscordBot:
    """The bot as the environment configures it; a malformed setting says which and why."""
    return DiscordBot(
        archive,
        settings,
        env["PAPERBOY_DISCORD_TOKEN"],
        api_url=env.get("PAPERBOY_DISCORD_API_URL") or None,
        guild=discord_guild(env.get("PAPERBOY_DISCORD_GUILD") or ""),
        shards=discord_shards(env.get("PAPERBOY_DISCORD_SHARDS") or ""),
        on_subscribe=on_subscribe,
        desk=desk,
    )
