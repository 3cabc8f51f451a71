"""Every setting is checked when a command starts, before any delivery is opened: a wrong one is
one line on stderr naming the variable (never a secret's value), exit status 2, no traceback, and
the ledger untouched. A wrong setting that shows only at send time (a login the server refuses)
stops the fan-out and leaves the deliveries pending: it is never a subscriber's failure.

Through ``paperboy publish`` as a subprocess, as a user runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import subscriptions as store
from bot.archive.schema import deliveries
from bot.archive.store import open_archive
from scheduler.ledger import Ledger
from tests.conftest import ROOT, ingest_seeds
from tests.smtp_server import Certificate, accept_login, self_signed, smtp_server
from tests.test_publish import DAY, LONG_AGO

KEY = "k" * 40  # PAPERBOY_SECRET_KEY for the subprocesses
READER = "reader@example.org"
PUBLISH = ("publish", DAY.isoformat(), "--channel", "email")


def paperboy_env(db_url: str, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``paperboy`` subprocess: none of the developer's own PAPERBOY_* (a
    token set in a shell must not reach a test), the database, and ``settings``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_") and k != "PORT"}
    return {
        **clean,
        "PAPERBOY_DATABASE_URL": db_url,
        "PAPERBOY_DATA_DIR": str(folder / "data"),
        "PAPERBOY_SITE_DIR": str(folder / "site"),
        "PAPERBOY_SECRET_KEY": KEY,
        **settings,
    }


def paperboy(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


#: (variable, value, what the message must say, whether the value is a secret kept out of it)
BAD = [
    (
        "PAPERBOY_SECRET_KEY",
        "short-secret-22-chars",
        "PAPERBOY_SECRET_KEY is 21 characters: give at least 32",
        True,
    ),
    (
        "PAPERBOY_SMTP_URL",
        "http://mailer:hunter22@mail.example.org",
        "PAPERBOY_SMTP_URL must start with smtp://",
        True,
    ),
    ("PAPERBOY_SMTP_URL", "smtp://mailer@mail.example.org:587", "a user name without a password", False),
    (
        "PAPERBOY_SMTP_URL",
        "smtp://mailer:pa/ss@mail.example.org",
        "PAPERBOY_SMTP_URL: the port is not a number",
        True,
    ),
    ("PAPERBOY_TELEGRAM_TOKEN", "bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "starts with 'bot'", True),
    ("PAPERBOY_TELEGRAM_TOKEN", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "34 characters with no ':'", True),
    ("PAPERBOY_TELEGRAM_TOKEN", "123456789:AAHdq", "is 15 characters, not the bot's number", True),
    (
        "PAPERBOY_DISCORD_TOKEN",
        "Bot MTEwMDAwMDAwMDAwMDAwMDAwMQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123",
        "starts with 'Bot '",
        True,
    ),
    ("PAPERBOY_DISCORD_TOKEN", "d8f9a7e6c5b4a3f2e1d0c9b8a7f6e5d4", "32 characters in 1 part", True),
    (
        "PAPERBOY_TELEGRAM_API_URL",
        "api.telegram.org/bot",
        "PAPERBOY_TELEGRAM_API_URL: it must be an http(s) URL",
        False,
    ),
    ("PAPERBOY_TELEGRAM_API_URL", "https://api.telegram.org", "must end with /bot", False),
    (
        "PAPERBOY_DISCORD_API_URL",
        "ftp://discord.com/api/v10",
        "PAPERBOY_DISCORD_API_URL: it must be an http(s) URL",
        False,
    ),
    ("PAPERBOY_TELEGRAM_WEBHOOK_URL", "http://bot.example.org/hook", "only to an https:// URL", False),
    (
        "PAPERBOY_TELEGRAM_WEBHOOK_SECRET",
        "not allowed!",
        "PAPERBOY_TELEGRAM_WEBHOOK_SECRET is 12 characters",
        True,
    ),
    ("PAPERBOY_DISCORD_GUILD", "my server", "PAPERBOY_DISCORD_GUILD is 'my server': a server id", False),
    ("PAPERBOY_DISCORD_SHARDS", "lots", "PAPERBOY_DISCORD_SHARDS is 'lots'", False),
    ("PAPERBOY_SMTP_CONCURRENCY", "0", "PAPERBOY_SMTP_CONCURRENCY is '0': give a whole number from 1", False),
    ("PAPERBOY_BASE_URL", "papers.example.org", "PAPERBOY_BASE_URL: it must be an http(s) URL", False),
    ("PAPERBOY_FROM", "Paperboy", "PAPERBOY_FROM is 'Paperboy': give an address", False),
    ("PORT", "web", "PORT is 'web': give a whole number from 1 to 65535", False),
    ("PAPERBOY_LOG_FORMAT", "xml", "PAPERBOY_LOG_FORMAT is 'xml': give one of text, json", False),
    (
        "PAPERBOY_METRICS_TOKEN",
        "short token 1",
        "PAPERBOY_METRICS_TOKEN is 13 characters: give at least 16",
        True,
    ),
]


@pytest.fixture(scope="module")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds and one email subscriber from before the day, made once and copied per test."""
    path = tmp_path_factory.mktemp("seeded") / "archive.db"
    with open_archive(f"sqlite:///{path}") as archive:
        ingest_seeds(archive)
        store.add(archive, f"email:{READER}", now=LONG_AGO)
    return path


@pytest.fixture
def db(seeded_db: Path, tmp_path: Path) -> str:
    copy = tmp_path / "archive.db"
    shutil.copy(seeded_db, copy)
    return f"sqlite:///{copy}"


def ledger_rows(db: str) -> int:
    with open_archive(db) as archive, archive.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(deliveries)).scalar_one())


def maildir(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "maildir" / "new").glob("*"))


@pytest.mark.parametrize(("variable", "value", "message", "secret"), BAD, ids=[f"{b[0]}={b[1]}" for b in BAD])
def test_a_wrong_setting_stops_publish_before_anything_is_opened(
    db: str, tmp_path: Path, variable: str, value: str, message: str, secret: bool
) -> None:
    env = paperboy_env(db, tmp_path, **{variable: value})
    process = paperboy(env, *PUBLISH)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert err.count("\n") == 1 and err.startswith(f"paperboy: {variable}"), err
    assert message in err and "Traceback" not in err
    assert out == ""
    if secret:
        assert value not in err and value.split(":")[-1][:12] not in err  # no part of the secret
    assert ledger_rows(db) == 0 and maildir(tmp_path) == []


def test_the_same_publish_with_right_settings_opens_and_sends(db: str, tmp_path: Path) -> None:
    """The check above is not vacuous: this very command, rightly set, does open and send."""
    process = paperboy(paperboy_env(db, tmp_path), *PUBLISH)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert ledger_rows(db) == 1 and len(maildir(tmp_path)) == 1


def test_a_short_key_kept_in_the_data_folder_is_refused_too(db: str, tmp_path: Path) -> None:
    env = paperboy_env(db, tmp_path)
    del env["PAPERBOY_SECRET_KEY"]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret-key").write_text("too-short\n")
    process = paperboy(env, *PUBLISH)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert "PAPERBOY_SECRET_KEY is not set, and" in err and "secret-key holds 9 characters" in err
    assert ledger_rows(db) == 0


def test_every_command_checks_the_settings_at_start(db: str, tmp_path: Path) -> None:
    env = paperboy_env(db, tmp_path, PAPERBOY_TELEGRAM_TOKEN="not-a-token")
    for args in (("stats",), ("run", "--no-web"), ("serve",), ("deliveries", "retry")):
        process = paperboy(env, *args)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 2, args
        assert err.startswith("paperboy: PAPERBOY_TELEGRAM_TOKEN is 11 characters with no ':'"), args


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("no openssl command to make a certificate")
    return made


def test_a_login_refused_at_send_time_stops_and_leaves_the_deliveries_pending(
    db: str, tmp_path: Path, certificate: Certificate
) -> None:
    with open_archive(db) as archive:
        for name in ("ada", "bob"):
            store.add(archive, f"email:{name}@example.org", now=LONG_AGO)
    options = {"tls_context": certificate.server_context(), "authenticator": accept_login("mailer", "right")}
    with smtp_server(**options) as (inbox, port):
        trust = {"SSL_CERT_FILE": str(certificate.cert)}
        wrong = paperboy_env(db, tmp_path, PAPERBOY_SMTP_URL=f"smtp://mailer:wrong@127.0.0.1:{port}", **trust)
        process = paperboy(wrong, *PUBLISH)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 2 and "Traceback" not in err
        said = [line for line in err.splitlines() if " is off: " not in line]  # telegram, discord
        assert len(said) == 1 and said[0].startswith("paperboy: email stopped: smtp://mailer@127.0.0.1")
        assert "refused the login: 535" in err and "its 3 deliveries wait in the ledger" in err
        assert "wrong" not in err
        with open_archive(db) as archive:
            rows = Ledger(archive, "inspector").listing(day=DAY)
            assert [(row.status, row.attempts, row.last_error) for row in rows] == [("pending", 0, None)] * 3
            assert all(store.get(archive, row.subscription.address).last_error is None for row in rows)

        right = {**wrong, "PAPERBOY_SMTP_URL": f"smtp://mailer:right@127.0.0.1:{port}"}
        process = paperboy(right, *PUBLISH)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert sorted(item.recipient for item in inbox.accepted) == ["ada@example.org", "bob@example.org", READER]
    with open_archive(db) as archive:
        assert {row.status for row in Ledger(archive, "inspector").listing(day=DAY)} == {"sent"}
