"""The store on SQLite and PostgreSQL: idempotent, all-or-nothing, and lossless across sources."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.archive import ingest as ingest_module
from bot.archive import queries, search
from bot.archive.parsers import Document, parse_document
from bot.archive.schema import entries, metadata, paper_tags, papers, sources
from bot.archive.store import Archive, open_archive
from bot.models import Digest, Paper
from tests.conftest import SEED_FILES, ingest_seeds

MARS_ID = "mars-mixture-of-auto-regressive-models-dbf751e1"


def snapshot(archive: Archive) -> dict[str, Any]:
    """Every table's rows, in a stable order: two equal snapshots are the same archive.

    Surrogate keys (entries.pk) follow insertion order and the search watermark is bookkeeping:
    both are left out; all a reader sees is in.
    """
    with archive.engine.connect() as conn:
        tables = {
            table.name: sorted(
                tuple(map(repr, row)) for row in conn.execute(select(*(c for c in table.c if c.name != "pk")))
            )
            for table in metadata.sorted_tables
            if table.name != "search_index"
        }
    tables["search:모델"] = sorted(p.id for p in search.search(archive, "모델", limit=100).papers)
    return tables


def post(text: str, name: str = "extra.txt") -> Any:
    return parse_document(Document(name, text))


def test_seeds_fill_the_archive(seeded: Archive) -> None:
    assert queries.stats(seeded) == queries.Stats(papers=50, digests=4, tags=18, queued=5)
    with seeded.engine.connect() as conn:
        assert len(conn.execute(select(entries)).all()) == 50
        assert len(conn.execute(select(sources)).all()) == 5


def test_ingesting_twice_leaves_the_same_archive(seeded: Archive) -> None:
    before = snapshot(seeded)
    with seeded.engine.connect() as conn:
        keys = conn.scalars(select(entries.c.pk).order_by(entries.c.pk)).all()
    reports = [seeded.ingest(post_) for post_ in map(_parse, SEED_FILES)]
    assert [(r.new, r.removed, r.unchanged) for r in reports] == [(0, 0, True)] * 5
    assert snapshot(seeded) == before
    with seeded.engine.connect() as conn:  # unchanged files wrote nothing at all
        assert conn.scalars(select(entries.c.pk).order_by(entries.c.pk)).all() == keys


def test_a_document_that_parses_differently_is_rewritten(seeded: Archive) -> None:
    from bot.archive.parsers import ParseOptions, parse_file

    report = seeded.ingest(parse_file(SEED_FILES[4], ParseOptions(year=2030)))
    assert (report.unchanged, report.new, report.removed) == (False, 0, 0)
    assert queries.days(seeded)[0].date == dt.date(2030, 12, 11)


def test_ingest_order_and_engine_do_not_matter(db_url: str, tmp_path: Any) -> None:
    """Seeds ingested forwards on this engine equal seeds ingested backwards on SQLite."""
    with open_archive(db_url) as archive:
        ingest_seeds(archive)
        forwards = snapshot(archive)
    with open_archive(f"sqlite:///{tmp_path}/reverse.db") as archive:
        ingest_seeds(archive, list(reversed(SEED_FILES)))
        backwards = snapshot(archive)
    assert forwards == backwards


def test_an_edited_post_replaces_what_it_said(seeded: Archive) -> None:
    original = (SEED_FILES[3]).read_text()  # daily-2024-07-11.txt
    assert SEED_FILES[3].name == "daily-2024-07-11.txt"
    # Drop the last entry (4DiM) and retag MARS.
    edited = original.split("Controlling Space and Time")[0].replace(
        "#autoregressive-model #text2img #vq", "#autoregressive-model #vq #mars"
    )
    report = seeded.ingest(post(edited, "daily-2024-07-11.txt"))
    assert (report.papers, report.new, report.removed) == (5, 0, 1)
    assert queries.stats(seeded).papers == 49
    assert search.search(seeded, "4DiM").papers == ()
    assert [p.id for p in queries.papers_by_tag(seeded, "mars").papers] == [MARS_ID]
    assert queries.papers_by_tag(seeded, "text2img").total == 0
    assert queries.papers_by_tag(seeded, "neural-rendering").total == 0


def test_a_paper_in_two_sources_keeps_both(seeded: Archive) -> None:
    later = post(
        "2024년 8월 1일\n"
        "MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis\n"
        "(Wanggui He)\n"
        "A shorter abstract.\n"
        "다시 읽어보니 흥미롭네요.\n"
        "#revisit #vq\n"
    )
    seeded.ingest(later)
    mars = queries.find_paper(seeded, MARS_ID)
    assert mars.date == dt.date(2024, 7, 11)  # first featured
    assert mars.days == (dt.date(2024, 7, 11), dt.date(2024, 8, 1))
    assert mars.tags == ("autoregressive-model", "text2img", "vq", "revisit")
    assert mars.commentary.startswith("Autoregressive Text to Image 모델.")
    assert mars.commentary.endswith("다시 읽어보니 흥미롭네요.")
    assert mars.author_count == 13  # the earlier, complete list
    assert [p.id for p in search.search(seeded, "다시 읽어보니").papers] == [MARS_ID]
    assert [a.source for a in queries.appearances(seeded, MARS_ID)] == ["daily-2024-07-11.txt", "extra.txt"]
    assert {d.date: d.entries for d in queries.days(seeded)}[dt.date(2024, 8, 1)] == 1

    # The first post forgets MARS: the paper lives on from the second one alone.
    original = SEED_FILES[3].read_text()
    start = original.index("MARS: Mixture")
    end = original.index("Transformer Alignment")
    seeded.ingest(post(original[:start] + original[end:], "daily-2024-07-11.txt"))
    mars = queries.find_paper(seeded, MARS_ID)
    assert (mars.date, mars.tags, mars.author_count) == (dt.date(2024, 8, 1), ("revisit", "vq"), 1)
    assert mars.commentary == "다시 읽어보니 흥미롭네요."


def test_ingest_is_all_or_nothing(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    digest = _parse(SEED_FILES[2])  # nine papers
    calls = {"n": 0}
    real = ingest_module.merge

    def failing_merge(*args: Any) -> Any:  # called after the entries are written
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return real(*args)

    monkeypatch.setattr(ingest_module, "merge", failing_merge)
    with pytest.raises(RuntimeError, match="disk full"):
        archive.ingest(digest)
    with archive.engine.connect() as conn:
        for table in (sources, entries, papers, paper_tags):
            assert conn.execute(select(table)).all() == [], table.name


def _parse(path: Any) -> Any:
    from bot.archive.parsers import ParseOptions, parse_file
    from tests.conftest import TODAY

    return parse_file(path, ParseOptions(today=TODAY))


def counted_from_scratch(archive: Archive) -> dict[str, int]:
    with archive.engine.connect() as conn:
        rows = conn.execute(select(paper_tags.c.tag, func.count()).group_by(paper_tags.c.tag))
        return {tag: n for tag, n in rows}


def test_tag_counts_stay_exact_through_edits(seeded: Archive) -> None:
    def check() -> None:
        assert {tc.tag: tc.count for tc in queries.tag_counts(seeded)} == counted_from_scratch(seeded)

    check()
    original = SEED_FILES[3].read_text()  # daily-2024-07-11.txt
    seeded.ingest(post(original.replace("#vq", "#vq #new-tag"), SEED_FILES[3].name))
    check()
    assert queries.papers_by_tag(seeded, "new-tag").total == 1
    seeded.ingest(post(original.split("MARS: Mixture")[0], SEED_FILES[3].name))  # drop four papers
    check()
    assert queries.papers_by_tag(seeded, "new-tag").total == 0
    assert "text2img" not in {tc.tag for tc in queries.tag_counts(seeded)}
    again = "2024년 8월 1일\nPaliGemma: A versatile 3B VLM for transfer\n(A)\nabs\n또 봅니다.\n"
    seeded.ingest(post(again + "#vision-language #vq\n"))
    check()
    assert queries.papers_by_tag(seeded, "vision-language").total == 4  # PaliGemma still counts once


def test_text_no_database_accepts_is_scrubbed_not_refused(archive: Archive) -> None:
    paper = Paper(
        id="odd", title="NUL\x00 and a lone \ud800 surrogate", abstract="a\x00b", date=dt.date(2024, 1, 1)
    )
    archive.ingest(Digest(dt.date(2024, 1, 1), "odd.txt", "daily-post", (paper,)))
    stored = queries.find_paper(archive, "odd")
    assert (stored.title, stored.abstract) == ("NUL and a lone \ufffd surrogate", "ab")
