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

Corrections (``scheduler/edits.py``) edit the day's messages in place (PATCH), send more into the
same place and delete a surplus (DELETE). The ledger keeps only message ids, so where a message
lives is found as a send finds a forum: it is looked for in the target first, and where Discord
knows no such message there (10008), in the day's post (the thread whose id is the first
message's); a forum found so is remembered. A fan-out of corrections to text channels so spends
no request on lookups. The first message keeps its role mention, and every edit's
``allowed_mentions`` names that role alone (or nothing), so an "@everyone" a correction brings
pings nobody.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import aiohttp
import discord

from bot import metrics
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

T = TypeVar("T")

#: A wait for Discord's rate limits longer than this surfaces as ``RetryAfter`` instead of being
#: slept inside discord.py, where it would hold a sending slot (or, for a Cloudflare-sized wait,
#: seem to hang). 30 s is the least discord.py's ``max_ratelimit_timeout`` accepts; the fan-out
#: waits out up to a minute itself and hands longer waits to the ledger.
LONG_WAIT = 30.0
THREAD_NAME = 100
#: (status, code) answers that mean the target will never take a message again: missing access,
#: missing permissions, unknown channel, unknown webhook, invalid webhook token.
GONE = {(403, 50001), (403, 50013), (404, 10003), (404, 10015), (401, 50027)}
UNKNOWN_CHANNEL, UNKNOWN_MESSAGE = 10003, 10008
#: What a message route of the target answers for a message that is not there: Unknown Message,
#: and (a precaution: Discord does not document what a forum's own message routes answer)
#: "Cannot execute action on this channel type".
NOT_HERE = {UNKNOWN_MESSAGE, 50024}


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
    editable = True

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

    async def ready(self, pace: Pace) -> None:
        """Before the first call to Discord: what the kind of target needs (the bot logs in)."""

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        await self.ready(pace)
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

    # -- corrections ------------------------------------------------------------------------

    def parts(self, rendered: Any) -> tuple[DiscordMessage, ...]:
        day: DiscordDay = rendered
        return day.messages

    async def edit_part(
        self,
        target: str,
        ids: Sequence[str],
        index: int,
        part: Any,
        pace: Pace,
        *,
        mention: str | None = None,
    ) -> None:
        message = outgoing(part, mention if index == 0 else None)
        await self.ready(pace)
        await self._where(target, ids, pace, lambda thread: self.patch(target, thread, ids[index], message))

    async def send_part(
        self, target: str, ids: Sequence[str], part: Any, pace: Pace, *, mention: str | None = None
    ) -> str:
        """After the last message: in a text channel, there; in a forum, in the day's post."""
        message = outgoing(part, None)  # never the day's first message: no role to name
        await self.ready(pace)
        key = self.forum_key(target)
        heard = key not in self.forums
        if heard:
            await pace()
            with self.translated():
                try:
                    return await self.plain(target, message)
                except discord.HTTPException as exc:
                    if exc.code != self.refused_in_forums:
                        raise
            self.forums.add(key)
        return await self._in_post(target, pace, lambda: self.reply(target, ids[0], message), heard=heard)

    async def delete_part(self, target: str, ids: Sequence[str], index: int, pace: Pace) -> None:
        await self.ready(pace)
        with contextlib.suppress(MessageGone):
            await self._where(target, ids, pace, lambda thread: self.remove(target, thread, ids[index]))

    async def _where(
        self, target: str, ids: Sequence[str], pace: Pace, call: Callable[[str | None], Awaitable[None]]
    ) -> None:
        """``call(None)`` on the target, or ``call(thread)`` in the day's forum post (``ids[0]``)."""
        key = self.forum_key(target)
        heard = key not in self.forums
        if heard:
            await pace()
            with self.translated():
                try:
                    return await call(None)
                except discord.NotFound as exc:
                    if exc.code not in NOT_HERE:
                        raise  # 10003, 10015: the channel or the webhook itself is gone
        await self._in_post(target, pace, lambda: call(ids[0]), heard=heard)
        self.forums.add(key)

    async def _in_post(self, target: str, pace: Pace, call: Callable[[], Awaitable[T]], *, heard: bool) -> T:
        """``call`` in the day's forum post. Unknown Message or Unknown Channel there: the message
        or the post is gone (``MessageGone``), unless the forum itself is, which is asked once
        (``look_up``) unless the target has just answered (``heard``)."""
        await pace()
        with self.translated():
            try:
                return await call()
            except discord.NotFound as exc:
                if exc.code not in (UNKNOWN_MESSAGE, UNKNOWN_CHANNEL):
                    raise
                if exc.code == UNKNOWN_CHANNEL and not heard:
                    await pace()
                    await self.look_up(target)  # TargetGone if the forum (or the webhook) is
                raise MessageGone(f"Discord: the message is gone ({exc.code} {exc.text})") from exc

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

    async def look_up(self, target: str) -> None:
        """Ask Discord for the target itself; raises if it is gone."""
        raise NotImplementedError

    async def patch(self, target: str, thread: str | None, message_id: str, message: Outgoing) -> None:
        """Edit a message of the day: in the target (``thread`` None), or in a forum post."""
        raise NotImplementedError

    async def remove(self, target: str, thread: str | None, message_id: str) -> None:
        """Delete a message of the day: in the target (``thread`` None), or in a forum post."""
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


class MessageGone(Permanent):
    """The message to edit or delete is no longer there (deleted, or its forum post is)."""


class LongWait(Exception):
    """A webhook's 429 asking for more than LONG_WAIT seconds (see ``rate_limits``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited for {seconds:g} s")
        self.seconds = seconds


def rate_limits(kind: str, *, stop_long: bool) -> aiohttp.TraceConfig:
    """Counts each 429 Discord answers (``bot.metrics``), and with ``stop_long`` stops a request
    at a 429 that asks for a long wait.

    discord.py retries a short 429 itself, out of the fan-out's sight: only this hook sees it.
    Its webhook adapter has no ``max_ratelimit_timeout``: it sleeps any ``retry_after``, up to
    five times. With ``stop_long`` the hook raises ``LongWait`` at such an answer instead (aiohttp
    closes the response), which becomes ``RetryAfter`` for the fan-out. A 429 without Discord's
    ``Via`` header is left to discord.py, which gives up on it at once (Cloudflare's ban)."""

    async def on_request_end(
        session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestEndParams
    ) -> None:
        answer = params.response
        if answer.status != 429:
            return
        seconds = _header_seconds(answer.headers)
        if answer.headers.get("Via"):
            with contextlib.suppress(ValueError, KeyError, TypeError, aiohttp.ClientError):
                seconds = float(json.loads(await answer.read())["retry_after"])
        metrics.rate_limited(kind, seconds)
        if stop_long and answer.headers.get("Via") and seconds > LONG_WAIT:
            raise LongWait(seconds)

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    return trace


def _header_seconds(headers: Mapping[str, str]) -> float:
    for name in ("X-RateLimit-Reset-After", "Retry-After"):
        with contextlib.suppress(KeyError, ValueError):
            return float(headers[name])
    return 60.0  # no hint (a Cloudflare ban says nothing): try again in a minute
