"""The Telegram bot inside ``paperboy run``: long polling by default, a webhook on the service's
own web server when ``PAPERBOY_TELEGRAM_WEBHOOK_URL`` is set (Telegram's secret-token header
checked on every request), and the command menu registered in English and Korean.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.archive.store import Archive
from bot.channels.checks import source_channel, telegram_api_url, telegram_webhook
from bot.channels.telegram.candidates import CandidateHandlers
from bot.channels.telegram.desk import DeskHandlers
from bot.channels.telegram.handlers import ADMINS, Handlers, OnSubscribe
from bot.channels.telegram.sender import TELEGRAM_API, file_url
from bot.commands import COMMANDS, CURSOR_PATTERN, PAGE_SIZE, SIMILAR_PATTERN, descriptions
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.desk import Desk
from bot.desk.choosing import PATTERN as CANDIDATES
from bot.desk.retag import PATTERN as RETAG
from bot.render.environment import Templates

log = logging.getLogger("paperboy.telegram")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
UPDATES = ["message", "channel_post", "callback_query", "inline_query"]
#: Bigger than any update Telegram sends (messages are at most 4,096 characters).
MAX_UPDATE = 1024 * 1024


class TelegramBot:
    """One PTB ``Application``; ``start``/``stop`` are called by the service (``Frontend``)."""

    name = "telegram"

    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        token: str,
        *,
        api_url: str | None = None,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        on_subscribe: OnSubscribe | None = None,
        templates: Templates | None = None,
        page_size: int = PAGE_SIZE,
        desk: Desk | None = None,
        source_channel: int | str | None = None,
    ) -> None:
        """``desk``: curators' posts go there (None: posting from chat is off); ``source_channel``:
        the curator's channel, whose posts count as sent to the bot (an id, or an @username)."""
        base = api_url or TELEGRAM_API
        builder: Any = Application.builder().token(token).base_url(base)
        builder = builder.base_file_url(file_url(base))
        if webhook_url:
            builder = builder.updater(None)
        # Replies share Telegram's limits with nobody else in this Application: PTB's limiter keeps
        # them under 30/s and 20/min per group, and waits out a 429 (retry_after) before retrying.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=5)).concurrent_updates(16)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.webhook_url = webhook_url
        # Telegram allows 1-256 characters of A-Z, a-z, 0-9, _ and -: token_urlsafe's alphabet.
        self.secret = webhook_secret or secrets.token_urlsafe(32)
        self.routes: list[Route] = []
        if webhook_url:
            self.routes = [Route(urlsplit(webhook_url).path or "/", self._webhook, methods=["POST"])]
        templates = templates or Templates(DEFAULT_TEMPLATES, settings.templates)
        self.handlers = Handlers(archive, settings, templates, on_subscribe, page_size)
        self.desk = None if desk is None else DeskHandlers(desk, templates, self.handlers)
        self.candidates = None if desk is None else CandidateHandlers(desk, templates)
        self.source_channel = source_channel
        self._install()

    def _install(self) -> None:
        h, d, app, message = self.handlers, self.desk, self.app, filters.UpdateType.MESSAGE
        private = message & filters.ChatType.PRIVATE
        app.add_handler(CommandHandler([info.name for info in COMMANDS], h.command, filters=message))
        if d is not None:
            app.add_handler(CommandHandler("draft", d.draft, filters=private))
            app.add_handler(CommandHandler("done", d.done, filters=private))
        if self.candidates is not None:
            app.add_handler(CommandHandler("candidates", self.candidates.candidates, filters=private))
        app.add_handler(MessageHandler(message & filters.COMMAND, h.unknown))
        app.add_handler(MessageHandler(private & filters.FORWARDED, h.forwarded))
        if d is not None:
            app.add_handler(MessageHandler(private & filters.Document.ALL, d.document))
        app.add_handler(MessageHandler(private & filters.TEXT, d.text if d else h.text))
        app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POST & filters.COMMAND, h.channel_post))
        if d is not None and self.source_channel is not None:
            source = self.source_channel
            chat = filters.Chat(username=source) if isinstance(source, str) else filters.Chat(chat_id=source)
            posts = filters.UpdateType.CHANNEL_POST & chat & (filters.TEXT | filters.Document.ALL)
            app.add_handler(MessageHandler(posts, d.channel_post))
        app.add_handler(CallbackQueryHandler(h.page, pattern=CURSOR_PATTERN))
        app.add_handler(CallbackQueryHandler(h.similar, pattern=SIMILAR_PATTERN))
        if d is not None:
            app.add_handler(CallbackQueryHandler(d.pressed, pattern=r"^desk:"))
            app.add_handler(CallbackQueryHandler(d.retagged, pattern=RETAG))
        if self.candidates is not None:
            app.add_handler(CallbackQueryHandler(self.candidates.pressed, pattern=CANDIDATES))
        app.add_handler(CallbackQueryHandler(h.stale_button))
        app.add_handler(InlineQueryHandler(h.inline))
        app.add_error_handler(h.failed)

    async def start(self) -> None:
        await self.app.initialize()
        for lang in (None, "ko"):
            menu = [BotCommand(name, text) for name, text in descriptions(lang)]
            await self.app.bot.set_my_commands(menu, language_code=lang)
        if self.webhook_url:
            await self.app.bot.set_webhook(
                self.webhook_url, secret_token=self.secret, allowed_updates=UPDATES
            )
        elif self.app.updater is not None:
            await self.app.updater.start_polling(allowed_updates=UPDATES)
        await self.app.start()
        mode = "on its webhook" if self.webhook_url else "polling"
        log.info("telegram bot @%s is %s", self.app.bot.username, mode)
        if self.desk is not None and self.source_channel is not None:
            await self._check_source()

    async def _check_source(self) -> None:
        """Telegram sends a bot a channel's posts only when it administers the channel: say so."""
        try:
            member = await self.app.bot.get_chat_member(self.source_channel, self.app.bot.id)
        except TelegramError as exc:
            log.warning("PAPERBOY_TELEGRAM_SOURCE_CHANNEL %s: %s", self.source_channel, exc)
            return
        if member.status not in ADMINS:
            log.warning(
                "PAPERBOY_TELEGRAM_SOURCE_CHANNEL %s: make the bot an administrator there, or it never"
                " sees the posts",
                self.source_channel,
            )

    async def stop(self) -> None:
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def _webhook(self, request: Request) -> PlainTextResponse:
        """Updates Telegram posts; anyone else (no or a wrong secret) gets 403 and changes nothing."""
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return PlainTextResponse("wrong or missing secret token", status_code=403)
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_UPDATE:
            return PlainTextResponse("too large for a Telegram update", status_code=413)
        try:
            data = await request.json()
            update = Update.de_json(data, self.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return PlainTextResponse("not a Telegram update", status_code=400)
        await self.app.update_queue.put(update)
        return PlainTextResponse("ok")


def from_env(
    archive: Archive,
    settings: Settings,
    env: Mapping[str, str],
    on_subscribe: OnSubscribe | None,
    desk: Desk | None = None,
) -> TelegramBot:
    """The bot as the environment configures it; a webhook needs an https URL (Telegram's rule)."""
    webhook = env.get("PAPERBOY_TELEGRAM_WEBHOOK_URL") or None
    telegram_webhook(webhook, env.get("PAPERBOY_TELEGRAM_WEBHOOK_SECRET"))
    return TelegramBot(
        archive,
        settings,
        env["PAPERBOY_TELEGRAM_TOKEN"],
        api_url=telegram_api_url(env.get("PAPERBOY_TELEGRAM_API_URL")),
        webhook_url=webhook,
        webhook_secret=env.get("PAPERBOY_TELEGRAM_WEBHOOK_SECRET") or None,
        on_subscribe=on_subscribe,
        desk=desk,
        source_channel=source_channel(env.get("PAPERBOY_TELEGRAM_SOURCE_CHANNEL") or ""),
    )
