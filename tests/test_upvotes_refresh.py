"""Hugging Face upvotes of archived papers, refreshed by the service once a day: which listings
are read, where the counts are kept (beside the entries, never in them), what a reader sees
(the highest), and an exported site that follows them byte for byte as an export would."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.archive import queries, upvotes
from bot.archive.parsers import ParseOptions, parse_document, text_document
from bot.archive.schema import entries, service_state
from bot.archive.store import Archive
from bot.config import Settings
from bot.pull import pull_hf
from bot.pull.upvotes import refresh_upvotes
from bot.suggest.refresh import refresh
from scheduler.service import UPVOTES_REFRESHED
from tests.conftest import SEEDS, CliRunner, ingest_seeds
from tests.hf_standin import DAY, HfStandIn, fixture, paper
from tests.test_publish import Clock
from tests.test_service import SEOUL, service
from tests.test_web_update import SITE_URL, assert_same_as_an_export, export, features_of

YI = "yi-open-foundation-models-by-01-ai-aa283d2b"
TRANSNORMER = "scaling-transnormer-to-175-billion-1a2b4ecd"
LATER = "2025-12-20"


@pytest.fixture
def hf() -> Iterator[HfStandIn]:
    later = [paper("2512.07777", "A Paper Pulled Later", 5)]
    with HfStandIn({DAY: fixture(), LATER: later, "2025-10-01": fixture()}) as stand_in:
        yield stand_in


def settings_for(hf: HfStandIn, **changes: object) -> Settings:
    return replace(Settings.from_env({}), hf_api_url=hf.base_url, **changes)


def counts(archive: Archive) -> dict[str, int]:
    return upvotes.marks(archive)


def post_from_pull(archive: Archive, settings: Settings) -> None:
    """The curator pulls the later listing and posts its paper (its own day, its arXiv link)."""
    pull_hf(archive, settings, dt.date.fromisoformat(LATER))
    text = "2025년 12월 21일\nA Paper Pulled Later\n(Ada)\nAn abstract.\nhttps://arxiv.org/abs/2512.07777\n좋네요.\n#llm\n"
    archive.ingest(parse_document(text_document(text, "post.txt"), ParseOptions()))


def test_the_listings_of_archived_papers_in_the_window_are_read_once_each(
    archive: Archive, hf: HfStandIn
) -> None:
    ingest_seeds(archive)  # the seeds' Hugging Face listing of 2025-12-11, ids from titles
    settings = settings_for(hf)
    post_from_pull(archive, settings)
    hf.requests.clear()
    report = refresh_upvotes(archive, settings, dt.date(2025, 12, 25))
    assert report.days == (dt.date(2025, 12, 11), dt.date(2025, 12, 20))
    assert [r.query for r in hf.requests] == [{"date": DAY}, {"date": LATER}]  # not 2025-10-01
    assert (report.papers, report.changed) == (3, 3)
    assert counts(archive) == {YI: 48, TRANSNORMER: 17, "arxiv-2512.07777": 5}
    with archive.engine.connect() as conn:  # the documents still say what they said
        assert conn.scalars(select(entries.c.upvotes).where(entries.c.paper_id == YI)).all() == [3]

    assert refresh_upvotes(archive, settings, dt.date(2025, 12, 25)).changed == 0
    near = refresh_upvotes(archive, settings_for(hf, hf_refresh_days=10), dt.date(2025, 12, 25))
    assert near.days == (dt.date(2025, 12, 20),)
    hf.requests.clear()
    assert refresh_upvotes(archive, settings_for(hf, hf_refresh_days=0), dt.date(2025, 12, 25)).days == ()
    assert hf.requests == []


def test_a_reader_sees_the_highest_count_a_document_or_the_refresh_gave(seeded: Archive) -> None:
    now = dt.datetime(2025, 12, 25, tzinfo=dt.UTC)

    def shown() -> int | None:
        return queries.find_paper(seeded, YI).upvotes

    assert shown() == 3  # the seeds' listing
    with seeded.engine.begin() as conn:
        assert upvotes.record(conn, {YI: 2}, None, now) == 1
    assert shown() == 3  # a lower refreshed count does not take the document's back
    with seeded.engine.begin() as conn:
        assert upvotes.record(conn, {YI: 48}, None, now) == 1
        assert upvotes.record(conn, {YI: 48}, None, now) == 0
    assert shown() == 48
    assert [p.upvotes for p in queries.digest_papers(seeded, dt.date(2025, 12, 11)) if p.id == YI] == [48]


def test_the_service_refreshes_once_a_day_and_its_site_follows(
    seeded: Archive, hf: HfStandIn, tmp_path: Path
) -> None:
    clock = Clock(dt.datetime(2025, 12, 20, 10, 0, tzinfo=SEOUL))
    svc, _ = service(seeded, tmp_path, clock, hf_api_url=hf.base_url, base_url=SITE_URL)
    # The tag model's features first: the service's own first refresh would otherwise build them
    # meanwhile, and the site follow them in a thread that outlives the stop this test gives.
    refresh(seeded, features_of(seeded, tmp_path))
    export(seeded, svc.settings.site_dir)
    page = svc.settings.site_dir / "papers" / f"{YI}.html"
    assert "▲ 3 on Hugging Face" in page.read_text()

    async def run_until_refreshed() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(svc.run(stop, web=False))
        for _ in range(200):
            if svc._state(UPVOTES_REFRESHED) == "2025-12-20":
                break
            await asyncio.sleep(0.05)
        stop.set()
        await running

    asyncio.run(run_until_refreshed())
    assert counts(seeded) == {YI: 48, TRANSNORMER: 17}
    assert "▲ 48 on Hugging Face" in page.read_text()
    assert_same_as_an_export(seeded, svc.settings.site_dir, tmp_path / "fresh")

    hf.requests.clear()
    asyncio.run(svc._refresh_upvotes())  # the same day: nothing is asked
    assert hf.requests == []
    clock.now += dt.timedelta(days=1)
    asyncio.run(svc._refresh_upvotes())
    svc.resign()  # on PostgreSQL, looking ahead took the schedule's lock
    assert [r.query for r in hf.requests] == [{"date": DAY}]


def test_a_source_that_fails_is_tried_again_at_the_next_look(
    seeded: Archive, hf: HfStandIn, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock(dt.datetime(2025, 12, 20, 10, 0, tzinfo=SEOUL))
    svc, _ = service(seeded, tmp_path, clock, hf_api_url=hf.base_url)
    hf.answer(b"<!DOCTYPE html><title>Maintenance</title>", "text/html", status=200)
    with caplog.at_level(logging.WARNING, logger="paperboy.service"):
        asyncio.run(svc._refresh_upvotes())
    assert counts(seeded) == {}
    assert svc._state(UPVOTES_REFRESHED) is None
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith(f"upvotes not refreshed: Hugging Face ({hf.base_url}) answered an HTML page")
    asyncio.run(svc._refresh_upvotes())
    svc.resign()
    assert counts(seeded) == {YI: 48, TRANSNORMER: 17}
    with seeded.engine.connect() as conn:
        stored = conn.execute(select(service_state.c.value).where(service_state.c.key == UPVOTES_REFRESHED))
        assert stored.scalar() == "2025-12-20"


@pytest.mark.postgres
def test_only_the_schedules_owner_refreshes(postgres_url: str, hf: HfStandIn, tmp_path: Path) -> None:
    from bot.archive.store import open_archive
    from tests.conftest import _reset_postgres

    _reset_postgres(postgres_url)
    with open_archive(postgres_url) as one, open_archive(postgres_url) as two:
        ingest_seeds(one)
        clock = Clock(dt.datetime(2025, 12, 20, 10, 0, tzinfo=SEOUL))
        leader, _ = service(one, tmp_path, clock, hf_api_url=hf.base_url)
        other, _ = service(two, tmp_path, clock, hf_api_url=hf.base_url)
        assert leader.leads()
        asyncio.run(other._refresh_upvotes())
        assert hf.requests == [] and counts(one) == {}
        asyncio.run(leader._refresh_upvotes())
        assert len(hf.requests) == 1 and counts(one) == {YI: 48, TRANSNORMER: 17}
        leader.resign()


def test_a_pull_that_refreshes_upvotes_updates_an_exported_site(
    run_cli: CliRunner, monkeypatch: pytest.MonkeyPatch, hf: HfStandIn, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    monkeypatch.setenv("PAPERBOY_HF_API_URL", hf.base_url)
    monkeypatch.setenv("PAPERBOY_SITE_DIR", str(site))
    assert run_cli("ingest", str(SEEDS / "hf-daily-papers-dec-11.txt")).code == 0
    assert run_cli("export-site", str(site)).code == 0
    page = site / "papers" / f"{YI}.html"
    assert "▲ 3 on Hugging Face" in page.read_text()
    pulled = run_cli("pull", "hf", DAY)
    assert pulled.code == 0, pulled.err
    assert "(their upvotes refreshed, 2 changed)" in pulled.out
    assert "▲ 48 on Hugging Face" in page.read_text()
