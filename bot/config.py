"""Settings, read once from ``PAPERBOY_*`` environment variables and passed down.

This is the only module that reads the environment, so tests can build ``Settings`` from a
plain dict and nothing else changes behaviour behind their back.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.errors import InputError

DEFAULT_DB_NAME = "paperboy.db"
#: The templates shipped with Paperboy (the repository's top-level templates/ folder).
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; SQLite file by default, ``postgresql+psycopg://...`` for PostgreSQL.
    database_url: str
    #: Where Paperboy keeps files of its own (the default SQLite database among them).
    data_dir: Path
    #: Show tracebacks of unexpected errors (PAPERBOY_DEBUG=1); off, users see one line.
    debug: bool = False
    #: A folder of templates that override the shipped ones, file by file (PAPERBOY_TEMPLATES).
    templates: Path | None = None
    #: Where the web archive is served (PAPERBOY_BASE_URL): links in chat, email and feeds.
    base_url: str | None = None
    #: The From of digest emails (PAPERBOY_FROM; PAPERBOY_EMAIL_FROM is read too).
    email_from: str = "Paperboy <paperboy@localhost>"
    #: Where replies to digest emails go (PAPERBOY_REPLY_TO); none: to the From.
    reply_to: str | None = None
    #: SMTP connections kept open and used at once (PAPERBOY_SMTP_CONCURRENCY).
    smtp_concurrency: int = 4
    #: Hard bounces in a row that retire an address (PAPERBOY_BOUNCE_LIMIT).
    bounce_limit: int = 3
    #: A mailbox that unsubscribes whoever writes to it, for List-Unsubscribe's mailto
    #: (PAPERBOY_UNSUBSCRIBE_MAILTO); none: the header carries only the https link.
    unsubscribe_mailto: str | None = None
    #: How long a sign-up's confirmation link works (PAPERBOY_CONFIRM_HOURS).
    confirm_hours: int = 48
    #: The least time between two confirmation emails to one address (PAPERBOY_CONFIRM_RESEND_MINUTES).
    confirm_resend_minutes: int = 10
    #: Sign-up requests one client may make an hour (PAPERBOY_SIGNUPS_PER_HOUR): the per-address
    #: interval stops mail to one inbox; this stops one client mailing many.
    signups_per_hour: int = 10
    #: When each day's digest goes out (PAPERBOY_PUBLISH_AT, HH:MM) and in which zone.
    publish_at: dt.time = dt.time(9, 0)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Seoul"))
    #: Papers taken from the undated queue on a day with no digest (PAPERBOY_QUEUE_PER_DAY).
    queue_per_day: int = 3
    #: How many missed days a restart may still publish (PAPERBOY_CATCHUP_DAYS).
    catchup_days: int = 7
    #: Where the web archive is exported on each publish (PAPERBOY_SITE_DIR).
    site_dir: Path = Path("site")
    #: Which exports build the search index search.html needs on a static host
    #: (PAPERBOY_SEARCH_INDEX): ``export`` (the default) only ``paperboy export-site``, ``always``
    #: each publish's rebuild too, ``off`` none. Paperboy's own server searches without it, and
    #: it costs about 140 KB of memory a paper page, so a daily publish does not build it unasked.
    search_index: str = "export"
    #: Whether feeds carry the tags the model suggests as categories, marked as suggested
    #: (PAPERBOY_FEED_SUGGESTED_TAGS, off by default: a reader's filters see only the curator's).
    feed_suggested_tags: bool = False
    #: A folder watched for new or changed posts (PAPERBOY_INBOX).
    inbox: Path = Path("seeds")
    #: The web server of ``paperboy run`` / ``serve`` (PAPERBOY_HOST, PAPERBOY_PORT; else a
    #: runner's PORT, on all interfaces).
    host: str = "127.0.0.1"
    port: int = 8000
    #: A chat that subscribes gets the latest digest at once (PAPERBOY_SEND_LATEST, on by default).
    send_latest: bool = True
    #: Email messages a second at most, per process (PAPERBOY_SMTP_RATE, such as 14 or 0.5);
    #: none: as fast as the SMTP pool goes.
    smtp_rate: float | None = None
    #: At most this many email messages in any window of this length, counted in the ledger so
    #: that it holds across restarts and workers (PAPERBOY_SMTP_WINDOW, such as 2000/day).
    smtp_window: SendWindow | None = None
    #: Who may post from chat (PAPERBOY_CURATORS): everyone else is told only curators can.
    curators: Curators = field(default_factory=lambda: Curators())
    #: Where candidates are pulled from (PAPERBOY_HF_API_URL, PAPERBOY_ARXIV_API_URL): the
    #: sources' own addresses, or a proxy's, or the tests' stand-ins.
    hf_api_url: str = "https://huggingface.co"
    arxiv_api_url: str = "https://export.arxiv.org"
    #: How long one request to a source may take, in seconds (PAPERBOY_PULL_TIMEOUT).
    pull_timeout: int = 30
    #: How many days back the service refreshes Hugging Face upvotes of archived papers, once a
    #: day (PAPERBOY_HF_REFRESH_DAYS; 0: never): one request per listing day in that window.
    hf_refresh_days: int = 30
    #: How the service's log is written (PAPERBOY_LOG_FORMAT): ``text``, a line a record, or
    #: ``json``, one JSON object a line for a log collector.
    log_format: str = "text"
    #: Where each process's metrics are counted, for the web server's /metrics to add them up
    #: (PAPERBOY_METRICS_DIR; used when PAPERBOY_METRICS_TOKEN is set).
    metrics_dir: Path = Path("metrics")

    @property
    def site_url(self) -> str:
        """An absolute address for feeds and emailed links: the base URL, else this server's own."""
        if self.base_url:
            return self.base_url
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::", "::1", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("PAPERBOY_DATA_DIR") or ".")
        url = env.get("PAPERBOY_DATABASE_URL") or f"sqlite:///{data_dir / DEFAULT_DB_NAME}"
        debug = env.get("PAPERBOY_DEBUG", "").lower() in ("1", "true", "yes")
        templates = Path(env["PAPERBOY_TEMPLATES"]) if env.get("PAPERBOY_TEMPLATES") else None
        base_url = (env.get("PAPERBOY_BASE_URL") or "").rstrip("/") or None
        return cls(
            url,
            data_dir,
            debug=debug,
            templates=templates,
            base_url=base_url,
            email_from=env.get("PAPERBOY_FROM") or env.get("PAPERBOY_EMAIL_FROM") or cls.email_from,
            reply_to=env.get("PAPERBOY_REPLY_TO") or None,
            smtp_concurrency=_number(env, "PAPERBOY_SMTP_CONCURRENCY", 4, low=1, high=64),
            bounce_limit=_number(env, "PAPERBOY_BOUNCE_LIMIT", 3, low=1, high=100),
            unsubscribe_mailto=env.get("PAPERBOY_UNSUBSCRIBE_MAILTO") or None,
            confirm_hours=_number(env, "PAPERBOY_CONFIRM_HOURS", 48, low=1, high=24 * 30),
            confirm_resend_minutes=_number(env, "PAPERBOY_CONFIRM_RESEND_MINUTES", 10, low=0, high=24 * 60),
            signups_per_hour=_number(env, "PAPERBOY_SIGNUPS_PER_HOUR", 10, low=1, high=100_000),
            publish_at=_time(env.get("PAPERBOY_PUBLISH_AT", "09:00")),
            timezone=_zone(env.get("PAPERBOY_TIMEZONE", "Asia/Seoul")),
            queue_per_day=_number(env, "PAPERBOY_QUEUE_PER_DAY", 3, low=0),
            catchup_days=_number(env, "PAPERBOY_CATCHUP_DAYS", 7, low=0),
            site_dir=Path(env.get("PAPERBOY_SITE_DIR") or data_dir / "site"),
            search_index=_choice(env, "PAPERBOY_SEARCH_INDEX", SEARCH_INDEX, "export"),
            feed_suggested_tags=_switch(env, "PAPERBOY_FEED_SUGGESTED_TAGS", False),
            inbox=Path(env.get("PAPERBOY_INBOX") or "seeds"),
            # A runner's PORT (Heroku, Dokku, Render, Fly, honcho) asks for that port on every
            # interface; PAPERBOY_HOST and PAPERBOY_PORT, the explicit settings, win when set.
            host=env.get("PAPERBOY_HOST") or ("0.0.0.0" if env.get("PORT") else "127.0.0.1"),
            port=_number(
                env, "PAPERBOY_PORT", _number(env, "PORT", 8000, low=1, high=65535), low=1, high=65535
            ),
            send_latest=_switch(env, "PAPERBOY_SEND_LATEST", True),
            smtp_rate=_rate(env.get("PAPERBOY_SMTP_RATE", "")),
            smtp_window=_send_window(env.get("PAPERBOY_SMTP_WINDOW", "")),
            curators=_curators(env.get("PAPERBOY_CURATORS", "")),
            hf_api_url=_base_url(env, "PAPERBOY_HF_API_URL", cls.hf_api_url),
            arxiv_api_url=_base_url(env, "PAPERBOY_ARXIV_API_URL", cls.arxiv_api_url),
            pull_timeout=_number(env, "PAPERBOY_PULL_TIMEOUT", 30, low=1, high=300),
            hf_refresh_days=_number(env, "PAPERBOY_HF_REFRESH_DAYS", 30, low=0, high=366),
            log_format=_choice(env, "PAPERBOY_LOG_FORMAT", LOG_FORMATS, "text"),
            metrics_dir=Path(env.get("PAPERBOY_METRICS_DIR") or data_dir / "metrics"),
        )


#: PAPERBOY_SEARCH_INDEX's values, and the spellings of on and off it takes for them.
SEARCH_INDEX = {"export": "export", "always": "always", "off": "off", "on": "always", "0": "off", "no": "off"}

LOG_FORMATS = {"text": "text", "json": "json"}


def _choice(env: Mapping[str, str], name: str, values: Mapping[str, str], default: str) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in values:
        shown = ", ".join(dict.fromkeys(values.values()))
        raise InputError(f"{name} is {raw!r}: give one of {shown}")
    return values[raw]


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) address with a host and nothing after its path, without a trailing slash. The
    message never repeats it: an address can carry a password."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    parts = urlsplit(raw)
    try:
        host, _ = parts.hostname, parts.port  # an impossible port raises here
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(f"{name}: it must be an http(s) URL with a host, like {default}")
    if parts.query or parts.fragment:
        raise InputError(f"{name} has a ? or # part: give the address alone, like {default}")
    return raw.rstrip("/")


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{name} is {raw!r}: give on or off (1/0, true/false, yes/no)")


def _time(raw: str) -> dt.time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InputError(f"PAPERBOY_PUBLISH_AT is {raw!r}: give a time of day as HH:MM, such as 09:00")
    return dt.time(int(match[1]), int(match[2]))


def _zone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(
            f"PAPERBOY_TIMEZONE is {raw!r}: give an IANA zone such as Asia/Seoul or UTC"
        ) from None


def _number(env: Mapping[str, str], name: str, default: int, *, low: int, high: int = 1_000_000) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise InputError(f"{name} is {raw!r}: give a whole number from {low} to {high}")
    return value


# -- email sending caps (PAPERBOY_SMTP_RATE, PAPERBOY_SMTP_WINDOW) ----------------------------------

#: The lowest and highest PAPERBOY_SMTP_RATE: one message in 100 s, ten thousand a second.
RATE_RANGE = (0.01, 10_000.0)
#: PAPERBOY_SMTP_WINDOW's units, in seconds; a window may be a multiple of one (100/10min).
WINDOW_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
#: The longest window: a month of 31 days (providers' caps are per second, hour, day or month).
LONGEST_WINDOW = 31 * 86400
_WINDOW = re.compile(r"(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?")


@dataclass(frozen=True)
class SendWindow:
    """At most ``count`` messages in any ``seconds``, as PAPERBOY_SMTP_WINDOW wrote it (``text``)."""

    count: int
    seconds: int
    text: str

    def __str__(self) -> str:
        return self.text


def _rate(raw: str) -> float | None:
    """Messages a second, a whole or decimal number (0.5 is one message every 2 s); empty: none."""
    if not raw.strip():
        return None
    low, high = RATE_RANGE
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also NaN and infinity
        raise InputError(
            f"PAPERBOY_SMTP_RATE is {raw!r}: give messages per second, a number from {low:g} to"
            f" {high:g} such as 14 or 0.5"
        )
    return value


def _send_window(raw: str) -> SendWindow | None:
    """``COUNT/UNIT`` or ``COUNT/N UNIT``: 2000/day, 500/hour, 100/10min; empty: no window."""
    text = raw.strip().lower()
    if not text:
        return None
    match = _WINDOW.fullmatch(text)
    unit = WINDOW_UNITS.get(match[3]) if match else None
    if match and unit:
        count, seconds = int(match[1]), int(match[2] or 1) * unit
        if 1 <= count <= 10_000_000 and 1 <= seconds <= LONGEST_WINDOW:
            return SendWindow(count, seconds, text.replace(" ", ""))
    raise InputError(
        f"PAPERBOY_SMTP_WINDOW is {raw!r}: give a count of 1 or more per second, minute, hour or day"
        " (up to 31 days), such as 2000/day, 500/hour or 100/10min"
    )


# -- who may post from chat (PAPERBOY_CURATORS) ----------------------------------------------------

#: Discord's ids (users, roles) are snowflakes: 15 to 21 digits today, 64 bits at most.
_SNOWFLAKE = re.compile(r"[0-9]{15,21}")
#: Telegram's user ids are positive and fit 52 bits; chats' ids are negative.
_TELEGRAM_USER = re.compile(r"[1-9][0-9]{0,15}")
_CURATOR_KINDS = "telegram:USER_ID, discord:USER_ID or discord-role:ROLE_ID"


@dataclass(frozen=True)
class Curators:
    """Who may post from chat: Telegram users, Discord users, and members of Discord roles.

    Ids, not names: a username can be changed or taken over, an id cannot."""

    telegram: frozenset[int] = frozenset()
    discord: frozenset[int] = frozenset()
    discord_roles: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.telegram or self.discord or self.discord_roles)

    def on_telegram(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.telegram

    def on_discord(self, user_id: int, roles: frozenset[int] | set[int] = frozenset()) -> bool:
        return user_id in self.discord or bool(self.discord_roles & set(roles))


def _curators(raw: str) -> Curators:
    """``telegram:42,discord:123…,discord-role:456…``; spaces around entries are allowed."""
    found: dict[str, set[int]] = {"telegram": set(), "discord": set(), "discord-role": set()}
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        kind, colon, value = (part.strip() for part in entry.partition(":"))
        kind = kind.lower()
        if not colon or kind not in found:
            raise InputError(f"PAPERBOY_CURATORS has {entry!r}: give {_CURATOR_KINDS}, separated by commas")
        if kind == "telegram" and not _TELEGRAM_USER.fullmatch(value):
            why = "a chat's id, not a user's" if value.startswith("-") else "not a user id"
            raise InputError(
                f"PAPERBOY_CURATORS has {entry!r}: {why}; a Telegram user id is a positive whole"
                " number, such as telegram:123456789 (the bot's log shows who wrote to it)"
            )
        if kind != "telegram" and not _SNOWFLAKE.fullmatch(value):
            what = "role" if kind == "discord-role" else "user"
            raise InputError(
                f"PAPERBOY_CURATORS has {entry!r}: a Discord {what} id is 15 to 21 digits"
                f" (Discord: Developer Mode on, then right-click the {what} → Copy {what.title()} ID)"
            )
        found[kind].add(int(value))
    return Curators(
        frozenset(found["telegram"]), frozenset(found["discord"]), frozenset(found["discord-role"])
    )
