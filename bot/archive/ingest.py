"""Writing one document's digest into the archive, inside the caller's transaction.

A document replaces its own previous contribution: its entries are rewritten, and every paper
it mentions now or mentioned before is rebuilt from the entries that remain. So ingesting the
same files twice leaves the same archive, and an edited post corrects what it said.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable, Table, delete, insert, select

from bot.archive.merge import merge
from bot.archive.schema import entries, paper_tags, papers, sources
from bot.models import Digest, Paper

CHUNK = 500  # ids per IN (...) clause


@dataclass(frozen=True)
class IngestReport:
    source: str
    papers: int  # entries in the document
    new: int  # papers the archive did not have before
    removed: int  # papers dropped because their only entry left this document


def write_digest(conn: Connection, digest: Digest) -> IngestReport:
    name = digest.source
    old_ids = set(conn.scalars(select(entries.c.paper_id).where(entries.c.source == name)))
    conn.execute(delete(entries).where(entries.c.source == name))
    _upsert(conn, sources, [{"name": name, "format": digest.format, "date": digest.date}], ["name"])
    if digest.entries:
        conn.execute(
            insert(entries),
            [_entry_row(name, position, paper) for position, paper in enumerate(digest.entries)],
        )

    affected = old_ids | {paper.id for paper in digest.entries}
    shared = {
        paper_id
        for chunk in _chunks(affected)
        for paper_id in conn.scalars(
            select(entries.c.paper_id)
            .where(entries.c.paper_id.in_(chunk), entries.c.source != name)
            .distinct()
        )
    }
    # A paper only this document mentions is exactly its entry; others merge all appearances.
    merged = {paper.id: paper for paper in digest.entries if paper.id not in shared}
    merged.update(_merge_from_entries(conn, shared))
    gone = affected - merged.keys()
    existing = {
        paper_id
        for chunk in _chunks(merged)
        for paper_id in conn.scalars(select(papers.c.id).where(papers.c.id.in_(chunk)))
    }

    for chunk in _chunks(affected):
        conn.execute(delete(paper_tags).where(paper_tags.c.paper_id.in_(chunk)))
    for chunk in _chunks(gone):
        conn.execute(delete(papers).where(papers.c.id.in_(chunk)))
    if merged:
        _upsert(conn, papers, [_paper_row(paper) for paper in merged.values()], ["id"])
        tag_rows = [
            {"tag": tag, "paper_id": paper.id, "date": paper.date, "position": position}
            for paper in merged.values()
            for position, tag in enumerate(paper.tags)
        ]
        if tag_rows:
            conn.execute(insert(paper_tags), tag_rows)
    return IngestReport(name, len(digest.entries), len(merged.keys() - existing), len(gone))


def _merge_from_entries(conn: Connection, ids: set[str]) -> dict[str, Paper]:
    appearances: dict[str, list[Paper]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(entries, sources.c.date)
            .join(sources, sources.c.name == entries.c.source)
            .where(entries.c.paper_id.in_(chunk))
        )
        for row in rows:
            appearances.setdefault(row.paper_id, []).append(entry_to_paper(row._mapping))
    return {paper_id: merge(found) for paper_id, found in appearances.items()}


def entry_to_paper(row: Any) -> Paper:
    return Paper(
        id=row["paper_id"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"])),
        author_count=row["author_count"],
        abstract=row["abstract"],
        commentary=row["commentary"],
        tags=tuple(json.loads(row["tags"])),
        links=tuple(json.loads(row["links"])),
        published=row["published"],
        upvotes=row["upvotes"],
        source=row["source"],
        line=row["line"],
        date=row["date"],
    )


def _entry_row(source: str, position: int, paper: Paper) -> dict[str, Any]:
    return {
        "source": source,
        "position": position,
        "paper_id": paper.id,
        "line": paper.line,
        "title": paper.title,
        "authors": _json(paper.authors),
        "author_count": paper.author_count,
        "abstract": paper.abstract,
        "commentary": paper.commentary,
        "tags": _json(paper.tags),
        "links": _json(paper.links),
        "published": paper.published,
        "upvotes": paper.upvotes,
    }


def _paper_row(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "authors": _json(paper.authors),
        "author_count": paper.author_count,
        "abstract": paper.abstract,
        "commentary": paper.commentary,
        "links": _json(paper.links),
        "published": paper.published,
        "upvotes": paper.upvotes,
        "date": paper.date,
        "source": paper.source,
        "line": paper.line,
    }


def _json(values: Sequence[str]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], key: list[str]) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE, in the dialect's own spelling."""
    # Imported here: the PostgreSQL dialect costs ~0.1 s of start-up that SQLite lookups skip.
    columns = [column for column in rows[0] if column not in key]
    stmt: Executable
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table)
        stmt = pg.on_conflict_do_update(index_elements=key, set_={c: pg.excluded[c] for c in columns})
    else:
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table)
        stmt = lite.on_conflict_do_update(index_elements=key, set_={c: lite.excluded[c] for c in columns})
    conn.execute(stmt, rows)


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
