"""The Discord channel of the scheduler: a day's digest as embed messages, in order, to a channel,
through the bot's REST client (discord.py's ``HTTPClient``; no gateway connection is opened).

discord.py follows each route's rate-limit bucket from the response headers and retries a short
429 itself; a wait longer than ``LONG_WAIT`` comes back as ``RetryAfter``, exactly as Discord
asked. A channel the bot cannot see or write in, or one deleted, retires the subscription; a
message Discord refuses is permanent; 5xx answers and network trouble are transient. Shared
with the webhook channel: ``_publish``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import discord

from bot.channels.base import Misconfigured, Pace
from bot.channels.discord._publish import LONG_WAIT, DiscordPublisher, Outgoing, rate_limits
from bot.channels.discord.api import api_base, use_api_base
from bot.config import Settings
from bot.errors import InputError
from bot.render.environment import Templates


def rest_client() -> discord.Client:
    """A client for REST calls only: it never opens a gateway connection, so intents and voice
    do not matter to it. Guilds is the one intent discord.py's state warns without, and voice's
    optional libraries are not installed on purpose: neither should put warnings in the log."""
    discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
    return discord.Client(
        intents=discord.Intents(guilds=True),
        max_ratelimit_timeout=LONG_WAIT,
        http_trace=rate_limits("discord", stop_long=False),  # 429s counted (bot.metrics)
    )


#: REST calls ``Client.login`` makes.
LOGIN_CALLS = 2


class DiscordChannel(DiscordPublisher):
    kind = "discord"
    refused_in_forums = 50008  # Cannot send messages in a non-text channel

    def __init__(self, token: str, templates: Templates, api_url: str | None = None) -> None:
        super().__init__(templates)
        self.token = token
        self.api_url = api_base(api_url)
        self._client: discord.Client | None = None
        self._login: asyncio.Lock | None = None
        self._refused: Misconfigured | None = None  # the token was refused: no more logins this run
        self._forum_channels: dict[str, discord.ForumChannel] = {}

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str]) -> DiscordChannel:
        token = (env.get("PAPERBOY_DISCORD_TOKEN") or "").strip()
        if not token:
            raise InputError(
                "PAPERBOY_DISCORD_TOKEN is not set: give the bot's token (Developer Portal, Bot)"
            )
        return cls(token, cls.templates_for(settings), env.get("PAPERBOY_DISCORD_API_URL"))

    async def client(self, pace: Pace | None = None) -> discord.Client:
        """The bot's client, logged in (once a run, before any message).

        Logging in is two REST calls (GET /users/@me, /oauth2/applications/@me), paced as any
        other: they count in the bot's 50 a second (measured without: 2 global 429s in the first
        second of a fan-out)."""
        if self._client is not None:
            return self._client
        if self._login is None:
            self._login = asyncio.Lock()
        async with self._login:  # one login for every delivery waiting on it
            if self._refused is not None:
                raise self._refused
            if self._client is None:
                use_api_base(self.api_url)
                client = rest_client()
                try:
                    await self._log_in(client, pace)
                except BaseException:
                    await client.close()
                    raise
                self._client = client
        return self._client

    async def _log_in(self, client: discord.Client, pace: Pace | None) -> None:
        if pace is not None:
            for _ in range(LOGIN_CALLS):
                await pace()
        with self.translated():
            try:
                await client.login(self.token)
            except discord.LoginFailure as exc:  # a 401: no use trying again this run
                self._refused = Misconfigured(
                    f"Discord refused the bot token ({exc}): check PAPERBOY_DISCORD_TOKEN"
                )
                raise self._refused from exc

    async def ready(self, pace: Pace) -> None:
        await self.client(pace)

    async def plain(self, target: str, message: Outgoing) -> str:
        return await self._message(int(target), message)

    async def reply(self, target: str, thread: str, message: Outgoing) -> str:
        return await self._message(int(thread), message)

    async def _message(self, channel_id: int, message: Outgoing) -> str:
        channel = (await self.client()).get_partial_messageable(channel_id)
        sent = await channel.send(
            content=message.content, embeds=message.embeds, allowed_mentions=message.allowed_mentions
        )
        return str(sent.id)

    async def is_forum(self, target: str, pace: Pace) -> bool:
        await pace()
        found = await (await self.client()).fetch_channel(int(target))
        if isinstance(found, discord.ForumChannel):  # forums and media channels
            self._forum_channels[target] = found
            return True
        return False

    async def new_post(self, target: str, title: str, message: Outgoing) -> str:
        forum = self._forum_channels[target]
        post = await forum.create_thread(
            name=title,
            content=message.content,
            embeds=message.embeds,
            allowed_mentions=message.allowed_mentions,
        )
        return str(post.message.id)

    async def look_up(self, target: str) -> None:
        await (await self.client()).fetch_channel(int(target))

    async def patch(self, target: str, thread: str | None, message_id: str, message: Outgoing) -> None:
        await self._sent(thread or target, message_id).edit(
            content=message.content, embeds=message.embeds, allowed_mentions=message.allowed_mentions
        )

    async def remove(self, target: str, thread: str | None, message_id: str) -> None:
        await self._sent(thread or target, message_id).delete()

    def _sent(self, channel_id: str, message_id: str) -> discord.PartialMessage:
        assert self._client is not None  # ready() logged in
        return self._client.get_partial_messageable(int(channel_id)).get_partial_message(int(message_id))

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._login = None  # a lock belongs to its event loop; a later run may have another
        self._forum_channels.clear()
        self.forums.clear()
