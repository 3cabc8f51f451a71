"""The Bot API methods the Telegram stand-in answers, and what it records (see ``telegram_standin``)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
from collections import deque

from aiohttp import web

from tests import telegram_standin_rules as rules
from tests.telegram_standin_rules import (
    CallbackAnswer,
    Chat,
    Edit,
    InlineAnswer,
    Json,
    Params,
    Sent,
    bad,
    forbidden,
)


class BotApi:
    """Telegram's side: chats, users, queued updates, flood limits and the methods."""

    def __init__(
        self,
        *,
        per_chat: float = 1.0,
        group_per_minute: int = 20,
        overall_per_second: int = 30,
        enforce: bool = True,
        scale: float = 1.0,
        tolerance: float = 0.9,
        bot_id: int = 123456,
        username: str = "paperboy_test_bot",
        first_name: str = "Paperboy",
    ) -> None:
        """Flood limits: ``per_chat`` seconds between two sends to one chat (``tolerance`` of it is
        enough), ``group_per_minute`` sends to a group or channel, ``overall_per_second`` sends in
        all; 0 turns one off, ``enforce=False`` all. ``scale`` shrinks every window (0.1: ten times
        faster); retry_after stays a whole number of seconds, at least 1."""
        self.per_chat = per_chat
        self.group_per_minute = group_per_minute
        self.overall_per_second = overall_per_second
        self.enforce, self.scale, self.tolerance = enforce, scale, tolerance
        self.token = f"{bot_id}:AAE-stand-in_{bot_id:x}-0123456789abcdefghij"
        self.bot_user: Json = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, Json] = {}
        self.sent: list[Sent] = []
        self.edits: list[Edit] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.inline_answers: list[InlineAnswer] = []
        self.commands: dict[tuple[str, str], list[Json]] = {}  # (scope_key, language_code) -> commands
        self.rejections: list[tuple[str, int, str]] = []  # 429s: (method, chat_id, reason)
        self.errors: list[tuple[str, int, str]] = []  # every error answer: (method, code, description)
        self.calls: list[tuple[str, Json]] = []  # every authorised request: (method, parameters)
        self.webhook: Json | None = None  # url, secret_token, allowed_updates, last_error_*
        self.webhook_deliveries: list[tuple[int, int | None]] = []  # (update_id, HTTP status or None)
        self.updates: list[Json] = []  # queued, unconfirmed
        self.allowed_updates: set[str] | None = None  # None: all but rules.OPT_IN_UPDATES
        self.inline_messages: dict[str, Json] = {}
        self.base_url = ""
        self._overall: deque[float] = deque()
        self._update_ids = itertools.count(10_000)
        self._query_ids = itertools.count(7_000_000)
        self._open_queries: dict[str, str] = {}  # id -> the inline query's text, or ""
        self._poll = 0  # the newest getUpdates; an older one is answered 409 Conflict
        self._changed = asyncio.Event()
        self._closing = False
        self._cursors: dict[int, int] = {}
        self._delivery: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None

    def _bump(self) -> None:
        """Wake everything waiting for a change (long polls, deliveries, ``wait_for``)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def chat_json(self, chat: Chat) -> Json:
        if chat.type == "private":
            user = self.users.get(chat.id, {"first_name": chat.title or "User"})
            return {"id": chat.id, "type": "private", "first_name": user["first_name"]} | (
                {"username": user["username"]} if "username" in user else {}
            )
        found: Json = {"id": chat.id, "type": chat.type, "title": chat.title or f"Chat {chat.id}"}
        if chat.username and chat.type != "group":
            found["username"] = chat.username
        if chat.is_forum:
            found["is_forum"] = True
        return found

    def _chat(self, params: Params, name: str = "chat_id") -> Chat:
        """The addressed chat, or the error Telegram answers for a missing, blocked or upgraded one."""
        wanted = params.chat_id(name)
        if isinstance(wanted, str):
            public = (c for c in self.chats.values() if c.type != "private")  # users have no @chat_id
            chat = next((c for c in public if (c.username or "").lower() == wanted[1:].lower()), None)
        else:
            chat = self.chats.get(wanted)
        if chat is None or chat.state == "deleted":
            raise bad("chat not found")
        if chat.state == "migrated":
            assert chat.migrate_to is not None
            raise bad("group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrate_to)
        if chat.state == "blocked":
            raise forbidden("bot was blocked by the user")
        if chat.state == "kicked":
            kind = {"channel": "bot is not a member of the channel chat"}.get(chat.type)
            raise forbidden(kind or f"bot was kicked from the {chat.type} chat")
        return chat

    def _throttle(self, method: str, chat: Chat) -> None:
        """Injected faults, then the flood limits; an accepted send counts towards them."""
        now = time.monotonic()
        if chat.faults:
            self._reject(method, chat, "injected", chat.faults.popleft())
        if self.enforce:
            wait = chat.last_send + self.per_chat * self.scale * self.tolerance - now
            if self.per_chat and wait > 0:
                self._reject(method, chat, "per_chat", wait)
            window = 60 * self.scale
            while chat.recent and chat.recent[0] <= now - window:
                chat.recent.popleft()
            if chat.type != "private" and self.group_per_minute and len(chat.recent) >= self.group_per_minute:
                self._reject(method, chat, "group", chat.recent[0] + window - now)
            while self._overall and self._overall[0] <= now - self.scale:
                self._overall.popleft()
            if self.overall_per_second and len(self._overall) >= self.overall_per_second:
                self._reject(method, chat, "overall", self._overall[0] + self.scale - now)
        chat.last_send = now
        chat.recent.append(now)
        self._overall.append(now)

    def _reject(self, method: str, chat: Chat, reason: str, wait: float) -> None:
        self.rejections.append((method, chat.id, reason))
        raise rules.too_many(max(1, math.ceil(wait)))

    def _message(
        self, chat: Chat, text: str, entities: list[Json], thread: int | None, sender: Json | None
    ) -> Json:
        message: Json = {
            "message_id": chat.next_message_id,
            "date": int(time.time()),
            "chat": self.chat_json(chat),
        }
        chat.next_message_id += 1
        if sender is not None:
            message["from"] = sender
        if chat.type == "channel":
            message["sender_chat"] = message["chat"]
        if thread is not None:
            message |= {"message_thread_id": thread, "is_topic_message": chat.is_forum}
        message["text"] = text
        if entities:
            message["entities"] = entities
        chat.messages[message["message_id"]] = message
        return message

    # -- the Bot API methods ---------------------------------------------------------------

    async def _api_get_me(self, params: Params) -> Json:
        return self.bot_user

    async def _api_close(self, params: Params) -> bool:
        return True

    _api_log_out = _api_close

    async def _api_send_message(self, params: Params) -> Json:
        chat = self._chat(params)
        thread, parse_mode = params.integer("message_thread_id"), params.string("parse_mode")
        plain, entities = rules.check_text(params.string("text"), parse_mode)
        if thread is not None and thread not in chat.threads:
            raise bad("message thread not found")
        if chat.type == "channel" and not chat.bot_is_admin:
            raise bad("need administrator rights in the channel chat")
        markup = rules.check_markup(params.json("reply_markup"))
        preview = params.json("link_preview_options") or {}
        if preview and "disable_web_page_preview" in params.raw:
            raise bad("can't use link_preview_options together with disable_web_page_preview")
        reply = params.json("reply_parameters") or {}
        if params.integer("reply_to_message_id") is not None:
            reply = {"message_id": params.integer("reply_to_message_id")}
        where = self._chat(Params(reply)) if "chat_id" in reply else chat
        quoted = where.messages.get(reply.get("message_id", 0))
        if reply and quoted is None and not reply.get("allow_sending_without_reply"):
            raise bad("message to be replied not found")
        self._throttle("sendMessage", chat)
        sender = None if chat.type == "channel" else self.bot_user
        message = self._message(chat, plain, entities, thread, sender)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        if quoted is not None:
            message["reply_to_message"] = dict(quoted)
        disabled = bool(preview.get("is_disabled")) or params.flag("disable_web_page_preview")
        self.sent.append(
            Sent(
                chat_id=chat.id,
                thread_id=thread,
                message_id=message["message_id"],
                text=params.string("text") or "",
                plain=plain,
                parse_mode=parse_mode,
                reply_markup=markup,
                link_preview_disabled=disabled,
                at=time.monotonic(),
                entities=entities,
            )
        )
        return message

    async def _api_edit_message_text(self, params: Params, *, text_too: bool = True) -> Json | bool:
        inline_id = params.string("inline_message_id")
        chat: Chat | None = None
        if inline_id:
            if inline_id not in self.inline_messages:
                raise bad("MESSAGE_ID_INVALID")
            message = self.inline_messages[inline_id]
        else:
            chat = self._chat(params)
            message_id = params.integer("message_id")
            if message_id is None:
                raise bad("message identifier is not specified")
            message = chat.messages.get(message_id) or {}
            if not message:
                raise bad("message to edit not found")
            if message.get("from", self.bot_user)["id"] != self.bot_user["id"]:
                raise bad("message can't be edited")
        parse_mode = params.string("parse_mode")
        text = params.string("text") if text_too else None
        plain, entities = (
            rules.check_text(text, parse_mode) if text_too else (message["text"], message.get("entities", []))
        )
        markup = rules.check_markup(params.json("reply_markup"), inline_only=True)
        if (plain, entities, markup) == (
            message["text"],
            message.get("entities", []),
            message.get("reply_markup"),
        ):
            raise bad(rules.NOT_MODIFIED)
        if chat is not None:  # edits count against the flood limits as sends do (PLATFORM.md section 7)
            self._throttle("editMessageText", chat)
        message |= {"text": plain, "entities": entities, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        self.edits.append(
            Edit(
                chat_id=chat.id if chat else None,
                message_id=message.get("message_id"),
                inline_message_id=inline_id,
                text=text,
                plain=plain if text_too else None,
                parse_mode=parse_mode,
                reply_markup=markup,
                at=time.monotonic(),
                link_preview_disabled=bool((params.json("link_preview_options") or {}).get("is_disabled")),
            )
        )
        return True if inline_id else message

    async def _api_edit_message_reply_markup(self, params: Params) -> Json | bool:
        return await self._api_edit_message_text(params, text_too=False)

    async def _api_delete_message(self, params: Params) -> bool:
        """Bots delete messages up to 48 hours old (PLATFORM.md section 7); deletions are not
        counted in the flood limits, which Telegram documents for sends (and edits) only."""
        chat, message_id = self._chat(params), params.integer("message_id") or 0
        message = chat.messages.get(message_id)
        if message is None:
            raise bad("message to delete not found")
        if time.time() - message["date"] > rules.DELETE_WITHIN:
            raise bad("message can't be deleted")
        del chat.messages[message_id]
        self.deleted.append((chat.id, message_id))
        return True

    def _answer(self, query_id: str | None) -> str:
        """Close an open callback or inline query; the inline query's text (or "")."""
        if query_id not in self._open_queries:
            raise bad("query is too old and response timeout expired or query ID is invalid")
        return self._open_queries.pop(query_id)

    async def _api_answer_callback_query(self, params: Params) -> bool:
        text = params.string("text")
        if text is not None and len(text) > 200:
            raise bad("MESSAGE_TOO_LONG")
        query_id = params.string("callback_query_id") or ""
        self._answer(query_id)
        answer = CallbackAnswer(
            query_id, text, params.flag("show_alert"), params.string("url"), time.monotonic()
        )
        self.callback_answers.append(answer)
        return True

    async def _api_answer_inline_query(self, params: Params) -> bool:
        results = rules.check_inline_results(params.json("results"))
        next_offset = params.string("next_offset") or ""
        if len(next_offset.encode()) > 64:
            raise bad("NEXT_OFFSET_INVALID")
        query_id = params.string("inline_query_id") or ""
        query = self._answer(query_id)
        cache_time, personal = params.integer("cache_time"), params.flag("is_personal")
        answer = InlineAnswer(query_id, query, results, next_offset, cache_time, personal, time.monotonic())
        self.inline_answers.append(answer)
        return True

    def _commands_key(self, params: Params) -> tuple[str, str]:
        return rules.scope_key(params.json("scope")), rules.check_language(params.string("language_code"))

    async def _api_set_my_commands(self, params: Params) -> bool:
        commands = rules.check_commands(params.json("commands"))
        key = self._commands_key(params)
        if commands:
            self.commands[key] = commands
        else:
            self.commands.pop(key, None)
        return True

    async def _api_get_my_commands(self, params: Params) -> list[Json]:
        return self.commands.get(self._commands_key(params), [])

    async def _api_delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _api_get_chat(self, params: Params) -> Json:
        chat = self._chat(params)
        kinds = "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
        gifts = dict.fromkeys(kinds.split(), False)  # ChatFullInfo's accepted_gift_types, required by PTB
        return self.chat_json(chat) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _api_get_chat_member(self, params: Params) -> Json:
        """The status comes from the registry: creator, admins, members (and who spoke), else left."""
        chat, user_id = self._chat(params), params.integer("user_id")
        user = self.bot_user if user_id == self.bot_user["id"] else self.users.get(user_id or 0)
        if user is None:
            raise bad("PARTICIPANT_ID_INVALID")
        if user is self.bot_user:
            status = "administrator" if chat.bot_is_admin and chat.type != "private" else "member"
        elif user_id == chat.creator:
            return {"status": "creator", "user": user, "is_anonymous": False}
        else:
            status = (
                "administrator" if user_id in chat.admins else "member" if user_id in chat.members else "left"
            )
        if status != "administrator":
            return {"status": status, "user": user}
        rights = (
            "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members"
            " can_promote_members can_change_info can_invite_users can_post_stories can_edit_stories"
            " can_delete_stories"
        )
        return {
            "status": status,
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
        } | dict.fromkeys(rights.split(), True)


async def wait_changed(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
