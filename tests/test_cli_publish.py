"""``paperboy publish`` and ``paperboy deliveries`` from the command line."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest

from tests.conftest import SEEDS, CliRunner


@pytest.fixture
def seeded_cli(run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(tmp_path / "site"))
    assert run_cli("ingest", str(SEEDS)).code == 0
    return run_cli


def test_publish_builds_the_feeds_and_archive_and_twice_sends_nothing_new(
    seeded_cli: CliRunner, tmp_path: Path
) -> None:
    first = seeded_cli("publish", "2024-07-11", "--json")
    assert first.code == 0, first.err
    assert {k: first.json()[k] for k in ("source", "papers", "site", "new_deliveries")} == {
        "source": "digest",
        "papers": 6,
        "site": True,
        "new_deliveries": 0,
    }
    feed = feedparser.parse((tmp_path / "site" / "feed.xml").read_bytes())
    assert feed.bozo == 0 and any(e.title.startswith("MARS") for e in feed.entries)
    assert (tmp_path / "site" / "days" / "2024-07-11.html").exists()
    assert "telegram is off: PAPERBOY_TELEGRAM_TOKEN is not set" in first.err
    assert seeded_cli("subscriptions", "add", "telegram:-100123").code == 0
    again = seeded_cli("publish", "2024-07-11", "--json").json()
    assert again["new_deliveries"] == 0  # the subscriber came after that day's publish time


def test_deliveries_wait_for_an_off_channel_and_are_listed(seeded_cli: CliRunner, tmp_path: Path) -> None:
    # A subscriber from before the day, through the library (the CLI stamps 'now').
    import os

    from bot import subscriptions as store
    from bot.archive.store import open_archive
    from tests.test_publish import LONG_AGO

    with open_archive(os.environ["PAPERBOY_DATABASE_URL"]) as archive:
        store.add(archive, "telegram:-100123", ["vq"], now=LONG_AGO)
    report = seeded_cli("publish", "2024-07-11", "--json").json()
    assert (report["new_deliveries"], report["sent"], report["waiting"]) == (1, 0, 1)
    listed = seeded_cli("deliveries", "list", "--json").json()["deliveries"]
    assert [(d["date"], d["target"], d["status"], d["attempts"]) for d in listed] == [
        ("2024-07-11", "telegram:-100123", "pending", 0)
    ]
    assert seeded_cli("deliveries", "list", "--status", "failed", "--json").json() == {"deliveries": []}
    retried = seeded_cli("deliveries", "retry", "--date", "2024-07-11")
    assert retried.code == 0 and "0 failed deliveries queued again" in retried.out


def test_publish_dry_run_and_bad_dates(seeded_cli: CliRunner, tmp_path: Path) -> None:
    dry = seeded_cli("publish", "2025-01-02", "--dry-run", "--json").json()
    assert (dry["source"], dry["papers"], dry["dry_run"]) == ("queue", 3, True)
    assert not (tmp_path / "site").exists()
    bad = seeded_cli("publish", "someday")
    assert bad.code == 2 and "'someday' is not a date" in bad.err
    channel = seeded_cli("publish", "2024-07-11", "--channel", "fax")
    assert channel.code == 2 and "'fax' is not one of" in channel.err


def test_a_broken_pagefind_stops_publish_and_run_before_anything_happens(
    seeded_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import subprocess
    import sys

    from bot import subscriptions as store
    from bot.archive.store import open_archive
    from tests.test_publish import LONG_AGO

    with open_archive(os.environ["PAPERBOY_DATABASE_URL"]) as archive:
        store.add(archive, "telegram:-100123", ["vq"], now=LONG_AGO)
    monkeypatch.setenv("PAPERBOY_SEARCH_INDEX", "always")  # publishing builds the index too
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-pagefind"))
    refused = seeded_cli("publish", "2024-07-11")
    assert refused.code == 2, refused
    assert refused.err.endswith("(PAGEFIND_BINARY_PATH) does not exist\n") and refused.err.count("\n") == 1
    # The service would publish every day: it does not start (a child process, in case it did).
    service = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--no-web"], capture_output=True, text=True, timeout=60
    )
    assert service.returncode == 2 and service.stderr.endswith("(PAGEFIND_BINARY_PATH) does not exist\n")
    assert not (tmp_path / "site").exists()
    # Nothing was recorded or opened: the day publishes in full once Pagefind is back...
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    report = seeded_cli("publish", "2024-07-11", "--json").json()
    assert (report["source"], report["new_deliveries"]) == ("digest", 1)
    assert (tmp_path / "site" / "pagefind" / "pagefind.js").exists()
    # ...or without the index, when the operator turns it off.
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-pagefind"))
    monkeypatch.setenv("PAPERBOY_SEARCH_INDEX", "off")
    again = seeded_cli("publish", "2024-03-15", "--json")
    assert again.code == 0, again.err
    assert not (tmp_path / "site" / "pagefind").exists() and (tmp_path / "site" / "search.html").exists()


def test_by_default_publishing_leaves_the_search_index_to_export_site(
    seeded_cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paperboy's own server searches without the index, and it costs memory per paper page: a
    daily publish does not build it unasked (nor needs Pagefind), export-site does."""
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "no-pagefind"))
    published = seeded_cli("publish", "2024-07-11")
    assert published.code == 0, published.err
    assert (tmp_path / "site" / "search.html").exists() and not (tmp_path / "site" / "pagefind").exists()
    refused = seeded_cli("export-site", str(tmp_path / "static"))
    assert refused.code == 2 and "(PAGEFIND_BINARY_PATH) does not exist" in refused.err
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    assert seeded_cli("export-site", str(tmp_path / "static")).code == 0
    assert (tmp_path / "static" / "pagefind" / "pagefind.js").exists()
    monkeypatch.setenv("PAPERBOY_SEARCH_INDEX", "sometimes")
    bad = seeded_cli("days")
    assert bad.code == 2 and bad.err == (
        "paperboy: PAPERBOY_SEARCH_INDEX is 'sometimes': give one of export, always, off\n"
    )
