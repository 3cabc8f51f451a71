"""What the Telegram stand-in (``tests/telegram_standin.py``) checks in a request, what it records,
and how it answers an error.

The text rules come from ``tests/platform_rules.py`` (one HTML reader for render tests and the
stand-in); keyboards, commands and inline results follow the Bot API documentation, with the error
descriptions Telegram returns (``../shared/PLATFORM.md`` section 1).
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.platform_rules import telegram_parse, utf16

Json = dict[str, Any]
MAX_TEXT = 4096
BUTTON_ACTIONS = [
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
]
SCOPES_WITH_CHAT = ("chat", "chat_administrators", "chat_member")
SCOPES = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators", *SCOPES_WITH_CHAT)
#: What getUpdates delivers until a bot asks otherwise (Bot API: all but these three).
OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
UPDATE_KINDS = (
    "message",
    "channel_post",
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    *OPT_IN_UPDATES,
)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same"
    " as a current content and reply markup of the message"
)
#: How old a message a bot may still delete, in seconds (deleteMessage: 48 hours).
DELETE_WITHIN = 48 * 3600
BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?(?![A-Za-z0-9_@/])")


@dataclass
class Chat:
    """A chat in the registry: who is in it, its state, its messages and its flood counters."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    threads: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    creator: int | None = None
    members: set[int] = field(default_factory=set)
    bot_is_admin: bool = True
    state: str = "ok"  # or "blocked", "kicked", "migrated", "deleted"
    migrate_to: int | None = None
    messages: dict[int, Json] = field(default_factory=dict)
    next_message_id: int = 1
    last_send: float = -math.inf
    recent: deque[float] = field(default_factory=deque)  # accepted sends in the group window
    faults: deque[int] = field(default_factory=deque)  # injected retry_after seconds


@dataclass
class Sent:
    """A message sendMessage accepted."""

    chat_id: int
    thread_id: int | None
    message_id: int
    text: str  # as sent (HTML when parse_mode is HTML)
    plain: str  # what a reader sees
    parse_mode: str | None
    reply_markup: Json | None
    link_preview_disabled: bool
    at: float  # time.monotonic()
    entities: list[Json] = field(default_factory=list)  # MessageEntity objects of ``plain``


@dataclass
class Edit:
    """An accepted editMessageText or editMessageReplyMarkup."""

    chat_id: int | None
    message_id: int | None
    inline_message_id: str | None
    text: str | None  # None when only the reply markup changed
    plain: str | None
    parse_mode: str | None
    reply_markup: Json | None
    at: float
    link_preview_disabled: bool = False


@dataclass
class CallbackAnswer:
    """An accepted answerCallbackQuery."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    at: float


@dataclass
class InlineAnswer:
    """An accepted answerInlineQuery."""

    query_id: str
    query: str
    results: list[Json]
    next_offset: str
    cache_time: int | None
    is_personal: bool
    at: float


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code", "description", "parameters"?}``."""

    def __init__(self, code: int, description: str, **parameters: int) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad(description: str, **parameters: int) -> ApiError:
    return ApiError(400, f"Bad Request: {description}", **parameters)


def forbidden(description: str) -> ApiError:
    return ApiError(403, f"Forbidden: {description}")


def too_many(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


class Params:
    """A request's parameters: JSON values, or form strings (PTB posts a form, objects JSON-encoded)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def string(self, name: str) -> str | None:
        value = self.raw.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            raise bad(f'field "{name}" must be of type String')
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        raise bad(f'field "{name}" must be of type Integer')

    def flag(self, name: str) -> bool:
        return self.raw.get(name) in (True, 1, "true", "True", "1")

    def json(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.raw.get(name)
        if value in (None, ""):
            raise bad(f"{name} is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            number = self.integer(name)
        except ApiError:
            raise bad("chat not found") from None
        assert number is not None
        return number


def check_text(text: str | None, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and entities of a message, or the 400 Telegram answers."""
    if text is None:
        raise bad("message text is empty")
    if not parse_mode:
        plain, entities = text, []
    elif parse_mode.lower() == "html":
        parsed = telegram_parse(text)
        if parsed.problems:
            raise bad(f"can't parse entities: {parsed.problems[0]}")
        plain, entities = parsed.text, parsed.entities
    elif parse_mode.lower() in ("markdown", "markdownv2"):
        raise bad(f"can't parse entities: the stand-in reads HTML only, not {parse_mode}")
    else:
        raise bad("unsupported parse_mode")
    if not plain.strip():
        raise bad("message text is empty")
    if utf16(plain) > MAX_TEXT:  # Telegram may count code points; UTF-16 is the safe reading
        raise bad("message is too long")
    return plain, entities


def check_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """A reply_markup as sent, after the checks Telegram makes of inline keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only or not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise bad("can't parse inline keyboard markup JSON object")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    buttons = [button for row in rows for button in row]
    if len(buttons) > 100:
        raise bad("reply markup is too long")
    for button in buttons:
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not button["text"].strip():
            raise bad("can't parse inline keyboard button: Text must be non-empty")
        actions = [key for key in BUTTON_ACTIONS if key in button]
        if not actions:
            raise bad("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        if len(actions) > 1:
            raise bad("can't parse inline keyboard button: exactly one of the optional fields must be used")
        data = button.get("callback_data")
        if "callback_data" in button and (not isinstance(data, str) or not 1 <= len(data.encode()) <= 64):
            raise bad("BUTTON_DATA_INVALID")
        url = button.get("url")
        if "url" in button and not (isinstance(url, str) and re.match(r"(https?|tg)://\S+$", url)):
            raise bad(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
    return markup


def check_commands(commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list):
        raise bad("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad("BOT_COMMANDS_TOO_MUCH")
    for command in commands:
        if not isinstance(command, dict) or not isinstance(command.get("command"), str):
            raise bad('can\'t parse BotCommand: Field "command" must be of type String')
        if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
            raise bad("BOT_COMMAND_INVALID")
        description = command.get("description")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
    return [{"command": c["command"], "description": c["description"]} for c in commands]


def scope_key(scope: Any) -> str:
    """``"default"``, ``"all_group_chats"``, ``"chat:-100123"``, ``"chat_member:-100123:42"``…"""
    scope = scope or {"type": "default"}
    kind = scope.get("type") if isinstance(scope, dict) else None
    if kind not in SCOPES:
        raise bad("can't parse BotCommandScope")
    if kind not in SCOPES_WITH_CHAT:
        return str(kind)
    if "chat_id" not in scope or (kind == "chat_member" and "user_id" not in scope):
        raise bad("chat not found")
    return ":".join(str(part) for part in (kind, scope["chat_id"], scope.get("user_id")) if part is not None)


def check_language(code: str | None) -> str:
    if code and not re.fullmatch(r"[a-z]{2}", code):
        raise bad("LANG_CODE_INVALID")
    return code or ""


def check_inline_results(results: Any) -> list[dict[str, Any]]:
    if not isinstance(results, list):
        raise bad("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad("RESULTS_TOO_MUCH")
    seen: set[str] = set()
    for result in results:
        if not isinstance(result, dict):
            raise bad("can't parse InlineQueryResult")
        ident = result.get("id")
        if not isinstance(ident, str) or not 1 <= len(ident.encode()) <= 64:
            raise bad("RESULT_ID_INVALID")
        if ident in seen:
            raise bad("RESULT_ID_DUPLICATE")
        seen.add(ident)
        if result.get("type") != "article":
            raise bad(f"the stand-in knows only article results, not {result.get('type')!r}")
        if not isinstance(result.get("title"), str) or not result["title"].strip():
            raise bad('can\'t parse InlineQueryResultArticle: Field "title" must be a non-empty String')
        content = result.get("input_message_content")
        if not isinstance(content, dict) or "message_text" not in content:
            raise bad("can't parse InlineQueryResultArticle: input_message_content needs message_text")
        check_text(content["message_text"], content.get("parse_mode"))
        check_markup(result.get("reply_markup"), inline_only=True)
    return results


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entities Telegram adds to a user's text, offsets in UTF-16 units."""
    return [
        {"type": "bot_command", "offset": utf16(text[: found.start()]), "length": utf16(found.group())}
        for found in BOT_COMMAND.finditer(text)
    ]
