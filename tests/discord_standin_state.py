"""The Discord stand-in's state: options, the registry, the records, and Discord's JSON for them.

The routes (``discord_standin_routes``, ``discord_standin_interactions``) read and change it; the
server (``discord_standin``) adds the request pipeline. Registry methods (``add_*``, ``forbid``,
``delete_*``) are for tests to call directly.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tests import discord_standin_rules as rules
from tests.discord_standin_checks import check_message, pings
from tests.discord_standin_limits import ROUTE_LIMITS, Limiter
from tests.discord_standin_rules import (
    EPHEMERAL,
    ApiError,
    Channel,
    Guild,
    Interaction,
    InteractionResponse,
    Json,
    Message,
    Webhook,
    iso,
    missing_access,
    missing_permissions,
    unknown,
)

T = TypeVar("T")
FOLLOW_UP_SECONDS = 15 * 60
FORUM_TYPES = (15, 16)


@dataclass
class Call:
    """One routed request: path parameters as sent, the query, the JSON body."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    body: Any = None

    def flag(self, name: str) -> bool:
        value = self.query.get(name, "false").lower()
        if value not in ("true", "false", "1", "0"):
            raise rules.form_error([((name,), "BASE_TYPE_BOOLEAN", "Must be either true or false.")])
        return value in ("true", "1")

    def object(self) -> Json:
        if not isinstance(self.body, dict):
            raise rules.form_error([((), "MODEL_TYPE_CONVERT", "Must be an object.")])
        return self.body


class DiscordState:
    """Discord's side of things: what exists, what happened, and how Discord writes it.

    Records: ``messages`` (every accepted message, edits applied, deletions flagged),
    ``commands`` (per guild id, None for global), ``interaction_responses``, ``requests`` (every
    request), ``errors`` (every error answer), ``rejections`` (every 429, with its reason).
    """

    def __init__(
        self,
        *,
        scale: float = 1.0,
        limits: dict[str, tuple[int, float]] | None = None,
        global_limit: int = 50,
        invalid_limit: int = 10_000,
        interaction_timeout: float = 3.0,
        bot_id: int = 1_300_000_000_000_000_001,
        application_id: int | None = None,
        username: str = "Paperboy",
    ) -> None:
        """``scale`` shrinks every rate-limit window (0.2: five times faster; injected retry_after
        values and discord.py's own 1 s backoff after a 5xx excepted). ``limits`` overrides
        ``ROUTE_LIMITS`` by bucket name, ``(0, 0)`` turning one off; ``global_limit`` requests a
        second per bot (interactions exempt; 0: none); ``invalid_limit`` 401/403/429 answers in ten
        minutes earn a Cloudflare ban (0: never); ``interaction_timeout`` seconds to answer an
        interaction. ``bot_id`` is also the application id unless ``application_id`` is given."""
        self.scale, self.interaction_timeout = scale, interaction_timeout
        self.application_id = application_id or bot_id
        stamp = base64.urlsafe_b64encode(b"stand-in").decode().rstrip("=")
        self.token = f"{base64.b64encode(str(bot_id).encode()).decode().rstrip('=')}.{stamp}.{'x' * 27}"
        self.bot_user: Json = {
            "id": str(bot_id),
            "username": username,
            "discriminator": "0",
            "global_name": None,
            "avatar": None,
            "bot": True,
            "flags": 0,
            "verified": True,
            "mfa_enabled": False,
        }
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.webhooks: dict[int, Webhook] = {}
        self.interactions: dict[int, Interaction] = {}
        self.messages: list[Message] = []
        self.commands: dict[int | None, list[Json]] = {}  # guild id (None: global) -> the commands
        self.interaction_responses: list[InteractionResponse] = []
        self.requests: list[tuple[str, str]] = []  # every request: (method, path after /api/v10)
        self.errors: list[tuple[str, str, int, int]] = []  # error answers: (method, path, status, code)
        self.rejections: list[tuple[str, str]] = []  # 429s: ("POST /channels/1/messages", reason)
        self.limiter = Limiter(
            ROUTE_LIMITS | (limits or {}), global_limit, invalid_limit, scale, self.rejections
        )
        self.base = ""
        self._ids = rules.snowflakes()
        self._changed = asyncio.Event()

    def _bump(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def snowflake(self) -> int:
        """A fresh id, as Discord makes them (webhook URLs need 17-20 digits)."""
        return int(next(self._ids))

    # -- the registry, as routes see it -----------------------------------------------------------

    def _channel(self, raw: str | int, *, write: bool = True) -> Channel:
        """The channel, or Discord's answer for a deleted, hidden or forbidden one (threads inherit)."""
        chain: list[Channel | None] = [self.channels.get(int(raw))]
        while (last := chain[-1]) is not None and last.parent_id is not None:
            chain.append(self.channels.get(last.parent_id))
        if any(c is None or c.state == "deleted" for c in chain):
            raise unknown("Channel")
        states = {c.state for c in chain if c is not None}
        if "no_access" in states:
            raise missing_access()
        if write and "no_permission" in states:
            raise missing_permissions()
        assert chain[0] is not None
        return chain[0]

    def _message_in(self, channel_id: int, raw: str) -> Message:
        found = self._message(raw)
        if found.channel_id != channel_id:
            raise unknown("Message")
        return found

    def _message(self, raw: str | None, webhook_id: int | bool | None = True) -> Message:
        """The undeleted message ``raw`` (by webhook ``webhook_id`` unless that is True)."""
        found = next((m for m in self.messages if m.id == raw), None)
        if found is None or found.deleted or webhook_id not in (True, found.webhook_id):
            raise unknown("Message")
        return found

    def _application(self, call: Call) -> None:
        if call.params["application_id"] != str(self.application_id):
            raise missing_access()

    def _hook(self, call: Call) -> tuple[Webhook | None, Interaction | None]:
        """A webhook, or an interaction's (id: the application's, token: the interaction's)."""
        hook_id, token = int(call.params["webhook_id"]), call.params["webhook_token"]
        if hook_id == self.application_id:
            interaction = next((i for i in self.interactions.values() if i.token == token), None)
            fresh = interaction and time.monotonic() - interaction.created < FOLLOW_UP_SECONDS
            if interaction is None or interaction.response_type is None or not fresh:
                raise unknown("Webhook")
            return None, interaction
        hook = self.webhooks.get(hook_id)
        channel = self.channels.get(hook.channel_id) if hook else None
        if hook is None or hook.deleted or channel is None or channel.state == "deleted":
            raise unknown("Webhook")
        if hook.token != token:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return hook, None

    # -- what Discord answers with ------------------------------------------------------------

    def channel_json(self, channel: Channel) -> Json:
        found: Json = {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": str(channel.parent_id) if channel.parent_id else None,
            "flags": 0,
            "rate_limit_per_user": 0,
        }
        if channel.type in rules.THREAD_TYPES:
            del found["position"], found["permission_overwrites"]
            metadata = {"archived": False, "auto_archive_duration": 4320, "locked": False}
            found |= {
                "owner_id": self.bot_user["id"],
                "message_count": channel.message_count,
                "member_count": 1,
            }
            found["thread_metadata"] = metadata | {
                "archive_timestamp": iso(channel.created),
                "create_timestamp": iso(channel.created),
            }
            found["total_message_sent"] = channel.message_count
        elif channel.type in FORUM_TYPES:
            found |= {"topic": channel.topic, "available_tags": [], "default_reaction_emoji": None}
            found |= {
                "default_thread_rate_limit_per_user": 0,
                "default_sort_order": None,
                "default_forum_layout": 0,
            }
        else:
            last = next((m.id for m in reversed(self.messages) if m.channel_id == channel.id), None)
            found |= {"topic": channel.topic, "last_message_id": last}
        return found

    def message_json(self, message: Message) -> Json:
        author = self.bot_user
        if message.webhook_id is not None and message.interaction_id is None:
            hook = self.webhooks[message.webhook_id]
            name = message.username or hook.name
            author = {
                "id": str(hook.id),
                "username": name,
                "discriminator": "0000",
                "avatar": None,
                "bot": True,
            }
        found: Json = {
            "id": message.id,
            "channel_id": str(message.channel_id),
            "type": 20 if message.interaction_id else 0,
            "author": author,
            "content": message.content,
            "embeds": message.embeds,
            "components": message.components,
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": "@everyone" in message.pings or "@here" in message.pings,
            "pinned": False,
            "tts": False,
            "timestamp": message.timestamp,
            "edited_timestamp": message.edited_timestamp,
            "flags": message.flags,
        }
        if message.webhook_id is not None:
            found["webhook_id"] = str(message.webhook_id)
        if message.interaction_id is not None:
            found["application_id"] = str(self.application_id)
        if message.parent_id is not None:
            found["position"] = self.channels[message.channel_id].message_count - 1
        return found

    def _store(self, channel: Channel, checked: Json, message_id: str | None = None, **extra: Any) -> Message:
        thread = channel if channel.type in rules.THREAD_TYPES else None
        content = checked["content"]
        message = Message(
            id=message_id or next(self._ids),
            channel_id=channel.id,
            content=content,
            embeds=checked["embeds"],
            components=checked["components"],
            flags=checked["flags"],
            allowed_mentions=checked["allowed_mentions"],
            pings=pings(content, checked["allowed_mentions"]),
            timestamp=iso(),
            at=time.monotonic(),
            parent_id=thread.parent_id if thread else None,
            thread_name=thread.name if thread else None,
            **extra,
        )
        channel.message_count += 1
        self.messages.append(message)
        return message

    def _edit(self, message: Message, body: Json, flags_allowed: int) -> Json:
        """Apply a PATCH: absent keys stay, null clears; the result must still be a message."""
        current = {"content": message.content, "embeds": message.embeds, "components": message.components}
        merged = current | {"flags": message.flags, "allowed_mentions": message.allowed_mentions} | body
        checked = check_message(merged, flags_allowed=flags_allowed | (message.flags & EPHEMERAL))
        message.content, message.embeds, message.components = (checked[k] for k in current)
        message.flags, message.allowed_mentions = checked["flags"], checked["allowed_mentions"]
        message.pings = pings(message.content, message.allowed_mentions)
        message.edited_timestamp, message.edits = iso(), message.edits + 1
        return self.message_json(message)

    def add_thread(self, parent_id: int, name: str, *, type: int = 11, id: int | None = None) -> Channel:
        parent = self.channels[parent_id]
        thread = Channel(id or self.snowflake(), parent.guild_id, type, name, parent_id=parent_id)
        self.channels[thread.id] = thread
        return thread

    # -- the registry, for tests ----------------------------------------------------------------------

    def add_guild(self, id: int, name: str = "Guild", *, commands_scope: bool = True) -> Guild:
        """A guild with the bot in it; ``commands_scope=False``: invited without applications.commands."""
        self.guilds[id] = Guild(id, name, commands_scope)
        return self.guilds[id]

    def add_role(self, guild_id: int, role_id: int, name: str) -> None:
        """A role in the guild (GUILD_CREATE lists it; ``interaction(roles=…)`` gives it a member)."""
        self.guilds[guild_id].roles[role_id] = name

    def add_channel(
        self,
        id: int,
        guild_id: int,
        type: str = "text",
        name: str | None = None,
        *,
        topic: str | None = None,
        parent_id: int | None = None,
    ) -> Channel:
        """A channel: "text", "news", "forum", or "thread" (in ``parent_id``)."""
        if type not in rules.CHANNEL_TYPES:
            raise ValueError(f"unknown channel type {type!r}; one of {sorted(rules.CHANNEL_TYPES)}")
        if guild_id not in self.guilds:
            raise ValueError(f"no guild {guild_id}; add_guild first")
        if (type == "thread") != (parent_id is not None):
            raise ValueError("threads, and only threads, have a parent_id")
        if type == "thread":
            assert parent_id is not None
            return self.add_thread(parent_id, name or f"thread-{id}", id=id)
        self.channels[id] = Channel(
            id, guild_id, rules.CHANNEL_TYPES[type], name or f"{type}-{id}", topic=topic
        )
        return self.channels[id]

    def add_webhook(self, id: int, token: str | None, channel_id: int, name: str = "Paperboy") -> str:
        """A channel's webhook; its URL in discord.com form (``token`` None: a random one)."""
        token = token or secrets.token_urlsafe(51)  # 68 characters
        if not re.fullmatch(r"[0-9]{17,20}", str(id)) or not rules.WEBHOOK_TOKEN.fullmatch(token):
            raise ValueError(
                "Webhook.from_url needs a 17-20 digit id (api.snowflake()) and a ≥60-character token"
            )
        if channel_id not in self.channels:
            raise ValueError(f"no channel {channel_id}")
        self.webhooks[id] = Webhook(id, token, channel_id, name)
        return self.webhooks[id].url

    def forbid(self, channel_id: int, code: int = 50001) -> None:
        """403 for the channel and its threads: 50001 Missing Access, or 50013 Missing Permissions
        (which still lets the bot read the channel)."""
        self.channels[channel_id].state = {50001: "no_access", 50013: "no_permission"}[code]

    def delete_channel(self, channel_id: int) -> None:
        """404 10003 from now on; its webhooks answer 404 10015."""
        self.channels[channel_id].state = "deleted"

    def restore(self, channel_id: int) -> None:
        self.channels[channel_id].state = "ok"

    def delete_webhook(self, webhook_id: int) -> None:
        self.webhooks[webhook_id].deleted = True

    # -- reading the records ---------------------------------------------------------------

    def messages_in(self, channel_id: int) -> list[Message]:
        """Undeleted messages in the channel or in its threads (a forum's posts), oldest first."""
        return [m for m in self.messages if channel_id in (m.channel_id, m.parent_id) and not m.deleted]

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (checked after each request); return it."""
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            if value := predicate():
                return value
            if (remaining := deadline - time.monotonic()) <= 0:
                raise TimeoutError(f"nothing satisfied {predicate} within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
