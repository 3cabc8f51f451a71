"""Discord webhooks as a second kind of target, for servers that would rather not add the bot:
``discord-webhook:https://discord.com/api/webhooks/ID/TOKEN`` (``bot.subscriptions.parse_address``
normalises what Discord's "Copy Webhook URL" gives).

No token of ours is needed: the URL's own token authorises the call, so this channel is always on.
It sends what the bot's channel sends, with the same loop and error mapping (``_publish``); a
deleted webhook (404 10015) or a revoked token (401) retires the subscription. The URL's token is
a secret: messages and logs name a webhook by its id (``Subscription.label``).

A webhook into a forum channel needs a thread name for each post; Discord answers 220001 to one
without, which is how the forum is recognised (no lookup: a webhook cannot read its channel's type).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp
import discord

from bot.channels.base import Pace, Permanent
from bot.channels.discord._publish import DiscordPublisher, Outgoing, rate_limits
from bot.channels.discord.api import api_base, use_api_base
from bot.config import Settings
from bot.render.environment import Templates


def webhook_id(target: str) -> str:
    """``https://discord.com/api/webhooks/ID/TOKEN`` → ID: how limits and messages name a webhook."""
    return target.rstrip("/").rsplit("/", 2)[-2]


class WebhookChannel(DiscordPublisher):
    kind = "discord-webhook"
    refused_in_forums = 220001  # Webhooks posted to forum channels must have a thread_name or thread_id
    unauthorized_is_gone = True  # 401 50027: the URL's token is no longer valid

    def __init__(self, templates: Templates, api_url: str | None = None) -> None:
        super().__init__(templates)
        self.api_url = api_base(api_url)
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str]) -> WebhookChannel:
        return cls(cls.templates_for(settings), env.get("PAPERBOY_DISCORD_API_URL"))

    def forum_key(self, target: str) -> str:
        return webhook_id(target)

    def shown(self, target: str) -> str:
        return f"webhook {webhook_id(target)}"

    def _hook(self, target: str) -> discord.Webhook:
        if self._session is None:
            use_api_base(self.api_url)
            self._session = aiohttp.ClientSession(
                trace_configs=[rate_limits(self.kind, stop_long=True)],
                timeout=aiohttp.ClientTimeout(total=60, connect=15),
            )
        try:
            return discord.Webhook.from_url(target, session=self._session)
        except ValueError as exc:  # stored before the address rules matched discord.py's
            raise Permanent(f"{self.shown(target)}: not a URL discord.py accepts") from exc

    async def plain(self, target: str, message: Outgoing) -> str:
        return await self._send(target, message)

    async def is_forum(self, target: str, pace: Pace) -> bool:
        return True  # 220001 is said only of forums

    async def new_post(self, target: str, title: str, message: Outgoing) -> str:
        return await self._send(target, message, thread_name=title)

    async def reply(self, target: str, thread: str, message: Outgoing) -> str:
        return await self._send(target, message, thread=discord.Object(int(thread)))

    async def _send(self, target: str, message: Outgoing, **where: Any) -> str:
        sent = await self._hook(target).send(
            content=message.content or discord.utils.MISSING,
            embeds=message.embeds,
            allowed_mentions=message.allowed_mentions,
            wait=True,
            **where,
        )
        return str(sent.id)

    async def look_up(self, target: str) -> None:
        await self._hook(target).fetch()

    async def patch(self, target: str, thread: str | None, message_id: str, message: Outgoing) -> None:
        await self._hook(target).edit_message(
            int(message_id),
            content=message.content,
            embeds=message.embeds,
            allowed_mentions=message.allowed_mentions,
            thread=_thread(thread),
        )

    async def remove(self, target: str, thread: str | None, message_id: str) -> None:
        await self._hook(target).delete_message(int(message_id), thread=_thread(thread))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self.forums.clear()


def _thread(thread: str | None) -> discord.abc.Snowflake:
    """A forum post's thread for the ``thread_id`` of a webhook message route; MISSING: none."""
    return discord.Object(int(thread)) if thread else discord.utils.MISSING
