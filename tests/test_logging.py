"""The log's second guard: Discord webhook tokens, which live in the database, never reach it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

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


#: Secrets of the kinds the log is scrubbed of, one with a quote and a backslash (JSON escapes them).
SECRETS = {
    "PAPERBOY_TELEGRAM_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    "PAPERBOY_ADMIN_PASSWORD": 'hunter2"quoted\\secret',
    "PAPERBOY_METRICS_TOKEN": "metrics-token-" + "m" * 24,
}
SCRIPT = """
import logging, os
from bot.cli._logging import configure
configure(fmt=os.environ["FORMAT"])
log = logging.getLogger("paperboy.test")
log.info("calling https://api.telegram.org/bot%s/sendMessage", os.environ["PAPERBOY_TELEGRAM_TOKEN"])
log.warning("a password: %s", os.environ["PAPERBOY_ADMIN_PASSWORD"])
e = os.environ
try:
    raise RuntimeError("refused: " + e["PAPERBOY_ADMIN_PASSWORD"] + e["PAPERBOY_METRICS_TOKEN"])
except RuntimeError:
    log.exception("sending failed")
"""


def _log_of(fmt: str) -> str:
    env = {**os.environ, **SECRETS, "FORMAT": fmt}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    return done.stderr


def _strings(value: object) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def test_the_json_log_is_one_object_a_line_and_never_holds_a_secret() -> None:
    lines = _log_of("json").splitlines()
    records = [json.loads(line) for line in lines]  # every line parses alone
    assert [r["message"] for r in records] == [
        "calling https://api.telegram.org/bot***/sendMessage",
        "a password: ***",
        "sending failed",
    ]
    assert [(r["level"], r["logger"]) for r in records][1] == ("WARNING", "paperboy.test")
    assert all(r["time"] for r in records)
    assert "RuntimeError: refused: ***" in records[2]["exc_info"]  # the traceback is kept, scrubbed
    for secret in SECRETS.values():
        assert not any(secret in text for record in records for text in _strings(record)), secret
        assert secret not in "\n".join(lines)


def test_the_text_log_scrubs_tracebacks_too() -> None:
    text = _log_of("text")
    assert "RuntimeError: refused: ***" in text and "bot***/sendMessage" in text
    for secret in SECRETS.values():
        assert secret not in text
