"""The curator's desk on Telegram: posts sent to the bot, their previews and the preview's buttons.

A curator (``PAPERBOY_CURATORS``) posts in a private chat with the bot:

- a ``.txt``/``.md`` document, checked by name and size before it is fetched (``getFile``, then
  the file URL beside ``PAPERBOY_TELEGRAM_API_URL``), and fetched with the same cap;
- text. Telegram's apps split a message longer than 4,096 characters into several, sent one
  after the other, so a piece that long (``SPLIT_AT``) waits ``JOIN_AFTER`` seconds for the next
  and the pieces are joined back with line breaks; a shorter piece ends the post at once;
- ``/draft``, any number of messages, ``/done``: joined as they came, whatever their length.

A post in the curator's channel (``PAPERBOY_TELEGRAM_SOURCE_CHANNEL``; the bot an administrator
there, so Telegram sends it ``channel_post`` updates) counts as sent to the bot, and its preview
goes to every Telegram curator in private. Anyone else gets one line: only curators can post.

The preview is one HTML message (more if it is long) with the buttons, then the first message of
the digest exactly as subscribers will get it (``render_telegram``). A button's callback data is
``desk:ACTION:DRAFT``; the desk decides what it does, and refuses a forged or stale one. Below
them, a row per tag the model offers (``bot.desk.retag``): ✅ writes it into the draft, ✖ drops
it; either edits the preview in place.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from pathlib import PurePosixPath

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram.handlers import NO_PREVIEW, PER_CHAT_GAP, Handlers
from bot.desk import LIFETIME, ONLY_CURATORS, Desk, Outcome, Received, buttons, intake
from bot.desk.drafts import ID_PATTERN
from bot.errors import InputError
from bot.render._split import utf16_len
from bot.render.environment import Templates
from bot.render.telegram import pack, render_telegram

log = logging.getLogger("paperboy.telegram")
Context = ContextTypes.DEFAULT_TYPE
#: A piece at least this long (UTF-16 units) may be the first part of a split message.
SPLIT_AT = 3000
#: How long such a piece waits for the next part.
JOIN_AFTER = 2.5
BUTTON = re.compile(rf"desk:(?P<action>[a-z]{{1,8}}):(?P<draft>{ID_PATTERN})")
#: A ``/draft`` with no message for this long is over: later text is not swallowed into it.
DRAFTING_IDLE = 3600.0
#: Telegram's limit on the text of a callback query's answer.
ANSWER_LENGTH = 200
NO_DRAFT = "Nothing to finish: send /draft, then the post in as many messages as it takes, then /done."


class DeskHandlers:
    """What the bot does with a curator's post and with the preview's buttons."""

    def __init__(
        self,
        desk: Desk,
        templates: Templates,
        handlers: Handlers,
        *,
        join_after: float = JOIN_AFTER,
        split_at: int = SPLIT_AT,
    ) -> None:
        self.desk, self.templates, self.handlers = desk, templates, handlers
        self.join_after, self.split_at = join_after, split_at
        #: Pieces of a split paste waiting for the next, by author (a user, or the channel).
        self._pieces: dict[str, list[str]] = {}
        #: A curator's ``/draft`` under way: when its last message came, and its messages.
        self._drafting: dict[int, tuple[float, list[str]]] = {}

    def curator(self, user: User | None) -> bool:
        return user is not None and self.desk.curators.on_telegram(user.id)

    # -- posts -----------------------------------------------------------------------------------

    async def document(self, update: Update, context: Context) -> None:
        """A file sent in a private chat."""
        message, user = update.effective_message, update.effective_user
        if message is None or message.document is None:
            return
        if not self.curator(user):
            await self._refuse(context, message, user)
            return
        received = await self._file(context, message, f"telegram:{message.chat_id}")
        await self._show(context, [message.chat_id], received)

    async def text(self, update: Update, context: Context) -> None:
        """Text in a private chat: a curator's post (or a piece of one); anyone else's, a hint."""
        message, user = update.effective_message, update.effective_user
        if message is None or message.text is None or user is None or not self.curator(user):
            await self.handlers.text(update, context)
            return
        drafting = self._drafting.get(user.id)
        if drafting is not None and time.monotonic() - drafting[0] < DRAFTING_IDLE:
            self._drafting[user.id] = (time.monotonic(), [*drafting[1], message.text])
            return
        self._drafting.pop(user.id, None)  # a /draft left alone for long: this text is a post of its own
        text = await self._joined(f"user:{user.id}", message.text)
        if text is not None:
            await self._post_text(context, f"telegram:{user.id}", text, [message.chat_id])

    async def draft(self, update: Update, context: Context) -> None:
        """``/draft``: the messages that follow, until ``/done``, are one post."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not self.curator(user):
            await self._refuse(context, message, user)
            return
        rest = (message.text or "").partition(" ")[2].strip()
        self._drafting[user.id] = (time.monotonic(), [rest] if rest else [])
        await self._say(
            context, message.chat_id, "Send the post in as many messages as it takes, then /done."
        )

    async def done(self, update: Update, context: Context) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not self.curator(user):
            await self._refuse(context, message, user)
            return
        drafting = self._drafting.pop(user.id, None)
        if drafting is None or time.monotonic() - drafting[0] >= DRAFTING_IDLE:
            await self._say(context, message.chat_id, NO_DRAFT)
            return
        await self._post_text(context, f"telegram:{user.id}", "\n".join(drafting[1]), [message.chat_id])

    async def channel_post(self, update: Update, context: Context) -> None:
        """A post in the curator's channel: its preview goes to every curator in private."""
        message = update.channel_post
        if message is None:
            return
        curator, curators = f"telegram-channel:{message.chat_id}", sorted(self.desk.curators.telegram)
        if not curators:
            log.warning("a post in channel %s has nobody to preview it: PAPERBOY_CURATORS", message.chat_id)
            return
        if message.document is not None:
            if PurePosixPath(message.document.file_name or "").suffix.lower() not in intake.EXTENSIONS:
                log.info("channel %s: a file that is not a post; left alone", message.chat_id)
                return
            await self._show(context, curators, await self._file(context, message, curator))
        elif message.text:
            text = await self._joined(f"channel:{message.chat_id}", message.text)
            if text is None:
                return
            if not await asyncio.to_thread(self.desk.looks_like_post, text):
                log.info("channel %s: a post in no known format, not a digest; left alone", message.chat_id)
                return
            await self._post_text(context, curator, text, curators)

    async def _joined(self, author: str, piece: str) -> str | None:
        """The whole post once its last piece is in, else None (a later piece will finish it)."""
        pieces = self._pieces.setdefault(author, [])
        pieces.append(piece)
        count = len(pieces)
        if utf16_len(piece) >= self.split_at:
            await asyncio.sleep(self.join_after)
            if self._pieces.get(author) is not pieces or len(pieces) != count:
                return None  # another piece came: its handler finishes the post
        self._pieces.pop(author, None)
        return "\n".join(pieces)

    async def _post_text(self, context: Context, curator: str, text: str, chats: list[int]) -> None:
        reply_to = f"telegram:{chats[0]}" if len(chats) == 1 else "telegram:curators"
        received = await asyncio.to_thread(self.desk.receive_text, curator, text, reply_to=reply_to)
        await self._show(context, chats, received)

    async def _file(self, context: Context, message: Message, curator: str) -> Received:
        """Check the file by name and size, fetch it (capped), and read it."""
        document = message.document
        assert document is not None
        try:
            intake.check_file(document.file_name, document.file_size)
            found = await context.bot.get_file(document.file_id)
            intake.check_file(document.file_name, found.file_size)
            if not found.file_path:
                raise InputError("Telegram gave no address for that file; send it again.")
            data = await intake.fetch(found.file_path)
        except InputError as exc:
            return self.desk.refuse(str(exc))
        except BadRequest as exc:  # "file is too big": over getFile's 20 MB
            return self.desk.refuse(f"Telegram would not hand the file over ({exc.message}).")
        name = document.file_name or "post.txt"
        reply_to = f"telegram:{message.chat_id}"
        return await asyncio.to_thread(self.desk.receive_file, curator, data, name, reply_to=reply_to)

    # -- the preview -----------------------------------------------------------------------------

    def render(self, received: Received) -> list[tuple[str, InlineKeyboardMarkup | None]]:
        """The preview's messages, the last with the buttons, then the digest's first message."""
        context = {"preview": received.preview, "hours": int(LIFETIME.total_seconds() // 3600)}
        texts = pack([self.templates.render("telegram/reply/preview.html", context).strip()])
        messages: list[tuple[str, InlineKeyboardMarkup | None]] = [(text, None) for text in texts]
        draft = received.draft
        if draft is not None:
            row = [
                InlineKeyboardButton(label, callback_data=f"desk:{action}:{draft.id}")
                for label, action in buttons(received.preview)
            ]
            offered = [
                [InlineKeyboardButton(label, callback_data=data) for label, data in offer.buttons(draft.id)]
                for offer in received.preview.offers
            ]
            messages[-1] = (messages[-1][0], InlineKeyboardMarkup([row, *offered]))
            if received.preview.digest is not None:
                messages.append((render_telegram(self.templates, received.preview.digest)[0].text, None))
        return messages

    async def _show(self, context: Context, chats: list[int], received: Received) -> None:
        messages = self.render(received)
        for chat in chats:
            try:
                for index, (text, keyboard) in enumerate(messages):
                    if index:
                        await asyncio.sleep(PER_CHAT_GAP)
                    await context.bot.send_message(
                        chat,
                        text,
                        parse_mode=ParseMode.HTML,
                        link_preview_options=NO_PREVIEW,
                        reply_markup=keyboard,
                    )
            except TelegramError as exc:  # a curator who never opened a chat with the bot
                log.warning("could not show curator %s a preview: %s", chat, exc)

    # -- the buttons -----------------------------------------------------------------------------

    async def pressed(self, update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        found = BUTTON.fullmatch(query.data)
        if not self.curator(query.from_user):
            await query.answer(ONLY_CURATORS, show_alert=True)
            return
        if found is None:
            await query.answer("That button is not one of the preview's.", show_alert=True)
            return
        curator = f"telegram:{query.from_user.id}"
        outcome = await asyncio.to_thread(self.desk.act, found["draft"], found["action"], curator)
        await query.answer(_short(outcome.text), show_alert=not outcome.ok)
        message = query.message
        if message is None:
            return
        if not outcome.keep and isinstance(message, Message) and _carries(message, query.data):
            try:
                await context.bot.edit_message_reply_markup(
                    message.chat.id, message.message_id, reply_markup=None
                )
            except BadRequest as exc:  # already without buttons (pressed twice at once)
                log.info("preview buttons were gone already: %s", exc.message)
        if outcome.ok:
            await self._say(context, message.chat.id, outcome.text)
        if outcome.publish:
            context.application.create_task(self._publish(context, message.chat.id, outcome), update=update)

    async def retagged(self, update: Update, context: Context) -> None:
        """A suggested tag's ✅ or ✖: the draft (✅) and the preview change in place."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        if not self.curator(query.from_user):
            await query.answer(ONLY_CURATORS, show_alert=True)
            return
        message = query.message
        if not isinstance(message, Message) or not _carries(message, query.data):
            await query.answer("That button is not one of the preview's.", show_alert=True)
            return
        assert message.reply_markup is not None  # it carries the button pressed
        shown = [str(b.callback_data) for row in message.reply_markup.inline_keyboard for b in row]
        curator = f"telegram:{query.from_user.id}"
        done = await asyncio.to_thread(self.desk.retag, query.data, curator, shown)
        await query.answer(_short(done.text), show_alert=not done.ok)
        if done.received is None:
            return
        summary = [pair for pair in self.render(done.received) if pair[1] is not None]
        text, keyboard = summary[0]
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW, reply_markup=keyboard
        )

    async def _publish(self, context: Context, chat: int, outcome: Outcome) -> None:
        """The day goes out (which may take minutes); then one line says how it went."""
        try:
            text = await self.desk.publish(outcome)
        except Exception:
            log.exception("publishing %s for a curator failed", outcome.day)
            day = outcome.day
            text = f"Publishing {day} failed; it is stored, and `paperboy publish {day}` sends it."
        if text:
            await self._say(context, chat, text)

    # -- small things ----------------------------------------------------------------------------

    async def _refuse(self, context: Context, message: Message, user: User | None) -> None:
        who = f"{user.id} ({user.full_name})" if user else "?"
        log.info("telegram user %s tried to post; not in PAPERBOY_CURATORS", who)
        await self._say(context, message.chat_id, ONLY_CURATORS)

    async def _say(self, context: Context, chat: int, text: str) -> None:
        await context.bot.send_message(
            chat, html.escape(text), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        )


def _carries(message: Message, data: str) -> bool:
    """Whether ``message`` still shows a button with ``data`` (a forged press may name another)."""
    rows = message.reply_markup.inline_keyboard if message.reply_markup else ()
    return any(button.callback_data == data for row in rows for button in row)


def _short(text: str) -> str:
    return text if len(text) <= ANSWER_LENGTH else text[: ANSWER_LENGTH - 1] + "…"
