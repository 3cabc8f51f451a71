"""The Telegram channel of the scheduler: a day's digest as HTML messages, in order, to a chat.

Errors become the scheduler's few outcomes (``bot.channels.base``): Telegram's ``retry_after``
is passed on exactly; a blocked bot, a kicked bot or a chat that no longer exists retires the
subscription; a group upgraded to a supergroup moves it to the new id (the fan-out resends
there); a message Telegram refuses is permanent; network trouble is transient.

A digest of several messages that fails half-way resumes where it stopped when the fan-out
retries, so a 429 on the third message does not send the first two again.

A correction of a day that has gone out (``scheduler/edits.py``) edits each message that changed
in place (editMessageText), sends what the corrected day has more after the last, and deletes
what it has fewer; the same errors mean the same things, and an edit or deletion Telegram finds
already done ("message is not modified", "message to delete not found") is done.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
    TimedOut,
)
from telegram.error import RetryAfter as TelegramRetryAfter
from telegram.request import HTTPXRequest

from bot import metrics
from bot.channels.base import Channel, Misconfigured, Pace, Permanent, RetryAfter, TargetGone, Transient
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.render.context import DigestView
from bot.render.environment import Templates
from bot.render.telegram import TelegramMessage, render_telegram

TELEGRAM_API = "https://api.telegram.org/bot"
#: Bad Request descriptions that mean the chat is gone rather than the message being wrong.
_GONE = (
    "chat not found",
    "user not found",
    "message thread not found",
    "topic_deleted",
    "chat_write_forbidden",
    "group chat was deactivated",
)
#: Bad Request descriptions that mean an edit or a deletion has nothing left to do.
NOT_MODIFIED = "message is not modified"
ALREADY_DELETED = "message to delete not found"


def split_target(target: str) -> tuple[int | str, int | None]:
    """``-100123/45`` → (-100123, 45); ``@channel`` stays a name; a private chat is its id."""
    chat, _, thread = target.partition("/")
    chat_id: int | str = chat if chat.startswith("@") else int(chat)
    return chat_id, int(thread) if thread else None


def make_bot(token: str, api_url: str | None, *, pool: int = 64) -> Bot:
    """A Bot whose HTTP pool is as wide as the fan-out's concurrency (PTB's default is 1)."""
    request = HTTPXRequest(connection_pool_size=pool, pool_timeout=10.0, read_timeout=15.0)
    base = api_url or TELEGRAM_API
    return Bot(token, base_url=base, base_file_url=file_url(base), request=request)


def file_url(base: str) -> str:
    """The Bot API's file address beside its method address (``…/bot`` → ``…/file/bot``)."""
    return base.replace("/bot", "/file/bot")


class TelegramChannel(Channel):
    kind = "telegram"
    editable = True

    def __init__(self, bot: Bot, templates: Templates) -> None:
        self.bot = bot
        self.templates = templates
        self._started = False
        # (target, digest) → ids of the parts already sent, while a retry may still come.
        self._partial: dict[tuple[str, int], list[str]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, token: str, api_url: str | None) -> TelegramChannel:
        return cls(make_bot(token, api_url), Templates(DEFAULT_TEMPLATES, settings.templates))

    def render(self, digest: DigestView) -> tuple[TelegramMessage, ...]:
        return tuple(render_telegram(self.templates, digest))

    async def _start(self) -> None:
        if not self._started:
            try:
                await self.bot.initialize()  # getMe: the first call to see the token refused
            except InvalidToken as exc:
                await self.bot.shutdown()  # its HTTP clients opened before getMe was refused
                raise _refused() from exc
            self._started = True

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        await self._start()
        chat_id, thread = split_target(target)
        key = (target, id(rendered))
        ids = self._partial.setdefault(key, [])
        for message in rendered[len(ids) :]:
            await pace()
            ids.append(str(await self._send_one(chat_id, thread, message)))
        del self._partial[key]
        return ids

    async def _send_one(self, chat_id: int | str, thread: int | None, message: TelegramMessage) -> int:
        with translated(thread):
            sent = await self.bot.send_message(
                chat_id,
                message.text,
                parse_mode=_parse_mode(message),
                link_preview_options=LinkPreviewOptions(is_disabled=not message.link_preview),
                message_thread_id=thread,
            )
        return sent.message_id

    # -- corrections: the day's messages edited in place, one more sent, a surplus one deleted ----

    def parts(self, rendered: Any) -> tuple[TelegramMessage, ...]:
        return tuple(rendered)

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
        """editMessageText. Telegram refuses an edit that changes nothing ("message is not
        modified"): the message already shows ``part`` (an edit retried after a crash), so done."""
        await self._start()
        chat_id, thread = split_target(target)
        message: TelegramMessage = part
        await pace()
        with translated(thread, done=NOT_MODIFIED, verb="edit"):
            await self.bot.edit_message_text(
                message.text,
                chat_id,
                int(ids[index]),
                parse_mode=_parse_mode(message),
                link_preview_options=LinkPreviewOptions(is_disabled=not message.link_preview),
            )

    async def send_part(
        self, target: str, ids: Sequence[str], part: Any, pace: Pace, *, mention: str | None = None
    ) -> str:
        """sendMessage to the same chat, and topic (``-100123/45``), as the day's messages."""
        await self._start()
        chat_id, thread = split_target(target)
        await pace()
        return str(await self._send_one(chat_id, thread, part))

    async def delete_part(self, target: str, ids: Sequence[str], index: int, pace: Pace) -> None:
        """deleteMessage; one already gone counts as done. Telegram lets a bot delete its
        messages in groups only for 48 hours ("message can't be deleted" after: permanent)."""
        await self._start()
        chat_id, thread = split_target(target)
        await pace()
        with translated(thread, done=ALREADY_DELETED, verb="delete"):
            await self.bot.delete_message(chat_id, int(ids[index]))

    async def close(self) -> None:
        if self._started:
            await self.bot.shutdown()
            self._started = False


def _refused() -> Misconfigured:
    """Telegram answered 401 or 404 for the bot itself: the token is wrong or was revoked. (Not
    with PTB's message: after getMe it quotes the whole token.)"""
    return Misconfigured(
        "Telegram refused PAPERBOY_TELEGRAM_TOKEN (the bot's token): check it with BotFather"
    )


@contextlib.contextmanager
def translated(thread: int | None, *, done: str | None = None, verb: str = "send") -> Iterator[None]:
    """PTB's exceptions as the scheduler's few outcomes, for every call that names a chat.

    ``done``: a Bad Request description that means the call's work is already done (an edit
    that changes nothing, a message already deleted); the error is swallowed."""
    try:
        yield
    except TelegramRetryAfter as exc:
        metrics.rate_limited("telegram", _seconds(exc.retry_after))
        raise RetryAfter(_seconds(exc.retry_after), str(exc)) from exc
    except ChatMigrated as exc:
        new = str(exc.new_chat_id) + (f"/{thread}" if thread else "")
        raise TargetGone(f"the group became a supergroup: {exc.new_chat_id}", new_target=new) from exc
    except Forbidden as exc:
        raise TargetGone(f"Telegram: {exc.message}") from exc
    except BadRequest as exc:
        said = exc.message.lower()
        if done is not None and done in said:
            return
        if any(phrase in said for phrase in _GONE):
            raise TargetGone(f"Telegram: {exc.message}") from exc
        what = "message" if verb == "send" else f"{verb} of the message"
        raise Permanent(f"Telegram refused the {what}: {exc.message}") from exc
    except (TimedOut, NetworkError) as exc:
        raise Transient(f"Telegram: {exc.message}") from exc
    except InvalidToken as exc:
        raise _refused() from exc
    except TelegramError as exc:  # Conflict, ...: retrying will not help
        raise Permanent(f"Telegram: {exc.message}") from exc


def _parse_mode(message: TelegramMessage) -> str:
    return ParseMode.HTML if message.parse_mode == "HTML" else message.parse_mode


def _seconds(value: object) -> float:
    """PTB gives retry_after as int seconds, or a timedelta once PTB_TIMEDELTA is on."""
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]
