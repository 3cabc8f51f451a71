"""The channels' settings that stay in the environment, checked when a command starts.

Tokens, keys and the SMTP URL are secrets: they stay out of ``Settings`` (whose repr may be
logged) and are read from the environment where a channel is built. So that a wrong one stops
a command before any delivery is opened, rather than failing every delivery at send time, each
command first runs ``check_environment``: a wrong setting is a ``ConfigError`` that names the
variable and says what is wrong with it (its length, its shape), never its value. The channels
read their settings through these same functions, so the start-up check and the channel agree.

This module imports no platform library: every command, a lookup too, runs it at start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from bot.config import Settings
from bot.errors import ConfigError

#: Where a key made on first use is kept, in the data folder (``bot.channels.email.tokens``).
KEY_FILE = "secret-key"
MIN_KEY_LENGTH = 32
MIN_METRICS_TOKEN = 16
#: BotFather's tokens: the bot's number, a colon, then 35 characters of [A-Za-z0-9_-] (≥ 30 here).
_TELEGRAM_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{30,}")
#: A Discord bot token: three base64 parts joined by dots (the bot's id, a time, a signature).
_DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_+/=-]{16,}\.[A-Za-z0-9_+/=-]{4,}\.[A-Za-z0-9_+/=-]{20,}")
#: Telegram's rule for a webhook's secret_token: 1 to 256 of these.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_SNOWFLAKE = re.compile(r"[0-9]{15,21}")
MAX_SHARDS = 1_000
TELEGRAM_API = "https://api.telegram.org/bot"
DISCORD_API = "https://discord.com/api/v10"


def check_environment(settings: Settings, env: Mapping[str, str]) -> None:
    """Every setting a channel reads later, checked now; the first wrong one raises."""
    secret_key(env, settings.data_dir)
    if env.get("PAPERBOY_SMTP_URL", "").strip():
        from bot.channels.email.smtp_url import parse_smtp_url

        parse_smtp_url(env["PAPERBOY_SMTP_URL"])
    _addresses(settings)
    if settings.base_url:
        _http_url("PAPERBOY_BASE_URL", settings.base_url, example="https://papers.example.org")
    if env.get("PAPERBOY_TELEGRAM_TOKEN"):
        telegram_token(env["PAPERBOY_TELEGRAM_TOKEN"])
    telegram_api_url(env.get("PAPERBOY_TELEGRAM_API_URL"))
    telegram_webhook(env.get("PAPERBOY_TELEGRAM_WEBHOOK_URL"), env.get("PAPERBOY_TELEGRAM_WEBHOOK_SECRET"))
    if env.get("PAPERBOY_DISCORD_TOKEN"):
        discord_token(env["PAPERBOY_DISCORD_TOKEN"])
    discord_api_url(env.get("PAPERBOY_DISCORD_API_URL"))
    discord_guild(env.get("PAPERBOY_DISCORD_GUILD") or "")
    discord_shards(env.get("PAPERBOY_DISCORD_SHARDS") or "")
    source_channel(env.get("PAPERBOY_TELEGRAM_SOURCE_CHANNEL") or "")
    metrics_token(env)
    from bot.channels.web.console.passwords import stored_hash  # the console's, if one is set

    stored_hash(env, settings.data_dir)


def secret_key(env: Mapping[str, str], data_dir: Path) -> str | None:
    """PAPERBOY_SECRET_KEY, else the key kept in the data folder, if long enough; None if neither
    exists yet (one is made on first use)."""
    key = env.get("PAPERBOY_SECRET_KEY", "")
    if key:
        check_key(key, "PAPERBOY_SECRET_KEY is")
        return key
    path = Path(data_dir) / KEY_FILE
    if not path.is_file():
        return None
    kept = path.read_text().strip()
    check_key(kept, f"PAPERBOY_SECRET_KEY is not set, and {path} holds")
    return kept


def check_key(key: str, what: str) -> None:
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{what} {len(key)} characters: give at least {MIN_KEY_LENGTH} random ones, such as"
            " the output of: python -c 'import secrets; print(secrets.token_urlsafe())'"
        )


def metrics_token(env: Mapping[str, str]) -> str | None:
    """PAPERBOY_METRICS_TOKEN, the bearer token /metrics asks for; None: no /metrics. Prometheus
    sends it on every scrape, so it is a password: long, and one line."""
    token = env.get("PAPERBOY_METRICS_TOKEN", "")
    if not token:
        return None
    if len(token) < MIN_METRICS_TOKEN or any(c.isspace() or not c.isprintable() for c in token):
        raise ConfigError(
            f"PAPERBOY_METRICS_TOKEN is {len(token)} characters: give at least {MIN_METRICS_TOKEN}, with no"
            " spaces, such as the output of: python -c 'import secrets; print(secrets.token_urlsafe())'"
        )
    return token


def telegram_token(raw: str) -> str:
    token = raw.strip()
    if _TELEGRAM_TOKEN.fullmatch(token):
        return token
    if token.lower().startswith("bot") and _TELEGRAM_TOKEN.fullmatch(token[3:]):
        problem = "starts with 'bot': give the token alone, as BotFather wrote it"
    elif ":" not in token:
        problem = f"is {len(token)} characters with no ':' after the bot's number"
    else:
        problem = f"is {len(token)} characters, not the bot's number, ':' and at least 30 of A-Z a-z 0-9 _ -"
    raise ConfigError(f"PAPERBOY_TELEGRAM_TOKEN {problem} (BotFather's token looks like 123456789:AAH…)")


def discord_token(raw: str) -> str:
    token = raw.strip()
    if _DISCORD_TOKEN.fullmatch(token):
        return token
    if token.lower().startswith("bot ") and _DISCORD_TOKEN.fullmatch(token[4:].strip()):
        problem = "starts with 'Bot ': give the token alone"
    else:
        parts = token.count(".") + 1
        problem = (
            f"is {len(token)} characters in {parts} part{'s' if parts != 1 else ''}, not a bot token's"
            " three parts joined by dots (the application id or client secret is not the token)"
        )
    raise ConfigError(f"PAPERBOY_DISCORD_TOKEN {problem}: Developer Portal → Bot → Reset Token")


def telegram_api_url(raw: str | None) -> str:
    """The Bot API's base, to which the token is appended; Telegram's own when None or empty."""
    if not raw:
        return TELEGRAM_API
    url = _http_url("PAPERBOY_TELEGRAM_API_URL", raw, example=TELEGRAM_API)
    if not url.endswith("/bot"):
        raise ConfigError(
            f"PAPERBOY_TELEGRAM_API_URL must end with /bot, as {TELEGRAM_API} does: the token follows it"
        )
    return url


def discord_api_url(raw: str | None) -> str:
    """The REST base without a trailing slash; Discord's own when None or empty."""
    if not raw:
        return DISCORD_API
    return _http_url("PAPERBOY_DISCORD_API_URL", raw, example=DISCORD_API).rstrip("/")


def telegram_webhook(url: str | None, secret: str | None) -> None:
    """A webhook needs an https URL (Telegram's rule; plain http only to this machine, for a
    tunnel or a stand-in) and a secret Telegram accepts as ``secret_token``."""
    if url:
        parts = urlsplit(url.strip())
        local = parts.hostname in ("127.0.0.1", "localhost")
        if not (parts.hostname and (parts.scheme == "https" or (parts.scheme == "http" and local))):
            raise ConfigError(
                "PAPERBOY_TELEGRAM_WEBHOOK_URL must be an https:// URL with a host: Telegram posts"
                " updates only to an https:// URL"
            )
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(
            f"PAPERBOY_TELEGRAM_WEBHOOK_SECRET is {len(secret)} characters: Telegram takes 1 to 256"
            " of A-Z a-z 0-9 _ - only"
        )


def discord_guild(raw: str) -> int | None:
    value = raw.strip()
    if not value:
        return None
    if not _SNOWFLAKE.fullmatch(value):
        raise ConfigError(
            f"PAPERBOY_DISCORD_GUILD is {raw!r}: a server id, 15 to 21 digits"
            " (Discord: Developer Mode on, then right-click the server → Copy Server ID)"
        )
    return int(value)


def discord_shards(raw: str) -> int | Literal["auto"] | None:
    value = raw.strip().lower()
    if not value:
        return None
    if value == "auto":
        return "auto"
    if value.isdigit() and 1 <= int(value) <= MAX_SHARDS:
        return int(value)
    raise ConfigError(
        f"PAPERBOY_DISCORD_SHARDS is {raw!r}: 'auto' (Discord's recommended count) or a number"
        f" of shards from 1 to {MAX_SHARDS:,}"
    )


def _http_url(name: str, raw: str, *, example: str) -> str:
    """``raw`` if it is an http(s) URL with a host. The message never repeats it: a URL can carry
    a password or a token in it."""
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name}: it must be an http(s) URL with a host, like {example}")
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} has a ? or # part: give the address alone, like {example}")
    return url


def _addresses(settings: Settings) -> None:
    given = [
        (name, value)
        for name, value in (
            ("PAPERBOY_FROM", settings.email_from),
            ("PAPERBOY_REPLY_TO", settings.reply_to),
            ("PAPERBOY_UNSUBSCRIBE_MAILTO", settings.unsubscribe_mailto),
        )
        if value is not None and value != Settings.email_from
    ]
    if not given:
        return
    from email.utils import parseaddr  # only then: every command runs this at start

    for name, value in given:
        if "@" not in parseaddr(value)[1]:
            raise ConfigError(
                f"{name} is {value!r}: give an address, such as 'Paperboy <digest@example.org>'"
                " or digest@example.org"
            )


_CHANNEL_NAME = re.compile(r"@([A-Za-z][A-Za-z0-9_]{3,31})")


def source_channel(raw: str) -> int | str | None:
    """PAPERBOY_TELEGRAM_SOURCE_CHANNEL: a channel's id (``-1001234567890``) or ``@username``."""
    value = raw.strip()
    if not value:
        return None
    if re.fullmatch(r"-[1-9][0-9]{4,15}", value):
        return int(value)
    named = _CHANNEL_NAME.fullmatch(value)
    if named:
        return value
    raise ConfigError(
        f"PAPERBOY_TELEGRAM_SOURCE_CHANNEL is {raw!r}: give the channel's id, such as -1001234567890,"
        " or its public @username"
    )
