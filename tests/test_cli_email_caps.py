"""PAPERBOY_SMTP_RATE and PAPERBOY_SMTP_WINDOW as a user meets them: a bad value stops every
command with one line and exit status 2 before anything is sent; ``publish`` says when what the
window holds back may go, ``deliveries list`` shows each waiting delivery's time, and running
``publish`` again (a restart) sends nothing before then. A real SMTP server takes the mail."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import subscriptions as store
from bot.archive.store import open_archive
from bot.config import Settings
from tests.conftest import SEEDS, CliRunner
from tests.smtp_server import smtp_server
from tests.test_publish import LONG_AGO

WINDOW_HINT = (
    "give a count of 1 or more per second, minute, hour or day (up to 31 days),"
    " such as 2000/day, 500/hour or 100/10min"
)
RATE_HINT = "give messages per second, a number from 0.01 to 10000 such as 14 or 0.5"


@pytest.mark.parametrize(
    ("raw", "count", "seconds"),
    [
        ("2000/day", 2000, 86400),
        ("500/hour", 500, 3600),
        ("300/minute", 300, 60),
        ("100/10min", 100, 600),
        ("200 / 24 hours", 200, 86400),
        ("10000/30d", 10000, 30 * 86400),
        ("1/s", 1, 1),
    ],
)
def test_window_values_that_are_understood(raw: str, count: int, seconds: int) -> None:
    window = Settings.from_env({"PAPERBOY_SMTP_WINDOW": raw}).smtp_window
    assert window is not None and (window.count, window.seconds) == (count, seconds)


@pytest.mark.parametrize(("raw", "rate"), [("14", 14.0), ("0.5", 0.5), ("50", 50.0), ("", None)])
def test_rate_values_that_are_understood(raw: str, rate: float | None) -> None:
    assert Settings.from_env({"PAPERBOY_SMTP_RATE": raw}).smtp_rate == rate


@pytest.mark.parametrize(
    ("name", "raw", "hint"),
    [
        ("PAPERBOY_SMTP_WINDOW", "0/day", WINDOW_HINT),
        ("PAPERBOY_SMTP_WINDOW", "abc", WINDOW_HINT),
        ("PAPERBOY_SMTP_WINDOW", "2000/fortnight", WINDOW_HINT),
        ("PAPERBOY_SMTP_WINDOW", "-5/day", WINDOW_HINT),
        ("PAPERBOY_SMTP_WINDOW", "2000", WINDOW_HINT),
        ("PAPERBOY_SMTP_WINDOW", "5/0h", WINDOW_HINT),
        ("PAPERBOY_SMTP_WINDOW", "5/2months", WINDOW_HINT),
        ("PAPERBOY_SMTP_RATE", "0", RATE_HINT),
        ("PAPERBOY_SMTP_RATE", "-3", RATE_HINT),
        ("PAPERBOY_SMTP_RATE", "fast", RATE_HINT),
        ("PAPERBOY_SMTP_RATE", "14/s", RATE_HINT),
        ("PAPERBOY_SMTP_RATE", "nan", RATE_HINT),
    ],
)
@pytest.mark.parametrize("command", [["days"], ["publish", "2024-07-11"], ["deliveries", "list"], ["run"]])
def test_a_bad_value_stops_every_command_with_one_line(
    run_cli: CliRunner,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    raw: str,
    hint: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(name, raw)
    result = run_cli(*command)
    assert (result.code, result.out) == (2, "")
    assert result.err == f"paperboy: {name} is {raw!r}: {hint}\n"


def test_a_bad_value_never_reaches_a_send(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With a subscriber and a server waiting, ``publish`` under a bad window opens nothing and
    sends nothing; fixed, the same command sends."""
    with smtp_server() as (inbox, port):
        email_env(monkeypatch, tmp_path, port)
        assert run_cli("ingest", str(SEEDS)).code == 0
        with open_archive(os.environ["PAPERBOY_DATABASE_URL"]) as archive:
            store.add(archive, "email:ada@example.org", now=LONG_AGO)
        monkeypatch.setenv("PAPERBOY_SMTP_WINDOW", "2000/fortnight")
        assert run_cli("publish", "2024-07-11").code == 2
        monkeypatch.delenv("PAPERBOY_SMTP_WINDOW")
        assert run_cli("deliveries", "list", "--json").json() == {"deliveries": []}
        assert inbox.accepted == [] and not (tmp_path / "site").exists()
        assert run_cli("publish", "2024-07-11").code == 0
        assert [item.recipient for item in inbox.accepted] == ["ada@example.org"]


def test_a_bad_value_as_a_user_runs_the_command(tmp_path: Path) -> None:
    """The installed command in a process of its own: one line on stderr, exit 2, no traceback."""
    env = {**os.environ, "PAPERBOY_DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "PAPERBOY_SMTP_RATE": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "days"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"paperboy: PAPERBOY_SMTP_RATE is '0': {RATE_HINT}\n"


def email_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, port: int) -> None:
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(tmp_path / "site"))
    monkeypatch.setenv("PAPERBOY_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("PAPERBOY_FROM", "Paperboy <digest@mail.example>")
    monkeypatch.setenv("PAPERBOY_BASE_URL", "https://digest.paperboy.example")
    monkeypatch.setenv("PAPERBOY_TIMEZONE", "UTC")


def test_publish_and_deliveries_list_say_what_waits_for_the_window_and_until_when(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    readers = [f"reader{n}@example.org" for n in range(5)]
    with smtp_server() as (inbox, port):
        email_env(monkeypatch, tmp_path, port)
        monkeypatch.setenv("PAPERBOY_SMTP_WINDOW", "2/hour")
        assert run_cli("ingest", str(SEEDS)).code == 0
        with open_archive(os.environ["PAPERBOY_DATABASE_URL"]) as archive:
            for address in readers:
                store.add(archive, f"email:{address}", now=LONG_AGO)
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        first = run_cli("publish", "2024-07-11", "--channel", "email")
        after = dt.datetime.now(dt.UTC)
        assert first.code == 0, first.err
        assert "sent 2, failed 0, gone 0" in first.out
        said = re.search(
            r"^3 deliveries wait for a retry or for the email window \(PAPERBOY_SMTP_WINDOW 2/hour\) to"
            r" reopen; the next may go at (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$",
            first.out,
            re.MULTILINE,
        )
        assert said, first.out
        next_at = dt.datetime.fromisoformat(said[1]).replace(tzinfo=dt.UTC)
        assert before + dt.timedelta(hours=1) <= next_at <= after + dt.timedelta(hours=1, seconds=1)
        assert "for a channel that is off" not in first.out
        assert len(inbox.accepted) == 2

        lines = run_cli("deliveries", "list").out.splitlines()
        assert sum("waiting until" in line for line in lines) == 3
        assert sum(" sent " in line for line in lines) == 2
        assert all("tries 0" in line for line in lines if "waiting until" in line)
        listed = run_cli("deliveries", "list", "--json").json()["deliveries"]
        assert {key for row in listed for key in row} == {
            "id",
            "date",
            "target",
            "kind",
            "status",
            "attempts",
            "last_error",
            "message_ids",
            "sent_at",
            "not_before",
            "edits",
        }
        waiting = [row for row in listed if row["status"] == "pending"]
        assert len(waiting) == 3 and all(row["last_error"] is None for row in waiting)
        first_due = min(dt.datetime.fromisoformat(row["not_before"]) for row in waiting)
        assert next_at - dt.timedelta(seconds=1) < first_due <= next_at  # shown rounded up

        again = run_cli("publish", "2024-07-11", "--channel", "email", "--json")  # a restart
        assert again.code == 0, again.err
        assert (again.json()["sent"], again.json()["waiting"]) == (0, 3)
        assert dt.datetime.fromisoformat(again.json()["next_due"]) == first_due
        assert len(inbox.accepted) == 2
    assert len({item.recipient for item in inbox.accepted}) == 2
