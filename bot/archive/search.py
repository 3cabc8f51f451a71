"""Full-text search over title, authors, abstract and commentary, Korean included.

Every term must match. English words match by stem (images finds image); Korean attaches
particles to the end of words (코드북을 is 코드북 + 을), so a term with Hangul matches as a
prefix. On SQLite:

- the FTS5 index (porter over unicode61 tokens) answers, ranked by bm25, title weighed most. A
  common word can match most of the archive, and scoring every match is what made search
  slow, so only the newest ``CANDIDATES`` matches, plus the newest as many title matches, are
  ranked: a strong title hit is never lost to recency, and a query costs the same at any size;
- entries not yet indexed (an ingest indexes in bulk at its end) are matched by substring;
- when nothing matches and a term has Hangul, a substring scan of titles and commentary finds
  the term in the middle of a Korean compound (토큰 in 이미지토큰). English terms keep prefix
  semantics, so a typo does not cost a scan of the archive.

PostgreSQL matches substrings with ILIKE over a pg_trgm GIN index, title matches first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, ColumnElement, Connection, and_, case, literal_column, or_, select, text

from bot.archive.queries import load_papers
from bot.archive.schema import entries, papers, search_index
from bot.archive.store import Archive
from bot.archive.text import clean_query_text, has_hangul, like_escape, split_scripts
from bot.errors import QueryError
from bot.models import Paper

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
DEFAULT_LIMIT = 20
CANDIDATES = 1000
EVERY_FIELD = (entries.c.title, entries.c.authors, entries.c.abstract, entries.c.commentary)
KOREAN_FIELDS = (entries.c.title, entries.c.commentary)
# Must stay the expression indexed by migration 0001 (ix_entries_search_trgm).
PG_DOCUMENT = (
    "(entries.title || ' ' || entries.authors || ' ' || entries.abstract || ' ' || entries.commentary)"
)
# The newest matches with their bm25 scores (weights: title, authors, abstract, commentary).
NEWEST_MATCHES = text(
    "SELECT rowid, bm25(entries_fts, 10.0, 4.0, 1.0, 2.0) FROM entries_fts"
    " WHERE entries_fts MATCH :match ORDER BY rowid DESC LIMIT :candidates"
)


@dataclass(frozen=True)
class SearchResult:
    query: str
    terms: tuple[str, ...]
    papers: tuple[Paper, ...]


def parse_query(raw: str) -> list[str]:
    """The words to look for; a clear ``QueryError`` for input that cannot be a search."""
    query = clean_query_text(raw)
    if len(query) > MAX_QUERY_LENGTH:
        raise QueryError(f"the search is {len(query)} characters long; keep it under {MAX_QUERY_LENGTH}")
    terms = [term for term in query.split() if re.search(r"[^\W_]", term)]
    if not terms:
        raise QueryError("a search needs at least one word of letters or digits")
    if len(terms) > MAX_TERMS:
        raise QueryError(f"a search takes at most {MAX_TERMS} words, not {len(terms)}")
    return list(dict.fromkeys(terms))


def search(archive: Archive, raw: str, limit: int = DEFAULT_LIMIT) -> SearchResult:
    """Papers matching every word of ``raw``, best first."""
    terms = parse_query(raw)
    with archive.engine.connect() as conn:
        ids = _sqlite(conn, terms, limit) if conn.dialect.name == "sqlite" else _postgres(conn, terms, limit)
        found = load_papers(conn, ids)
    return SearchResult(clean_query_text(raw), tuple(terms), tuple(found))


def _sqlite(conn: Connection, terms: list[str], limit: int) -> list[str]:
    # Each term is a quoted FTS5 string, so no user text is read as query syntax. Prefix queries
    # cost a merge of every token they expand to: only Korean terms need one.
    match = " AND ".join(
        '"' + (split_scripts(term) or "").replace('"', '""') + ('"*' if has_hangul(term) else '"')
        for term in terms
    )
    scores = _scores(conn, match)
    if len(scores) == CANDIDATES:  # cut off: older title matches may rank higher than these
        scores.update(_scores(conn, f"{{title}} : ({match})"))
    ranked = _best(conn, scores, limit)
    indexed_upto = conn.execute(select(search_index.c.indexed_upto)).scalar_one()
    pending = _substring(conn, terms, EVERY_FIELD, limit, entries.c.pk > indexed_upto)
    ids = list(dict.fromkeys([*ranked, *pending]))[:limit]
    if not ids and any(has_hangul(term) for term in terms):
        ids = _substring(conn, sorted(terms, key=has_hangul, reverse=True), KOREAN_FIELDS, limit)
    return ids


def _scores(conn: Connection, match: str) -> dict[int, float]:
    rows = conn.execute(NEWEST_MATCHES, {"match": match, "candidates": CANDIDATES})
    return {rowid: score for rowid, score in rows}


def _best(conn: Connection, scores: dict[int, float], limit: int) -> list[str]:
    """Paper ids of the best-scoring entries; ties go to the newest paper."""
    # A paper written up twice can match twice: take extra entries, keep each paper once.
    top = sorted(scores, key=scores.__getitem__)[: 2 * limit]
    if not top:
        return []
    rows = conn.execute(
        select(entries.c.pk, entries.c.paper_id, papers.c.date)
        .join(papers, papers.c.id == entries.c.paper_id)
        .where(entries.c.pk.in_(top))
    )
    best = sorted(
        rows, key=lambda row: (scores[row.pk], -(row.date.toordinal() if row.date else 0), row.paper_id)
    )
    return list(dict.fromkeys(row.paper_id for row in best))


def _postgres(conn: Connection, terms: list[str], limit: int) -> list[str]:
    patterns = [f"%{like_escape(term)}%" for term in terms]
    document: ColumnElement[str] = literal_column(PG_DOCUMENT)
    in_title: ColumnElement[int] = sum(
        (case((entries.c.title.ilike(p, escape="\\"), 1), else_=0) for p in patterns),
        start=literal_column("0"),
    )
    stmt = (
        select(entries.c.paper_id)
        .join(papers, papers.c.id == entries.c.paper_id)
        .where(and_(*(document.ilike(p, escape="\\") for p in patterns)))
        .order_by(in_title.desc(), papers.c.date.desc().nulls_last(), papers.c.id)
        .limit(2 * limit)
    )
    return list(dict.fromkeys(conn.scalars(stmt)))[:limit]


def _substring(
    conn: Connection,
    terms: Sequence[str],
    fields: Sequence[Column[str]],
    limit: int,
    scope: ColumnElement[bool] | None = None,
) -> list[str]:
    """Papers with an entry holding every term somewhere in ``fields``, newest first."""
    each = [or_(*(field.like(f"%{like_escape(term)}%", escape="\\") for field in fields)) for term in terms]
    where = and_(scope, *each) if scope is not None else and_(*each)
    stmt = (
        select(entries.c.paper_id)
        .join(papers, papers.c.id == entries.c.paper_id)
        .where(where)
        .order_by(papers.c.date.desc().nulls_last(), papers.c.id)
        .limit(2 * limit)
    )
    return list(dict.fromkeys(conn.scalars(stmt)))[:limit]
