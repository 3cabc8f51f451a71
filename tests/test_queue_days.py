"""A day published from the undated queue is a day of the archive like a curator's: listed by
``days`` and ``stats``, rendered by ``render``, in the web archive, answered by /latest (SQLite
and PostgreSQL). Before, only the feeds knew of it."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from pathlib import Path

import pytest

from bot.archive import queries
from bot.archive.store import Archive
from bot.commands import LatestDigest, answer
from bot.render.environment import Templates
from tests.conftest import SEEDS, CliRunner
from tests.fakes import RecordingChannel
from tests.test_publish import make, subscribe

QUIET = dt.date(2026, 12, 4)  # no curator post that day: the queue fills it
QUEUED = ["u-μP", "Divergent Token metrics (DTMs)", "MultiFusion"]


def publish_quiet_day(archive: Archive, tmp_path: Path) -> None:
    subscribe(archive, "telegram:-4001")
    channel = RecordingChannel()
    report = asyncio.run(make(archive, tmp_path, {"telegram": channel}).publish(QUIET))
    assert (report.source, report.papers) == ("queue", 3)
    assert channel.sent == [("-4001", tuple(QUEUED))]


def test_a_queue_day_is_listed_counted_and_holds_its_papers(seeded: Archive, tmp_path: Path) -> None:
    before = queries.stats(seeded)
    assert QUIET not in [day.date for day in queries.days(seeded)]
    publish_quiet_day(seeded, tmp_path)
    assert queries.days(seeded)[0] == queries.Day(QUIET, 3)
    after = queries.stats(seeded)
    assert (after.digests, after.queued, after.papers) == (
        before.digests + 1,
        before.queued - 3,
        before.papers,
    )
    assert [p.title for p in queries.day_papers(seeded, QUIET)] == QUEUED
    assert queries.digest_papers(seeded, QUIET) == []  # the curator wrote nothing for it
    assert all(p.date == QUIET and p.days == (QUIET,) for p in queries.day_papers(seeded, QUIET))
    latest = answer(seeded, "latest", "", today=QUIET)
    assert isinstance(latest, LatestDigest) and latest.view.date == QUIET
    assert [p.title for p in latest.view.papers] == QUEUED


def test_a_queue_day_is_in_the_exported_archive(
    seeded: Archive, tmp_path: Path, templates: Templates
) -> None:
    from bot.channels.web.export import export_site

    publish_quiet_day(seeded, tmp_path)
    site = tmp_path / "exported"
    export_site(seeded, templates, site, base_url=None, site_url="http://localhost:8000")
    day_page = (site / "days" / f"{QUIET}.html").read_text()
    assert all(title in day_page for title in ["u-μP", "MultiFusion"])
    index = (site / "index.html").read_text()
    assert f'href="days/{QUIET}.html"' in index
    paper = next(p for p in queries.day_papers(seeded, QUIET) if p.title == "MultiFusion")
    page = (site / "papers" / f"{paper.id}.html").read_text()
    assert f'href="../days/{QUIET}.html"' in page


def test_the_cli_treats_a_published_queue_day_as_a_day(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The newcomer's path: `paperboy publish` on a quiet day, then `days`, `stats`, `render`."""
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(tmp_path / "site"))
    assert run_cli("ingest", str(SEEDS)).code == 0
    published = run_cli("publish", QUIET.isoformat(), "--json")
    assert published.code == 0 and published.json()["source"] == "queue"
    listed = run_cli("days", "--json").json()["days"]
    assert listed[0] == {"date": QUIET.isoformat(), "entries": 3}
    assert run_cli("stats", "--json").json()["digests"] == 5
    rendered = run_cli("render", QUIET.isoformat(), "--channel", "web", "--json")
    assert rendered.code == 0, rendered.err
    assert len(re.findall(r'<article class="paper"', rendered.json()["html"])) == 3
    telegram = run_cli("render", QUIET.isoformat(), "--channel", "telegram", "--json")
    assert telegram.code == 0 and "MultiFusion" in telegram.out
    assert (tmp_path / "site" / "days" / f"{QUIET}.html").exists()
    # A quiet day nobody published is still no day.
    missing = run_cli("render", "2026-12-05", "--channel", "web")
    assert missing.code == 2 and f"the nearest days with one: {QUIET}" in missing.err
