"""What the Telegram bot does with an update: a command, a button, an inline query, a forward.

Every lookup goes through ``bot.commands`` (the same answers the Discord bot gives); this module
only finds out who asks from where (the chat's address, a forum topic, whether the caller is a
chat administrator) and sends the rendered reply back. The archive is queried in a worker
thread so a slow query never stalls the bot's other chats.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    Chat,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageOriginChannel,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.archive.store import Archive
from bot.channels.telegram.replies import Reply, render_answer
from bot.commands import PAGE_SIZE, Error, PapersPage, Subscribed, answer, turn_page
from bot.commands.catalogue import BY_NAME, command_name
from bot.config import Settings
from bot.models import Subscription
from bot.render.context import views_digest
from bot.render.environment import Templates
from bot.render.telegram import pack, paper_block
from bot.suggest.similar import SimilarIndex
from bot.suggest.store import features_of

log = logging.getLogger("paperboy.telegram")
OnSubscribe = Callable[[Subscription], Awaitable[object]]
Context = ContextTypes.DEFAULT_TYPE
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
ADMINS = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
HINT = "I answer commands: /tag vq, /search words, /latest. /help lists them all."
SORRY = "Sorry, something went wrong on our side. Please try again in a moment."
INLINE_RESULTS = 20
#: What a channel (its own post, or one forwarded from it) may ask: only its subscription.
SUBSCRIPTION_COMMANDS = ("subscribe", "unsubscribe", "settings")
#: Telegram's one message a second per chat, for a reply of several messages (/latest).
PER_CHAT_GAP = 1.0


class Handlers:
    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        templates: Templates,
        on_subscribe: OnSubscribe | None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.page_size = page_size
        self.archive = archive
        self.settings = settings
        self.templates = templates
        self.on_subscribe = on_subscribe
        #: The features /similar reads, open for the bot's life (reopened after each refresh).
        self.index = SimilarIndex(features_of(archive, settings.data_dir))

    async def command(self, update: Update, context: Context) -> None:
        """A known command in a private chat, a group (``/tag@bot`` too) or a forum topic."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        name, args = split_command(message.text)
        admin = BY_NAME[name].admin_only if name in BY_NAME else False
        allowed = admin and await self._is_admin(context, message)
        await self._answer(context, message, name, args, address(message), allowed)

    async def channel_post(self, update: Update, context: Context) -> None:
        """Only a channel's administrators can post there, so a subscription command is theirs."""
        message = update.channel_post
        if message is None or message.text is None:
            return
        name, args = split_command(message.text)
        if name in SUBSCRIPTION_COMMANDS:
            await self._answer(context, message, name, args, address(message), True)

    async def forwarded(self, update: Update, context: Context) -> None:
        """``/subscribe`` forwarded from a channel to the bot: subscribes that channel, if the
        forwarder administers it and the bot may post there."""
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or not isinstance(message.forward_origin, MessageOriginChannel):
            return
        channel = message.forward_origin.chat
        name, args = split_command(message.text or "")
        if name not in SUBSCRIPTION_COMMANDS:
            await self._send(context, message, [Reply("Forward a /subscribe posted in your channel.")])
            return
        try:
            theirs = await context.bot.get_chat_member(channel.id, user.id)
            ours = await context.bot.get_chat_member(channel.id, context.bot.id)
        except TelegramError as exc:
            name_shown = channel.title or "that channel"
            text = f"I cannot see {name_shown}: add me as an administrator first ({exc})."
            await self._send(context, message, [Reply(text)])
            return
        if ours.status not in ADMINS:
            text = f"Make me an administrator of {channel.title or 'the channel'} first, so I can post there."
            await self._send(context, message, [Reply(text)])
            return
        await self._answer(context, message, name, args, f"telegram:{channel.id}", theirs.status in ADMINS)

    async def unknown(self, update: Update, context: Context) -> None:
        """A command we don't have: a hint in private, or in a group when addressed to us."""
        message = update.effective_message
        if message is None or message.text is None:
            return
        word = message.text.split(maxsplit=1)[0]
        _, at, bot_name = word.partition("@")
        if at and bot_name.lower() != (context.bot.username or "").lower():
            return  # another bot's command
        if message.chat.type != ChatType.PRIVATE and not at:
            return  # in a group the bot speaks only when addressed
        await self._answer(context, message, word, "", address(message), False)

    async def text(self, update: Update, context: Context) -> None:
        """Plain text in a private chat: how to ask."""
        message = update.effective_message
        if message is not None:
            await self._send(context, message, [Reply(HINT)])

    async def page(self, update: Update, context: Context) -> None:
        """An older/newer button: the same message shows the next page."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        result = await asyncio.to_thread(
            turn_page, self.archive, query.data, page_size=self.page_size, base_url=self.settings.base_url
        )
        if isinstance(result, Error):
            await query.answer(result.text, show_alert=True)
            return
        replies = render_answer(self.templates, result, base_url=self.settings.base_url)
        try:
            await query.edit_message_text(
                replies[0].text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=replies[-1].keyboard,
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        await query.answer()

    async def similar(self, update: Update, context: Context) -> None:
        """A paper's "similar" button: its related papers, as /similar answers, in a new message."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        result = await asyncio.to_thread(
            turn_page, self.archive, query.data, base_url=self.settings.base_url, index=self.index
        )
        message = query.message
        if isinstance(result, Error) or not isinstance(message, Message):
            await query.answer(result.text, show_alert=True)
            return
        lang = query.from_user.language_code if query.from_user else None
        await self._send(context, message, render_answer(self.templates, result, lang=lang))
        await query.answer()

    async def stale_button(self, update: Update, context: Context) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer("That button no longer works. Send the command again.")

    async def inline(self, update: Update, context: Context) -> None:
        """``@bot vq`` in any chat: papers by tag (``vq``, ``#vq``) or by words, to share."""
        query = update.inline_query
        if query is None:
            return
        result = await asyncio.to_thread(self._inline_lookup, query.query.strip())
        articles = []
        if isinstance(result, PapersPage):
            for paper in result.papers:
                body = paper_block(self.templates, views_digest(None, [paper], self.settings.base_url), paper)
                tags = " ".join(f"#{tag}" for tag in paper.tags)
                if result.is_suggested(paper):  # the model's guess, never passed off as the curator's
                    tags = f"☆ suggested #{result.tag} · {tags}".rstrip(" ·")
                articles.append(
                    InlineQueryResultArticle(
                        id=hashlib.sha1(paper.id.encode()).hexdigest()[:32],
                        title=paper.title[:256],
                        description=" · ".join(filter(None, [str(paper.date or ""), tags]))[:256],
                        input_message_content=InputTextMessageContent(
                            pack([body])[0], ParseMode.HTML, link_preview_options=NO_PREVIEW
                        ),
                    )
                )
        await query.answer(articles, cache_time=60)

    def _inline_lookup(self, text: str) -> Any:
        if not text:
            return None  # nothing typed yet: nothing to offer
        by_tag = answer(self.archive, "tag", text, page_size=INLINE_RESULTS)
        if isinstance(by_tag, PapersPage) or text.startswith("#"):
            return by_tag
        return answer(self.archive, "search", text, page_size=INLINE_RESULTS)

    async def failed(self, update: object, context: Context) -> None:
        """A bug or an outage: logged for the operator, one polite line for the user, no trace."""
        log.error("update %s failed", getattr(update, "update_id", "?"), exc_info=context.error)
        message = update.effective_message if isinstance(update, Update) else None
        if message is not None:
            try:
                await self._send(context, message, [Reply(SORRY)])
            except TelegramError:
                log.warning("could not tell chat %s about the failure", message.chat_id)

    async def _answer(
        self, context: Context, message: Message, name: str, args: str, chat: str, is_admin: bool
    ) -> None:
        now = dt.datetime.now(dt.UTC)
        result = await asyncio.to_thread(
            answer,
            self.archive,
            name,
            args,
            chat=chat,
            is_admin=is_admin,
            page_size=self.page_size,
            base_url=self.settings.base_url,
            today=now.astimezone(self.settings.timezone).date(),
            now=now,
            index=self.index,
        )
        user = message.from_user
        lang = user.language_code if user else None
        replies = render_answer(self.templates, result, lang=lang, base_url=self.settings.base_url)
        await self._send(context, message, replies)
        if isinstance(result, Subscribed) and result.change != "already" and self.on_subscribe:
            await self.on_subscribe(result.subscription)

    async def _send(self, context: Context, message: Message, replies: list[Reply]) -> None:
        thread = message.message_thread_id if message.is_topic_message else None
        for index, reply in enumerate(replies):
            if index:
                await asyncio.sleep(PER_CHAT_GAP)  # PTB's limiter does not pace one private chat
            await context.bot.send_message(
                message.chat_id,
                reply.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
                reply_markup=reply.keyboard,
                message_thread_id=thread,
            )

    async def _is_admin(self, context: Context, message: Message) -> bool:
        chat = message.chat
        if chat.type in (ChatType.PRIVATE, ChatType.CHANNEL):
            return True
        if message.sender_chat is not None and message.sender_chat.id == chat.id:
            return True  # an anonymous administrator, posting as the group
        if message.from_user is None:
            return False
        member = await context.bot.get_chat_member(chat.id, message.from_user.id)
        return member.status in ADMINS


def split_command(text: str) -> tuple[str, str]:
    """``/Tag@bot vq`` → (``tag``, ``vq``): the command's name and its raw argument text."""
    word, _, args = text.partition(" ")
    return command_name(word), args


def address(message: Message) -> str:
    """The subscription address of where a message was written: a chat, or a forum topic."""
    chat: Chat = message.chat
    if message.is_topic_message and message.message_thread_id:
        return f"telegram:{chat.id}/{message.message_thread_id}"
    return f"telegram:{chat.id}"
