"""The service: catch-up decided by the ledger, the inbox, the web server, the leader lock."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from bot.config import Settings
from scheduler.publish import Publisher
from scheduler.service import Service
from tests.conftest import SEEDS, CliRunner
from tests.fakes import RecordingChannel
from tests.test_publish import LONG_AGO, Clock, Sleeps

SEOUL = dt.timezone(dt.timedelta(hours=9))


def service(
    archive: Archive, tmp_path: Path, clock: Clock, **settings: object
) -> tuple[Service, RecordingChannel]:
    base = replace(
        Settings.from_env({}),
        site_dir=tmp_path / "site",
        inbox=tmp_path / "inbox",
        **{"data_dir": tmp_path, **settings},  # the tag model's features among the test's files
    )
    channel = RecordingChannel()
    publisher = Publisher(archive, base, {"telegram": channel}, worker="w", clock=clock, sleep=Sleeps())
    return Service(archive, base, publisher, clock=clock), channel


def first_start(archive: Archive, svc: Service, day: dt.date) -> None:
    from sqlalchemy import insert

    from bot.archive.schema import service_state

    with archive.engine.begin() as conn:
        conn.execute(insert(service_state).values(key="first_start", value=day.isoformat()))


def test_catch_up_publishes_each_missed_day_once_in_order(seeded: Archive, tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2024, 7, 12, 10, 0, tzinfo=SEOUL))
    svc, channel = service(seeded, tmp_path, clock)
    first_start(seeded, svc, dt.date(2024, 7, 9))
    store.add(seeded, "telegram:-1", now=LONG_AGO)
    reports = asyncio.run(svc.publish_due())
    assert [(r.day.isoformat(), r.source, r.papers) for r in reports] == [
        ("2024-07-09", "queue", 3),
        ("2024-07-10", "queue", 2),
        ("2024-07-11", "digest", 6),
        ("2024-07-12", "nothing", 0),
    ]
    assert len(channel.sent) == 3
    again = asyncio.run(svc.publish_due())
    assert [r.day for r in again] == [dt.date(2024, 7, 12)]  # only the empty day is looked at again
    assert len(channel.sent) == 3


def test_before_the_publish_time_today_is_not_due_and_a_fresh_install_sends_no_back_issues(
    seeded: Archive, tmp_path: Path
) -> None:
    clock = Clock(dt.datetime(2024, 7, 11, 8, 59, tzinfo=SEOUL))
    svc, _ = service(seeded, tmp_path, clock)
    assert svc.first_start() == dt.date(2024, 7, 11)  # fresh: today
    assert svc.due_days() == []  # yesterday is before the first start; today's time has not come
    clock.now = dt.datetime(2024, 7, 11, 9, 0, tzinfo=SEOUL)
    assert svc.due_days() == [dt.date(2024, 7, 11)]


def test_the_catch_up_window_is_capped(seeded: Archive, tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2024, 7, 20, 12, 0, tzinfo=SEOUL))
    svc, _ = service(seeded, tmp_path, clock, catchup_days=2)
    first_start(seeded, svc, dt.date(2024, 1, 1))
    assert svc.due_days() == [dt.date(2024, 7, 19), dt.date(2024, 7, 20)]


def test_a_clock_jump_neither_repeats_nor_skips_a_day(seeded: Archive, tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2024, 7, 11, 9, 30, tzinfo=SEOUL))
    svc, channel = service(seeded, tmp_path, clock)
    first_start(seeded, svc, dt.date(2024, 7, 11))
    store.add(seeded, "telegram:-1", now=LONG_AGO)
    asyncio.run(svc.publish_due())
    clock.now -= dt.timedelta(hours=30)  # backwards: the 10th, already before the first start
    assert asyncio.run(svc.publish_due()) == [] and len(channel.sent) == 1
    clock.now += dt.timedelta(days=3, hours=6)  # forwards past three publish times
    days = [r.day.isoformat() for r in asyncio.run(svc.publish_due())]
    assert days == ["2024-07-12", "2024-07-13"]  # each once; the 11th is not sent again
    assert len(channel.sent) == 3


def test_a_post_dropped_in_the_inbox_after_the_publish_time_goes_out_at_once(
    archive: Archive, tmp_path: Path
) -> None:
    clock = Clock(dt.datetime(2024, 7, 11, 15, 0, tzinfo=SEOUL))
    svc, channel = service(archive, tmp_path, clock)
    first_start(archive, svc, dt.date(2024, 7, 11))
    store.add(archive, "telegram:-1", now=LONG_AGO)
    assert [r.source for r in asyncio.run(svc.publish_due())] == ["nothing"]
    (tmp_path / "inbox").mkdir()
    shutil.copy(SEEDS / "daily-2024-07-11.txt", tmp_path / "inbox" / "today.txt")
    asyncio.run(svc._scan())
    assert len(channel.sent) == 1 and channel.sent[0][1][0].startswith("PaliGemma")
    assert svc.inbox.scan() == []  # unchanged files are not read again


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_serves_the_archive_and_feeds_with_304s(seeded: Archive, tmp_path: Path) -> None:
    clock = Clock(dt.datetime(2024, 7, 11, 9, 30, tzinfo=SEOUL))
    svc, _ = service(seeded, tmp_path, clock, port=free_port())

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(svc.run(stop))
        base = f"http://127.0.0.1:{svc.settings.port}"
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/feed.xml") as first:
                        if first.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            assert first.status == 200 and first.headers["Content-Type"].startswith("application/rss+xml")
            etag = first.headers["ETag"]
            async with http.get(f"{base}/feed.xml", headers={"If-None-Match": etag}) as again:
                assert again.status == 304
            async with http.get(f"{base}/") as index, http.get(f"{base}/../../etc/passwd") as escape:
                assert index.status == 200 and "Every day" in await index.text()
                assert escape.status == 404
        stop.set()
        await running

    asyncio.run(scenario())


def test_run_with_an_unreachable_database_says_so(run_cli: CliRunner) -> None:
    result = run_cli("run", db="postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.code == 1 and "cannot open the database" in result.err and "Traceback" not in result.err


@pytest.mark.postgres
def test_only_one_process_holds_the_schedule(postgres_url: str, tmp_path: Path) -> None:
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_url)
    from bot.archive.store import open_archive

    one, two = open_archive(postgres_url), open_archive(postgres_url)
    clock = Clock(dt.datetime(2024, 7, 11, 9, 30, tzinfo=SEOUL))
    first, _ = service(one, tmp_path, clock)
    second, _ = service(two, tmp_path, clock)
    assert first.leads() and not second.leads()
    assert first._lock is not None
    first._lock.invalidate()  # the leader dies: its session, and so its lock, goes
    first._lock = None
    assert second.leads()
    second.resign()
    third, _ = service(one, tmp_path, clock)
    assert third.leads()  # a clean stop hands the schedule on too
    third.resign()
    one.close(), two.close()


def test_run_sweeps_expired_drafts(archive: Archive, tmp_path: Path) -> None:
    """A curator's draft left alone past its lifetime goes, while a fresh one stays."""
    from bot.desk import drafts

    clock = Clock(dt.datetime(2024, 7, 11, 9, 30, tzinfo=SEOUL))
    svc, _ = service(archive, tmp_path, clock)
    svc.sweep_every = 0.05
    old = drafts.create(archive, "telegram:42", "a.txt", "x", now=clock.now - drafts.LIFETIME)
    fresh = drafts.create(archive, "telegram:42", "b.txt", "x", now=clock.now)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(svc.run(stop, web=False))
        for _ in range(100):
            if drafts.count(archive) == 1:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await running

    asyncio.run(scenario())
    with pytest.raises(drafts.DraftGone):
        drafts.get(archive, old.id, now=clock.now - drafts.LIFETIME)  # deleted, not merely expired
    assert drafts.get(archive, fresh.id, now=clock.now).name == "b.txt"


def test_a_refresh_of_the_tag_model_updates_the_site(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """The site exported before the tag model had features shows no suggestion; the service's
    refresh computes them and then updates the site: SimVLG's page gets its related papers and
    #vision-language its suggested section, with no day published meanwhile."""
    from bot.channels.web.export import export_site
    from bot.config import DEFAULT_TEMPLATES
    from bot.render.environment import Templates

    clock = Clock(dt.datetime(2024, 7, 11, 9, 30, tzinfo=SEOUL))
    svc, channel = service(seeded_sqlite, tmp_path, clock, data_dir=tmp_path)
    first_start(seeded_sqlite, svc, dt.date(2030, 1, 1))  # nothing is due
    svc.suggest_every = 0.05
    site = tmp_path / "site"
    settings = svc.settings
    export_site(
        seeded_sqlite,
        Templates(DEFAULT_TEMPLATES),
        site,
        base_url=settings.base_url,
        site_url=settings.site_url,
        search_index=False,
    )
    simvlg = site / "papers" / "simvlg-simple-and-efficient-pretraining-1f39b1fe.html"
    assert "Related in the archive" not in simvlg.read_text()

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(svc.run(stop, web=False))
        for _ in range(600):
            if "Related in the archive" in simvlg.read_text():
                break
            await asyncio.sleep(0.1)
        stop.set()
        await running

    asyncio.run(scenario())
    assert "Related in the archive" in simvlg.read_text()
    assert "Suggested by the tag model" in (site / "tags" / "vision-language.html").read_text()
    assert channel.sent == []  # the site followed the model, not a publish
