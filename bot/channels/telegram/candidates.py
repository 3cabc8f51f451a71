"""``/candidates`` on Telegram, for curators in a private chat: the list, its toggles and Draft.

The choosing is ``bot.desk.choosing``'s; here the list is rendered (``telegram/reply/candidates.html``)
with a toggle per candidate (``☐ 3`` / ``☑ 3``, five to a row) and a Draft button. A toggle edits
the keyboard in place, so the message itself remembers what is chosen; Draft reads it back from the
message pressed, starts the draft and sends it as a ``.txt`` document to complete and send back
(which the desk's document handler takes as any post). Anyone else gets one line.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update, User
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.channels.telegram.handlers import NO_PREVIEW, PER_CHAT_GAP
from bot.desk import Desk, choosing
from bot.render.environment import Templates
from bot.render.telegram import pack

log = logging.getLogger("paperboy.telegram")
Context = ContextTypes.DEFAULT_TYPE
ONLY_CURATORS = "Only curators can see the candidates."
DRAFT_LABEL = "📝 Draft the chosen"
PER_ROW = 5


class CandidateHandlers:
    def __init__(self, desk: Desk, templates: Templates) -> None:
        self.desk, self.templates = desk, templates

    def curator(self, user: User | None) -> bool:
        return user is not None and self.desk.curators.on_telegram(user.id)

    async def candidates(self, update: Update, context: Context) -> None:
        """``/candidates``: the newest candidates, to choose from."""
        message, user = update.effective_message, update.effective_user
        if message is None:
            return
        if not self.curator(user):
            log.info("telegram user %s asked for the candidates; not a curator", user.id if user else "?")
            await self._say(context, message.chat_id, ONLY_CURATORS)
            return
        found = await asyncio.to_thread(choosing.listing, self.desk)
        if not found.offered:
            await self._say(context, message.chat_id, choosing.NOTHING)
            return
        body = self.templates.render("telegram/reply/candidates.html", {"listing": found}).strip()
        texts = pack([body])
        for index, text in enumerate(texts):
            if index:
                await asyncio.sleep(PER_CHAT_GAP)
            last = index == len(texts) - 1
            await context.bot.send_message(
                message.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=keyboard(found.choices) if last else None,
            )

    async def pressed(self, update: Update, context: Context) -> None:
        """A toggle flips in place; Draft sends the draft of the chosen ones."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        if not self.curator(query.from_user):
            await query.answer(ONLY_CURATORS, show_alert=True)
            return
        message = query.message
        if not isinstance(message, Message) or message.reply_markup is None:
            await query.answer("That list is gone: send /candidates again.", show_alert=True)
            return
        rows = message.reply_markup.inline_keyboard
        datas = [str(b.callback_data) for row in rows for b in row if b.callback_data]
        if query.data == choosing.DRAFT:
            await self._draft(query.from_user.id, context, message, datas)
            await query.answer()
            return
        if query.data not in datas:
            await query.answer("That button is not on this list.", show_alert=True)
            return
        toggles = [_choice(data, n) for n, data in enumerate(datas, start=1) if data != choosing.DRAFT]
        flipped = [
            (choosing.pressed(c.data, c.number) or c) if c.data == query.data else c
            for c in toggles
            if c is not None
        ]
        await query.edit_message_reply_markup(reply_markup=keyboard(flipped))
        await query.answer()

    async def _draft(self, user: int, context: Context, message: Message, datas: list[str]) -> None:
        ids = choosing.chosen(datas)
        done = await asyncio.to_thread(choosing.draft, self.desk, ids, f"telegram:{user}")
        if done.pick is None:
            await self._say(context, message.chat_id, done.text)
            return
        data = io.BytesIO(done.pick.text.encode())
        await context.bot.send_document(
            message.chat_id, InputFile(data, filename=done.pick.name), caption=done.text
        )
        await context.bot.edit_message_reply_markup(message.chat_id, message.message_id, reply_markup=None)

    async def _say(self, context: Context, chat: int, text: str) -> None:
        await context.bot.send_message(
            chat, html.escape(text), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
        )


def _choice(data: str, number: int) -> choosing.Choice | None:
    found = choosing.CHOICE.fullmatch(data)
    if found is None:
        return None
    return choosing.Choice(number, found["id"], chosen=found["state"] == "-")


def keyboard(choices: list[choosing.Choice] | tuple[choosing.Choice, ...]) -> InlineKeyboardMarkup:
    """A toggle per candidate, five to a row, then Draft."""
    buttons = [InlineKeyboardButton(c.label, callback_data=c.data) for c in choices]
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    return InlineKeyboardMarkup([*rows, [InlineKeyboardButton(DRAFT_LABEL, callback_data=choosing.DRAFT)]])
