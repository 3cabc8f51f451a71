"""The DATE arguments of every command: one spelling everywhere (``YYYY-MM-DD`` or ``today``)."""

from __future__ import annotations

import datetime as dt

from bot.config import Settings
from bot.errors import InputError

#: What a DATE argument may be, for messages and help texts.
DATE_FORMS = "YYYY-MM-DD (such as 2024-07-11) or 'today'"


def parse_day(raw: str, settings: Settings, *, extra: str = "") -> dt.date:
    """``raw`` as a date; ``today`` is today where the digest is published (PAPERBOY_TIMEZONE),
    which is not always today where the operator sits."""
    text = raw.strip().lower()
    if text == "today":
        return dt.datetime.now(settings.timezone).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{raw!r} is not a date: give {DATE_FORMS}{extra}") from None
