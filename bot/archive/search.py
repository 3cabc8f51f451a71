"""Full-text search over title, authors, abstract and commentary, Korean included.

Korean attaches particles to the end of words (코드북을 is 코드북 + 을), so every term matches
as a prefix. SQLite uses its FTS5 index (unicode61 tokens, prefix queries, bm25 ranking, the
title weighed most) and falls back to a substring scan when the index finds nothing, so a term
in the middle of a word (토큰 in 이미지토큰) is still found. PostgreSQL matches substrings with
ILIKE over a pg_trgm GIN index. Every term must match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, case, literal_column, or_, select, text

from bot.archive.queries import load_papers
from bot.archive.schema import papers
from bot.archive.store import Archive
from bot.archive.text import clean_query_text, like_escape
from bot.errors import QueryError
from bot.models import Paper

MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
DEFAULT_LIMIT = 20
SEARCHED = (papers.c.title, papers.c.authors, papers.c.abstract, papers.c.commentary)
# Must stay the expression indexed by migration 0001 (ix_papers_search_trgm).
PG_DOCUMENT = "(title || ' ' || authors || ' ' || abstract || ' ' || commentary)"
FTS_QUERY = text(
    "SELECT p.id FROM papers_fts JOIN papers p ON p.pk = papers_fts.rowid"
    " WHERE papers_fts MATCH :match"
    " ORDER BY bm25(papers_fts, 10.0, 4.0, 1.0, 2.0), p.date DESC, p.id LIMIT :limit"
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
        if conn.dialect.name == "sqlite":
            ids = _sqlite_index(conn, terms, limit) or _substring(conn, terms, limit)
        else:
            ids = _substring(conn, terms, limit)
        found = load_papers(conn, ids)
    return SearchResult(clean_query_text(raw), tuple(terms), tuple(found))


def _sqlite_index(conn: Connection, terms: list[str], limit: int) -> list[str]:
    # Each term is a quoted FTS5 string (so no user text is read as query syntax) used as a prefix.
    match = " AND ".join('"' + term.replace('"', '""') + '"*' for term in terms)
    return list(conn.scalars(FTS_QUERY, {"match": match, "limit": limit}))


def _substring(conn: Connection, terms: list[str], limit: int) -> list[str]:
    patterns = [f"%{like_escape(term)}%" for term in terms]
    if conn.dialect.name == "postgresql":
        document: ColumnElement[str] = literal_column(PG_DOCUMENT)
        where: ColumnElement[bool] = and_(*(document.ilike(p, escape="\\") for p in patterns))
        in_title: ColumnElement[int] = sum(
            (case((papers.c.title.ilike(p, escape="\\"), 1), else_=0) for p in patterns),
            start=literal_column("0"),
        )
        order = [in_title.desc(), papers.c.date.desc().nulls_last(), papers.c.id]
    else:
        where = and_(*(or_(*(column.like(p, escape="\\") for column in SEARCHED)) for p in patterns))
        order = [papers.c.date.desc().nulls_last(), papers.c.id]
    return list(conn.scalars(select(papers.c.id).where(where).order_by(*order).limit(limit)))
