"""The log's second guard: Discord webhook tokens, which live in the database, never reach it."""

from __future__ import annotations

import logging

from bot.cli._logging import Redact

TOKEN = "AbC-def_GHI." + "x" * 60
URL = f"https://discord.com/api/v10/webhooks/123456789012345678/{TOKEN}?wait=true"


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("discord.webhook", logging.DEBUG, "f", 1, message, args, None)


def test_a_webhook_url_in_a_record_loses_its_token_and_keeps_its_id() -> None:
    record = _record("POST %s with 200", URL)
    Redact([]).filter(record)
    text = record.getMessage()
    assert TOKEN not in text and "x" * 20 not in text
    assert text == "POST https://discord.com/api/v10/webhooks/123456789012345678/***?wait=true with 200"


def test_a_record_without_a_webhook_is_left_as_it_was() -> None:
    record = _record("sent %d messages to %s", 3, "discord:123456789012345678")
    Redact([]).filter(record)
    assert record.args == (3, "discord:123456789012345678")
