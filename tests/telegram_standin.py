"""A stand-in for Telegram's Bot API on 127.0.0.1, strict where Telegram is, for tests.

    async with TelegramStandIn() as api:                      # limits, scale: see BotApi
        api.add_user(42, "Ada")                                   # and her private chat
        api.add_chat(-1001, "supergroup", title="ML", is_forum=True, threads=(7,))
        async with telegram.Bot(api.token, base_url=api.base_url) as bot:
            await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
        assert api.messages_in(42)[0].plain == "hi"
        api.user_says(42, 42, "/today")                           # a bot polling would answer it:
        reply = await api.next_sent(42)                           # wait for it, never sleep

Text goes through ``tests/platform_rules.py``; the other checks are in ``telegram_standin_rules``.
Sends and edits obey Telegram's flood limits (1 message a second per chat, 20 a minute per group or
channel, 30 a second overall) and answer 429 beyond them; faults are injected with ``fail``,
``block``, ``kick``, ``migrate`` and ``delete_chat``. Users act through ``user_says``,
``user_sends_document``, ``press``, ``inline``, ``channel_post`` and ``channel_posts_document``; the
bot sees the updates through getUpdates or a webhook, and downloads documents through getFile
(``telegram_standin_files``).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests import telegram_standin_rules as rules
from tests.telegram_standin_files import Files, Upload
from tests.telegram_standin_methods import BotApi, wait_changed
from tests.telegram_standin_rules import ApiError, Chat, Json, Params, Sent, bad

T = TypeVar("T")


class TelegramStandIn(Files, BotApi):
    """The server (``async with``), the chat registry, injected faults, simulated users, and waiting
    for the bot. The constructor, the limits and the records are ``BotApi``'s; documents, getFile
    and file downloads are ``Files``'."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._files_init()

    # -- the server ------------------------------------------------------------------------

    async def __aenter__(self) -> TelegramStandIn:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self._delivery = asyncio.create_task(self._deliver())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        self._bump()
        if self._delivery is not None:
            self._delivery.cancel()
            await asyncio.gather(self._delivery, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handlers = {name[5:].replace("_", ""): name for name in dir(self) if name.startswith("_api_")}
            if method.lower() not in handlers:  # Telegram's method names ignore case
                raise ApiError(404, "Not Found")
            handler: Callable[[Params], Awaitable[Any]] = getattr(self, handlers[method.lower()])
            params = Params(await self._read(request))
            self.calls.append((method, params.raw))
            result = await handler(params)
            return web.json_response({"ok": True, "result": result})
        except ApiError as error:
            if request.transport is not None and not request.transport.is_closing():  # someone listens
                self.errors.append((method, error.code, error.description))
            return web.json_response(error.body(), status=error.code)
        finally:
            self._bump()

    @staticmethod
    async def _read(request: web.Request) -> Json:
        raw: Json = dict(request.query)
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad("request body must be a JSON object")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, str):
                    raw[key] = value
                elif isinstance(value, web.FileField):  # an upload (sendDocument)
                    raw[key] = Upload(value.filename, value.content_type, value.file.read())
        return raw

    async def _deliver(self) -> None:
        """While a webhook is set, POST queued updates to it, oldest first; retry a refused one."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while not self._closing:
                changed, hook = self._changed, self.webhook
                if hook is None or not self.updates:
                    await changed.wait()
                    continue
                update = self.updates[0]
                secret = hook["secret_token"]
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                status: int | None = None
                try:
                    async with session.post(hook["url"], json=update, headers=headers) as response:
                        status, reason = response.status, response.reason or ""
                        await response.read()
                except (aiohttp.ClientError, TimeoutError) as error:
                    reason = str(error) or type(error).__name__
                self.webhook_deliveries.append((update["update_id"], status))
                if status is not None and 200 <= status < 300:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                else:
                    hook |= {"last_error_date": int(time.time()), "last_error_message": f"{status} {reason}"}
                    await asyncio.sleep(0.2 * self.scale)
                self._bump()

    # -- updates: getUpdates, or a webhook ---------------------------------------------

    def _queue(self, kind: str, payload: Json) -> Json:
        """Queue an update, unless the bot's allowed_updates leave ``kind`` out; return it either way."""
        update = {"update_id": next(self._update_ids), kind: payload}
        if kind in (self.allowed_updates or set(rules.UPDATE_KINDS) - rules.OPT_IN_UPDATES):
            self.updates.append(update)
        self._bump()
        return update

    async def _api_get_updates(self, params: Params) -> list[Json]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit, timeout = (
            params.integer("offset") or 0,
            params.integer("limit") or 100,
            params.integer("timeout") or 0,
        )
        allowed = params.json("allowed_updates")
        if allowed is not None:
            self.allowed_updates = set(allowed) or None
        if offset > 0:
            self.updates = [update for update in self.updates if update["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        if self.allowed_updates is not None:
            self.updates = [u for u in self.updates if self.allowed_updates & u.keys()]
        self._poll += 1
        poll, deadline = self._poll, time.monotonic() + timeout
        self._bump()
        while True:
            changed = self._changed
            if poll != self._poll:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if self.updates or self._closing or (remaining := deadline - time.monotonic()) <= 0:
                return self.updates[: max(1, min(limit, 100))]
            await wait_changed(changed, remaining)

    async def _api_set_webhook(self, params: Params) -> bool:
        url = params.string("url") or ""
        if not url:
            return await self._api_delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
        ):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.string("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            self.updates.clear()
        allowed = params.json("allowed_updates")
        if allowed is not None:
            self.allowed_updates = set(allowed) or None
        self.webhook = {"url": url, "secret_token": secret}
        return True

    async def _api_delete_webhook(self, params: Params) -> bool:
        self.webhook = None
        if params.flag("drop_pending_updates"):
            self.updates.clear()
        self._bump()
        return True

    async def _api_get_webhook_info(self, params: Params) -> Json:
        info: Json = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self.updates)}
        if self.webhook is not None:
            info |= {k: v for k, v in self.webhook.items() if k != "secret_token"} | {"max_connections": 40}
            if self.allowed_updates is not None:
                info["allowed_updates"] = sorted(self.allowed_updates)
        return info

    # -- waiting for the bot ---------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Wait until ``predicate()`` is truthy (checked after each request or event); return it."""
        deadline = time.monotonic() + timeout
        while True:
            changed = self._changed
            value = predicate()
            if value:
                return value
            if (remaining := deadline - time.monotonic()) <= 0:
                raise TimeoutError(f"nothing satisfied {predicate} within {timeout} s")
            await wait_changed(changed, remaining)

    async def next_sent(self, chat_id: int, timeout: float = 5.0) -> Sent:
        """The next message sent to ``chat_id`` that no earlier ``next_sent`` returned."""
        seen = self._cursors.get(chat_id, 0)
        message = await self.wait_for(lambda: self.messages_in(chat_id)[seen:][:1], timeout)
        self._cursors[chat_id] = seen + 1
        return message[0]

    def messages_in(self, chat_id: int) -> list[Sent]:
        """What was sent to the chat, as sent (``shown_in``: as it reads now)."""
        return [sent for sent in self.sent if sent.chat_id == chat_id]

    def shown_in(self, chat_id: int) -> list[Json]:
        """The chat's messages as a reader sees them now, edits applied and deletions gone."""
        return [message for _, message in sorted(self.chats[chat_id].messages.items())]

    def age(self, chat_id: int, message_id: int, hours: float) -> None:
        """Make a message ``hours`` old, as if it had been sent that long ago."""
        self.chats[chat_id].messages[message_id]["date"] = int(time.time() - hours * 3600)

    # -- chats, users and faults -----------------------------------------------------------

    def add_user(
        self,
        id: int,
        first_name: str,
        username: str | None = None,
        language_code: str = "en",
        *,
        private_chat: bool = True,
    ) -> Json:
        """A user; ``private_chat`` also opens their chat with the bot, as pressing Start does."""
        self.users[id] = {"id": id, "is_bot": False, "first_name": first_name, "language_code": language_code}
        if username:
            self.users[id]["username"] = username
        if private_chat:
            self.add_chat(id, "private", username=username)
        return self.users[id]

    def add_chat(
        self,
        id: int,
        type: str = "private",
        title: str | None = None,
        username: str | None = None,
        is_forum: bool = False,
        threads: tuple[int, ...] = (),
        admins: tuple[int, ...] = (),
        bot_is_admin: bool = True,
        creator: int | None = None,
        members: tuple[int, ...] = (),
    ) -> Chat:
        if type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        if (type == "private") != (id > 0):
            raise ValueError("private chats have positive ids, groups and channels negative ones")
        chat = Chat(id, type, title, username, is_forum, set(threads), set(admins), creator, set(members))
        chat.bot_is_admin = bot_is_admin
        if type == "private":
            chat.members.add(id)
        self.chats[id] = chat
        return chat

    def fail(self, chat_id: int, kind: str = "retry_after", seconds: int = 5, times: int = 1) -> None:
        """The next ``times`` sends to the chat get 429 with ``retry_after=seconds``."""
        if kind != "retry_after":
            raise ValueError(f"unknown fault {kind!r}")
        self.chats[chat_id].faults.extend([seconds] * times)

    def block(self, chat_id: int) -> None:
        self.chats[chat_id].state = "blocked"

    def kick(self, chat_id: int) -> None:
        self.chats[chat_id].state = "kicked"

    def delete_chat(self, chat_id: int) -> None:
        self.chats[chat_id].state = "deleted"

    def restore(self, chat_id: int) -> None:
        """Undo ``block``, ``kick`` or ``delete_chat``."""
        self.chats[chat_id].state = "ok"

    def migrate(self, old_id: int, new_id: int) -> Chat:
        """The group becomes a supergroup: sends to ``old_id`` answer 400 with migrate_to_chat_id."""
        old = self.chats[old_id]
        new = self.add_chat(
            new_id, "supergroup", old.title, None, False, (), tuple(old.admins), old.bot_is_admin
        )
        new.creator, new.members = old.creator, set(old.members)
        old.state, old.migrate_to = "migrated", new_id
        return new

    # -- users, as the bot sees them -------------------------------------------------------

    def user_says(self, user_id: int, chat_id: int, text: str, thread_id: int | None = None) -> Json:
        """Queue a ``message`` update: the user writes ``text`` (bot_command entities included)."""
        user, chat = self.users[user_id], self.chats[chat_id]
        if chat.type == "channel":
            raise ValueError("users do not write in channels; use channel_post")
        if thread_id is not None and thread_id not in chat.threads:
            raise ValueError(f"chat {chat_id} has no thread {thread_id}")
        chat.members.add(user_id)
        return self._queue(
            "message", self._message(chat, text, rules.command_entities(text), thread_id, user)
        )

    def channel_post(self, chat_id: int, text: str) -> Json:
        chat = self.chats[chat_id]
        if chat.type != "channel":
            raise ValueError(f"chat {chat_id} is a {chat.type}, not a channel")
        return self._queue(
            "channel_post", self._message(chat, text, rules.command_entities(text), None, None)
        )

    def press(self, user_id: int, chat_id: int, message_id: int, data: str, *, forged: bool = False) -> Json:
        """Queue a ``callback_query``: the user presses the button with ``data`` on a bot message
        (``forged``: data no button has, as a modified client can send)."""
        message = self.chats[chat_id].messages.get(message_id)
        rows = (message or {}).get("reply_markup", {}).get("inline_keyboard", [])
        if not forged and data not in [button.get("callback_data") for row in rows for button in row]:
            raise ValueError(
                f"message {message_id} in chat {chat_id} has no button with callback_data {data!r}"
            )
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = ""
        query = {
            "id": query_id,
            "from": self.users[user_id],
            "message": dict(message or {}),  # as it was when pressed
            "chat_instance": str(-chat_id),
        }
        return self._queue("callback_query", query | {"data": data})

    def inline(self, user_id: int, query: str, offset: str = "") -> Json:
        """Queue an ``inline_query``: the user types ``@bot query``."""
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = query
        return self._queue(
            "inline_query", {"id": query_id, "from": self.users[user_id], "query": query, "offset": offset}
        )

    def choose(self, user_id: int, result_id: str) -> Json:
        """Queue a ``chosen_inline_result`` for the newest answer holding ``result_id``; its message
        becomes editable through ``inline_message_id`` when it has an inline keyboard, as in Telegram."""
        answer = next(a for a in reversed(self.inline_answers) for r in a.results if r["id"] == result_id)
        result = next(r for r in answer.results if r["id"] == result_id)
        chosen: Json = {"result_id": result_id, "from": self.users[user_id], "query": answer.query}
        if "reply_markup" in result:
            content = result["input_message_content"]
            plain, entities = rules.check_text(content["message_text"], content.get("parse_mode"))
            chosen["inline_message_id"] = f"AgAAA{next(self._query_ids)}"
            self.inline_messages[chosen["inline_message_id"]] = {
                "text": plain,
                "entities": entities,
                "reply_markup": result["reply_markup"],
            }
        return self._queue("chosen_inline_result", chosen)
