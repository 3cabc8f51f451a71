"""What the bot's channel (``sender``) and the webhook channel (``webhook``) share: the rendered
day, the sending loop, forum posts, role mentions, and how Discord's errors map to the scheduler's.

A day goes out as its messages in order, one REST call each after ``pace()``. A digest that fails
part-way (a rate limit that outlasts discord.py's own patience) keeps the ids of what was sent,
so the fan-out's retry resumes after them instead of posting the first parts twice.

Forums (and media channels) take posts, not messages: the day becomes one post (a thread named
after the day, holding the first message) and the rest of the day goes into that thread, whose
id is its first message's. A target is taken for a text channel until Discord refuses a message
to it as one (the bot's 50008, a webhook's 220001); only then is it looked up, once, and
remembered. A fan-out to 500 text channels so spends no request on lookups.

Mentions: a message pings only what ``allowed_mentions`` names, so an "@everyone" in a paper title
(or in an operator's template) pings nobody; a subscription's role is named at the start of the
day's first message and allowed alone.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import aiohttp
import discord

from bot.channels.base import (
    Channel,
    DeliveryError,
    Misconfigured,
    Pace,
    Permanent,
    RetryAfter,
    TargetGone,
    Transient,
)
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.render._split import take, utf16_len
from bot.render.context import DigestView
from bot.render.discord import CONTENT, DiscordMessage, render_discord
from bot.render.environment import Templates
from bot.subscriptions import hide_webhook_tokens

#: A wait for Discord's rate limits longer than this surfaces as ``RetryAfter`` instead of being
#: slept inside discord.py, where it would hold a sending slot (or, for a Cloudflare-sized wait,
#: seem to hang). 30 s is the least discord.py's ``max_ratelimit_timeout`` accepts; the fan-out
#: waits out up to a minute itself and hands longer waits to the ledger.
LONG_WAIT = 30.0
THREAD_NAME = 100
#: (status, code) answers that mean the target will never take a message again: missing access,
#: missing permissions, unknown channel, unknown webhook, invalid webhook token.
GONE = {(403, 50001), (403, 50013), (404, 10003), (404, 10015), (401, 50027)}


@dataclass(frozen=True)
class DiscordDay:
    """A rendered digest: its messages, and the name its forum post gets."""

    title: str
    messages: tuple[DiscordMessage, ...]


@dataclass
class Outgoing:
    """One message as discord.py sends it."""

    content: str | None
    embeds: list[discord.Embed]
    allowed_mentions: discord.AllowedMentions = field(default_factory=discord.AllowedMentions.none)


def post_title(digest: DigestView) -> str:
    title = f"Papers of {digest.date.isoformat()}" if digest.date else "Papers from the queue"
    if digest.tag:
        title += f" · #{digest.tag}"
    return title[:THREAD_NAME]


def outgoing(message: DiscordMessage, role: str | None) -> Outgoing:
    """The message, with ``<@&role>`` leading its content and allowed to ping alone if ``role``."""
    content = message.content
    mentions = discord.AllowedMentions.none()
    if role is not None:
        lead = f"<@&{role}> "
        if utf16_len(lead + content) > CONTENT:
            content = take(content, CONTENT - utf16_len(lead), may_cut_words=True)[0]
        content = (lead + content).strip()
        mentions = discord.AllowedMentions(
            everyone=False, users=False, roles=[discord.Object(int(role))], replied_user=False
        )
    embeds = [discord.Embed.from_dict(embed) for embed in message.embeds]
    return Outgoing(content or None, embeds, mentions)


class DiscordPublisher(Channel):
    """The sending loop of a Discord channel; subclasses say how one message goes out."""

    #: The code Discord answers a plain message to a forum with.
    refused_in_forums: ClassVar[int]
    #: Whether a 401 means the target is gone (a webhook's token) rather than our own token.
    unauthorized_is_gone: ClassVar[bool] = False

    def __init__(self, templates: Templates) -> None:
        self.templates = templates
        self.forums: set[str] = set()  # targets found to be forums (their key, see forum_key)
        # (target, digest) → ids of the messages already sent, while a retry may still come.
        self._partial: dict[tuple[str, int], list[str]] = {}

    @staticmethod
    def templates_for(settings: Settings) -> Templates:
        return Templates(DEFAULT_TEMPLATES, settings.templates)

    def render(self, digest: DigestView) -> DiscordDay:
        return DiscordDay(post_title(digest), tuple(render_discord(self.templates, digest)))

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        day: DiscordDay = rendered
        key = (target, id(rendered))
        ids = self._partial.setdefault(key, [])
        try:
            for index in range(len(ids), len(day.messages)):
                message = outgoing(day.messages[index], mention if index == 0 else None)
                await pace()
                with self.translated():
                    ids.append(await self._one(target, day.title, message, ids, pace))
        except (TargetGone, Permanent):
            del self._partial[key]  # no retry is coming
            raise
        del self._partial[key]
        return ids

    async def _one(self, target: str, title: str, message: Outgoing, ids: list[str], pace: Pace) -> str:
        forum = self.forum_key(target) in self.forums
        if forum and ids:  # the rest of the day goes into the day's post
            return await self.reply(target, ids[0], message)
        if forum:
            return await self.new_post(target, title, message)
        try:
            return await self.plain(target, message)
        except discord.HTTPException as exc:
            if exc.code != self.refused_in_forums or ids:
                raise
            if not await self.is_forum(target, pace):
                raise Permanent(f"Discord: {self.shown(target)} takes no messages ({exc.text})") from exc
        self.forums.add(self.forum_key(target))
        await pace()
        return await self.new_post(target, title, message)

    # -- what each kind of target implements ------------------------------------------------

    def forum_key(self, target: str) -> str:
        return target

    def shown(self, target: str) -> str:
        """The target as error messages name it (a webhook without its secret token)."""
        return f"channel {target}"

    async def plain(self, target: str, message: Outgoing) -> str:
        """Send a message to the target as a text channel; its id."""
        raise NotImplementedError

    async def new_post(self, target: str, title: str, message: Outgoing) -> str:
        """Open the day's forum post with ``message``; its id (the post's thread's too)."""
        raise NotImplementedError

    async def reply(self, target: str, thread: str, message: Outgoing) -> str:
        """Send a message into the target's forum post ``thread``; its id."""
        raise NotImplementedError

    async def is_forum(self, target: str, pace: Pace) -> bool:
        """After Discord refused a plain message: whether the target is a forum."""
        raise NotImplementedError

    # -- errors -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def translated(self) -> Iterator[None]:
        """discord.py's and aiohttp's exceptions as the scheduler's few outcomes."""
        try:
            yield
        except DeliveryError:
            raise
        except discord.RateLimited as exc:  # a wait longer than LONG_WAIT, not slept by discord.py
            raise RetryAfter(exc.retry_after, f"Discord: rate limited for {exc.retry_after:g} s") from exc
        except LongWait as exc:
            raise RetryAfter(exc.seconds, f"Discord: rate limited for {exc.seconds:g} s") from exc
        except discord.HTTPException as exc:
            raise self.http_error(exc) from exc
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            raise Transient(without_tokens(f"Discord: {type(exc).__name__}: {exc}")) from exc

    def http_error(self, exc: discord.HTTPException) -> DeliveryError:
        status, code = exc.status, exc.code
        text = f"Discord {status}" + (f" {code}" if code else "") + f": {exc.text or exc.response.reason}"
        text = without_tokens(text)
        if status == 429:  # discord.py gave up (a Cloudflare ban, or five 429s in a row)
            return RetryAfter(_header_seconds(exc.response.headers), text)
        if status >= 500:
            return Transient(text)
        if (status, code) in GONE or (status == 401 and self.unauthorized_is_gone):
            return TargetGone(text)
        if status == 401:
            return Misconfigured(f"{text} (Discord refused the bot token: check PAPERBOY_DISCORD_TOKEN)")
        if status == 404 and not code:  # no such route: the base is not Discord's API
            return Misconfigured(f"{text} (no such API route: check PAPERBOY_DISCORD_API_URL)")
        return Permanent(text)  # a message Discord refuses (50035): kept for the operator


def without_tokens(text: str) -> str:
    """An error's text with any webhook token cut out: aiohttp's errors quote the request's URL,
    and the fan-out keeps the text in the ledger and shows it to the operator."""
    return hide_webhook_tokens(text)


class LongWait(Exception):
    """A webhook's 429 asking for more than LONG_WAIT seconds (see ``long_waits``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited for {seconds:g} s")
        self.seconds = seconds


def long_waits() -> aiohttp.TraceConfig:
    """Stops a webhook request at a 429 that asks for a long wait.

    discord.py's webhook adapter has no ``max_ratelimit_timeout``: it sleeps any ``retry_after``,
    up to five times. This aiohttp hook raises ``LongWait`` at such an answer instead (aiohttp
    closes the response), which becomes ``RetryAfter`` for the fan-out. A 429 without Discord's
    ``Via`` header is left to discord.py, which gives up on it at once (Cloudflare's ban)."""

    async def on_request_end(
        session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        answer = params.response
        if answer.status != 429 or not answer.headers.get("Via"):
            return
        try:
            seconds = float(json.loads(await answer.read())["retry_after"])
        except (ValueError, KeyError, TypeError, aiohttp.ClientError):
            seconds = _header_seconds(answer.headers)
        if seconds > LONG_WAIT:
            raise LongWait(seconds)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


def _header_seconds(headers: Mapping[str, str]) -> float:
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        with contextlib.suppress(KeyError, ValueError):
            return float(headers[name])
    return 60.0  # no hint (a Cloudflare ban says nothing): try again in a minute
