"""What the Discord stand-in (``tests/discord_standin.py``) records and how it answers an error.

Errors carry Discord's JSON codes (``{"message", "code"}``) and, for 50035 Invalid Form Body, an
``errors`` object shaped like Discord's, which discord.py flattens into "In embeds.0.title: …".
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
Path = tuple[str | int, ...]
DISCORD_EPOCH_MS = 1_420_070_400_000
CHANNEL_TYPES = {"text": 0, "news": 5, "forum": 15, "thread": 11}
THREAD_TYPES = (10, 11, 12)
SUPPRESS_EMBEDS, EPHEMERAL, SUPPRESS_NOTIFICATIONS = 1 << 2, 1 << 6, 1 << 12
SNOWFLAKE = re.compile(r"[0-9]{1,20}")
#: Discord.Webhook.from_url accepts only these (discord.py 2.7).
WEBHOOK_TOKEN = re.compile(r"[A-Za-z0-9._-]{60,}")


def snowflakes(worker: int = 1) -> Iterator[str]:
    """Snowflake ids as Discord makes them: milliseconds since 2015, worker, increment."""
    for increment in itertools.count():
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        yield str((millis << 22) | (worker << 17) | (increment & 0xFFF))


def iso(at: float | None = None) -> str:
    return dt.datetime.fromtimestamp(time.time() if at is None else at, dt.UTC).isoformat()


# -- errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: ``{"message", "code", "errors"?}`` with an HTTP status."""

    def __init__(self, status: int, code: int, message: str, errors: Json | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors
        self.headers: dict[str, str] = {}  # beside the rate-limit headers
        self.via = True  # False: no Via header, as when Cloudflare answers

    def body(self) -> Json:
        body: Json = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


UNKNOWN = {
    "Application": 10002,
    "Channel": 10003,
    "Guild": 10004,
    "Message": 10008,
    "Webhook": 10015,
    "interaction": 10062,  # sic: Discord writes "Unknown interaction"
}


def unknown(kind: str) -> ApiError:
    return ApiError(404, UNKNOWN[kind], f"Unknown {kind}")


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def bad(code: int, message: str) -> ApiError:
    return ApiError(400, code, message)


def form_error(problems: Iterable[tuple[Path, str, str]]) -> ApiError:
    """400 code 50035 with Discord's nested ``errors``: {"embeds": {"0": {"title": {"_errors": […]}}}}."""
    errors: Json = {}
    for path, code, message in problems:
        node = errors
        for step in path:
            node = node.setdefault(str(step), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})
    return ApiError(400, 50035, "Invalid Form Body", errors)


def under(key: str, error: ApiError) -> ApiError:
    """The error with its form errors moved under ``key`` (a forum post's "message")."""
    if error.errors:
        error.errors = {key: error.errors}
    return error


class Form:
    """Collects a request's form errors; ``done()`` raises them together, as Discord reports them."""

    def __init__(self) -> None:
        self.problems: list[tuple[Path, str, str]] = []

    def add(self, path: Path, code: str, message: str) -> None:
        self.problems.append((path, code, message))

    def done(self) -> None:
        if self.problems:
            raise form_error(self.problems)

    def string(self, value: Any, path: Path, low: int = 0, high: int | None = None) -> str | None:
        """``value`` if a string of ``low``..``high`` characters (None passes when low is 0; with
        ``high`` None, ``low`` counts non-blank characters)."""
        if value is None and not low:
            return None
        if value is None:
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        elif not isinstance(value, str):
            self.add(path, "BASE_TYPE_STRING", "Must be a string.")
        elif high is not None and not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")
        elif len(value.strip()) < low:
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        else:
            return value
        return None

    def array(self, value: Any, path: Path, high: int | None = None) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
            return []
        if high is not None and len(value) > high:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
        return value

    def objects(self, value: Any, path: Path, high: int | None = None) -> list[tuple[Path, Json]]:
        found = []
        for index, item in enumerate(self.array(value, path, high)):
            if isinstance(item, dict):
                found.append(((*path, index), item))
            else:
                self.add((*path, index), "MODEL_TYPE_CONVERT", "Must be an object.")
        return found

    def integer(self, value: Any, path: Path, low: int = 0, high: int = 2**53) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
        elif not low <= value <= high:
            self.add(path, "NUMBER_TYPE_MAX", f"int value should be between {low} and {high}.")
        else:
            return value
        return None

    def boolean(self, value: Any, path: Path) -> None:
        if value is not None and not isinstance(value, bool):
            self.add(path, "BASE_TYPE_BOOLEAN", "Must be either true or false.")

    def snowflake(self, value: Any, path: Path) -> None:
        if not isinstance(value, int | str) or isinstance(value, bool) or not SNOWFLAKE.fullmatch(str(value)):
            self.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.')


# -- what the stand-in records --------------------------------------------------------------


@dataclass
class Guild:
    id: int
    name: str
    commands_scope: bool = True  # the bot was invited with applications.commands
    roles: dict[int, str] = field(default_factory=dict)  # id -> name, @everyone aside


@dataclass
class Channel:
    id: int
    guild_id: int
    type: int  # 0 text, 5 news, 15 forum, 11 public thread, 12 private thread
    name: str
    parent_id: int | None = None  # a thread's channel
    state: str = "ok"  # or "no_access" (403 50001), "no_permission" (403 50013), "deleted" (404)
    topic: str | None = None
    message_count: int = 0
    created: float = field(default_factory=time.time)


@dataclass
class Webhook:
    id: int
    token: str
    channel_id: int
    name: str
    deleted: bool = False

    @property
    def url(self) -> str:
        return f"https://discord.com/api/webhooks/{self.id}/{self.token}"


@dataclass
class Message:
    """A message Discord accepted: from the bot, a webhook or an interaction response."""

    id: str  # a snowflake, as Discord writes ids
    channel_id: int  # where it is; a thread's id for a message in a thread
    content: str
    embeds: list[Json]
    components: list[Json]
    flags: int
    allowed_mentions: Json | None
    pings: list[str]  # "@everyone", "<@42>", "<@&7>": who is notified, given allowed_mentions
    timestamp: str  # ISO 8601, as Discord writes it
    at: float  # time.monotonic()
    webhook_id: int | None = None  # sent through a webhook (an interaction's: the application id)
    username: str | None = None  # a webhook's name override
    parent_id: int | None = None  # the thread's channel (a forum post's forum), when in a thread
    thread_name: str | None = None
    interaction_id: int | None = None  # an interaction response or follow-up
    edited_timestamp: str | None = None
    edits: int = 0
    deleted: bool = False


@dataclass
class Interaction:
    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    channel_id: int
    guild_id: int | None
    created: float  # time.monotonic()
    response_type: int | None = None
    original_id: str | None = None  # the response's message, once there is one
    flags: int = 0  # a deferred response's (ephemeral or not), for the message that follows
    modal: Json | None = None  # the modal the response opened (type 9), for its submit


@dataclass
class Upload:
    """A file a user attached to a command (an ``ATTACHMENT`` option): served at its ``url``."""

    id: int
    filename: str
    data: bytes
    content_type: str | None
    url: str = ""


@dataclass
class InteractionResponse:
    interaction_id: int
    type: int  # 4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete result, 9 modal
    data: Json | None
    at: float
