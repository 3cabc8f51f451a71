"""``paperboy publish`` says whom a day passed over and why, ``--backfill`` sends a day to who
joined later (once), and a channel's name covers every kind of target on its platform."""

from __future__ import annotations

import asyncio
import mailbox
import os
from pathlib import Path

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive, open_archive
from tests.conftest import SEEDS, CliRunner
from tests.fakes import RecordingChannel
from tests.test_publish import DAY, LONG_AGO, make

WEBHOOK = "discord-webhook:https://discord.com/api/webhooks/123456789012345678/" + "tok-en_1" * 8


@pytest.fixture
def newcomer(run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A fresh data folder with the seeds in, as the README's first command leaves it."""
    monkeypatch.setenv("PAPERBOY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(tmp_path / "site"))
    for name in ("PAPERBOY_TELEGRAM_TOKEN", "PAPERBOY_DISCORD_TOKEN", "PAPERBOY_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    assert run_cli("ingest", str(SEEDS)).code == 0
    return run_cli


def archive_of() -> Archive:
    return open_archive(os.environ["PAPERBOY_DATABASE_URL"])


def maildir_count(tmp_path: Path) -> int:
    folder = tmp_path / "maildir"
    return len(mailbox.Maildir(folder, create=False)) if folder.exists() else 0


def test_a_newcomer_reads_why_an_old_day_went_to_nobody_and_backfills_it(
    newcomer: CliRunner, tmp_path: Path
) -> None:
    assert newcomer("subscriptions", "add", "email:me@example.org").code == 0
    first = newcomer("publish", "2024-07-11")
    assert first.code == 0, first.err
    assert "6 papers (digest) went to 0 subscribers" in first.out
    assert "passed over 1 subscriber:" in first.out
    assert "1 subscribed after the day went out (2024-07-11 09:00 Asia/Seoul)" in first.out
    assert "paperboy publish 2024-07-11 --backfill" in first.out
    assert maildir_count(tmp_path) == 0

    backfilled = newcomer("publish", "2024-07-11", "--backfill", "--json")
    assert backfilled.code == 0, backfilled.err
    report = backfilled.json()
    assert (report["subscribers"], report["new_deliveries"], report["sent"]) == (1, 1, 1)
    assert (report["backfill"], report["backfilled"], report["passed_over"]["joined_after"]) == (True, 1, 0)
    assert maildir_count(tmp_path) == 1
    again = newcomer("publish", "2024-07-11", "--backfill", "--json").json()
    assert (again["new_deliveries"], again["sent"]) == (0, 0)  # the ledger: once each
    assert maildir_count(tmp_path) == 1
    plain = newcomer("publish", "2024-07-11")  # who has the day already is not passed over
    assert "went to 1 subscriber," in plain.out and "passed over" not in plain.out, plain.out


def test_each_reason_is_counted_and_said(newcomer: CliRunner) -> None:
    with archive_of() as archive:
        store.add(archive, "email:robots@example.org", ["robotics"], now=LONG_AGO)  # no such paper that day
        store.add(archive, "email:left@example.org", now=LONG_AGO)
        left = store.get(archive, "email:left@example.org")
        store.set_status(archive, left.id, "gone", "550 no such user")
        store.add(archive, "email:paused@example.org", now=LONG_AGO)
        store.set_status(archive, store.get(archive, "email:paused@example.org").id, "paused")
        store.add(archive, "telegram:-100123", now=LONG_AGO)  # its channel is off: it waits
        store.add(archive, "email:reader@example.org", now=LONG_AGO)
    result = newcomer("publish", "2024-07-11", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert report["passed_over"] == {"other_channel": 0, "inactive": 2, "joined_after": 0, "tags": 1}
    assert report["inactive_by_status"] == {"gone": 1, "paused": 1}
    assert report["channels_off"] == {
        "telegram": {"subscribers": 1, "reason": "PAPERBOY_TELEGRAM_TOKEN is not set"}
    }
    assert (report["subscribers"], report["sent"], report["waiting"]) == (2, 1, 1)

    text = newcomer("publish", "2024-07-11", "--channel", "email").out
    assert "went to 1 subscriber" in text
    assert "1 follow tags none of the day's papers has" in text
    assert "2 inactive (1 retired (gone), 1 paused)" in text
    assert "1 on other channels than email" in text


def test_a_dry_run_explains_the_same_and_changes_nothing(newcomer: CliRunner) -> None:
    assert newcomer("subscriptions", "add", "email:me@example.org").code == 0
    dry = newcomer("publish", "2024-06-18", "--dry-run", "--backfill", "--json").json()
    assert (dry["dry_run"], dry["subscribers"], dry["backfilled"], dry["new_deliveries"]) == (True, 1, 1, 0)
    assert newcomer("deliveries", "list", "--json").json() == {"deliveries": []}


def test_channel_discord_reaches_webhook_targets_too(newcomer: CliRunner) -> None:
    with archive_of() as archive:
        store.add(archive, WEBHOOK, now=LONG_AGO)
    dry = newcomer("publish", "2024-07-11", "--channel", "discord", "--dry-run", "--json").json()
    assert (dry["subscribers"], dry["passed_over"]["other_channel"]) == (1, 0)


def test_a_platform_name_covers_its_kinds_in_the_publisher(seeded: Archive, tmp_path: Path) -> None:
    store.add(seeded, WEBHOOK, now=LONG_AGO)
    store.add(seeded, "discord:123456789012345678", now=LONG_AGO)
    store.add(seeded, "telegram:-1001", now=LONG_AGO)
    hooks, bot = RecordingChannel("discord-webhook"), RecordingChannel("discord")
    publisher = make(seeded, tmp_path, {"discord-webhook": hooks, "discord": bot})
    report = asyncio.run(publisher.publish(DAY, kinds=["discord"]))
    assert (report.audience, report.who.passed_over["other_channel"]) == (2, 1)
    assert len(hooks.sent) == 1 and len(bot.sent) == 1


def test_a_site_that_cannot_be_rebuilt_loses_no_reader(
    newcomer: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's deliveries are in the ledger before the site is rebuilt: a rebuild that fails
    (here the site folder holds someone else's files) is said, and the day still goes out."""
    occupied = tmp_path / "not-a-site"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(occupied))
    with archive_of() as archive:
        store.add(archive, "email:reader@example.org", now=LONG_AGO)
    result = newcomer("publish", "2024-07-11", "--json")
    assert result.code == 0, result.err
    report = result.json()
    assert (report["site"], report["new_deliveries"], report["sent"]) == (False, 1, 1)
    assert "the folder is not empty and holds no earlier export" in report["site_error"]
    assert maildir_count(tmp_path) == 1 and (occupied / "notes.txt").read_text() == "mine"
    text = newcomer("publish", "2024-07-11")
    assert "paperboy: the web archive was not updated:" in text.err and "deliveries go out" in text.err
