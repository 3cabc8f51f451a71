"""The service's log: one line an event, and never a secret.

httpx logs every request URL at INFO, and Telegram's Bot API puts the bot token in the URL, so
httpx is kept to warnings; and as a second guard every record is scrubbed of the values of the
secret settings (tokens, passwords) before it is written, whatever logger it came from.
Discord webhook URLs carry their token and live in the database, not the environment: any such
URL in a record loses its token (discord.py logs them at DEBUG).

PAPERBOY_LOG_FORMAT=json writes one JSON object a line (python-json-logger) for a log collector:
time, level, logger, message, and the traceback when there is one. Both formats scrub the whole
written line too, tracebacks included, which the record's scrubbing does not reach.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import click
from pythonjsonlogger.json import JsonFormatter

from bot.subscriptions import hide_webhook_tokens

#: Whether ``configure`` chose JSON: then the CLI's notices go through the log (``notice``).
_json = [False]
SECRET_SETTINGS = ("_TOKEN", "_SECRET", "_PASSWORD", "_SECRET_KEY", "SMTP_URL", "DATABASE_URL")
MASK = "***"


class Redact(logging.Filter):
    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = sorted((s for s in secrets if len(s) >= 6), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        text = self.scrub(message)
        if text != message:
            record.msg, record.args = text, None
        return True

    def scrub(self, text: str) -> str:
        text = hide_webhook_tokens(text, MASK)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


class _TextFormatter(logging.Formatter):
    def __init__(self, redact: Redact) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact.scrub(super().format(record))


class _JsonFormatter(JsonFormatter):
    """The written line is scrubbed of each secret as JSON spells it too (a password's quote or
    backslash is escaped there), tracebacks included."""

    def __init__(self, redact: Redact) -> None:
        super().__init__(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self.redact = Redact([*redact.secrets, *(json.dumps(s)[1:-1] for s in redact.secrets)])

    def format(self, record: logging.LogRecord) -> str:
        return self.redact.scrub(super().format(record))


def secrets_in(environ: Mapping[str, str]) -> list[str]:
    """The values of secret settings; for URLs, only their password part."""
    found: list[str] = []
    for name, value in environ.items():
        if not name.startswith("PAPERBOY_") or not value or not name.endswith(SECRET_SETTINGS):
            continue
        if "://" in value:
            password = urlsplit(value).password
            found += [password] if password else []
        else:
            found.append(value)
    return found


def configure(environ: Mapping[str, str] | None = None, *, fmt: str = "text") -> None:
    """The process's log on stderr, as ``fmt`` (PAPERBOY_LOG_FORMAT: text or json) says."""
    redact = Redact(secrets_in(os.environ if environ is None else environ))
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter(redact) if fmt == "json" else _TextFormatter(redact))
    _json[0] = fmt == "json"
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    make_record = logging.getLogRecordFactory()

    def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
        # At the record's birth, not on a handler: a progress bar swaps the console handler.
        record = make_record(*args, **kwargs)
        redact.filter(record)
        return record

    logging.setLogRecordFactory(scrubbed)


def notice(text: str) -> None:
    """A line for the operator on stderr ("paperboy: …"); a log record when the log is JSON, so
    that every line a collector reads is an object."""
    if _json[0]:
        logging.getLogger("paperboy").info(text.removeprefix("paperboy: "))
    else:
        click.echo(text, err=True)
