"""SQLite's deferred full-text index: searchable before, during and after catching up, and
consistent with the entries (FTS5's own integrity-check compares the index with its content)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.archive.parsers import Document, parse_document
from bot.archive.search import search
from bot.archive.store import Archive, open_archive


def post(name: str, title: str, abstract: str, comment: str = "코멘트") -> object:
    return parse_document(Document(name, f"2024년 1월 1일\n{title}\n(A B)\n{abstract}\n{comment}\n#x\n"))


def assert_index_consistent(archive: Archive) -> None:
    with archive.engine.begin() as conn:
        conn.execute(text("INSERT INTO entries_fts(entries_fts, rank) VALUES('integrity-check', 1)"))


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[Archive]:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        yield archive


def test_pending_entries_are_searchable_before_and_after_indexing(lite: Archive) -> None:
    lite.ingest(post("a.txt", "Quokka Networks", "We study quokkas."), index=False)
    lite.ingest(post("b.txt", "Wombat Transformers", "We study wombats."), index=False)
    assert [p.title for p in search(lite, "quokka").papers] == ["Quokka Networks"]
    assert lite.index_pending() == 2
    assert lite.index_pending() == 0
    assert [p.title for p in search(lite, "wombat").papers] == ["Wombat Transformers"]
    with lite.engine.connect() as conn:
        fts = conn.execute(
            text("SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'wombat*'")
        ).scalar()
    assert fts == 1  # answered by the index itself, not by the pending scan
    assert_index_consistent(lite)


def test_edits_and_removals_keep_the_index_exact(lite: Archive) -> None:
    lite.ingest(post("a.txt", "Quokka Networks", "Marsupial vision."))
    lite.ingest(post("b.txt", "Numbat Models", "Termite counting."), index=False)  # left pending
    # Re-ingest both with new abstracts (one indexed, one pending); then drop a paper entirely.
    lite.ingest(post("a.txt", "Quokka Networks", "Kangaroo vision."), index=False)
    lite.ingest(post("b.txt", "Numbat Models", "Ant counting."), index=False)
    assert search(lite, "Marsupial").papers == ()
    assert [p.title for p in search(lite, "Kangaroo").papers] == ["Quokka Networks"]
    lite.index_pending()
    assert search(lite, "Termite").papers == ()
    assert [p.title for p in search(lite, "Ant counting").papers] == ["Numbat Models"]
    assert_index_consistent(lite)
    lite.ingest(post("a.txt", "Echidna Study", "Spines."))  # Quokka leaves the archive
    assert search(lite, "Quokka").papers == ()
    assert_index_consistent(lite)


def test_the_integrity_check_does_catch_a_stale_index(lite: Archive) -> None:
    lite.ingest(post("a.txt", "Quokka Networks", "Marsupial vision."))
    with lite.engine.begin() as conn:  # change a paper behind the triggers' back
        conn.execute(text("DROP TRIGGER entries_fts_update"))
        conn.execute(text("UPDATE entries SET abstract = 'something else entirely'"))
    with pytest.raises(Exception, match=r"malformed|corrupt"):
        assert_index_consistent(lite)


def test_an_old_title_match_outranks_newer_body_matches_beyond_the_bound(
    lite: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.archive import search as search_module

    lite.ingest(post("old.txt", "Wombat Dynamics", "Marsupials burrow."))
    for n in range(6):
        lite.ingest(post(f"new{n}.txt", f"Study {n}", f"We mention a wombat once ({n})."))
    monkeypatch.setattr(search_module, "CANDIDATES", 3)  # the newest three body matches only
    assert search(lite, "wombat").papers[0].title == "Wombat Dynamics"


def test_a_connection_without_the_search_function_cannot_corrupt_the_index(lite: Archive) -> None:
    import sqlite3

    lite.ingest(post("a.txt", "Quokka Networks", "Marsupial vision.", "Latent를 봅니다."))
    path = lite.engine.url.database
    lite.close()
    raw = sqlite3.connect(str(path))
    with pytest.raises(sqlite3.OperationalError, match="paperboy_search_text"):
        raw.execute("DELETE FROM entries")
    raw.close()


def test_english_words_match_by_stem(lite: Archive) -> None:
    """SQLite stems English (PostgreSQL matches substrings instead: see bot/archive/search.py)."""
    lite.ingest(post("a.txt", "Scaling Codebooks", "Images and transformers."))
    for query in ("codebook", "image", "transformer", "scaled"):
        assert [p.title for p in search(lite, query).papers] == ["Scaling Codebooks"], query
