"""Writing one document's digest into the archive, inside the caller's transaction.

A document replaces its own previous contribution: its entries are rewritten, and every paper
it mentions now or mentioned before gets its first-featured date and merged tags recomputed
from the entries that remain. So ingesting the same files twice leaves the same archive (an
unchanged file is recognised by its checksum and writes nothing), and an edited post corrects
what it said.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, text, update

from bot.archive._sql import insert_for
from bot.archive.corrections import Correction
from bot.archive.merge import merge
from bot.archive.rows import Encoded, entry_row
from bot.archive.schema import entries, paper_tags, papers, releases, search_index, sources, tags
from bot.archive.suggestions import accepted_tags, drop_curated, with_accepted
from bot.models import Digest, Paper

CHUNK = 500  # ids per IN (...) clause


@dataclass(frozen=True)
class IngestReport:
    source: str
    papers: int  # entries in the document
    new: int  # papers the archive did not have before
    removed: int  # papers dropped because their only entry left this document
    unchanged: bool = False  # the archive already held exactly this document
    #: What the document corrected of a day that had gone out (``bot/archive/published.py``).
    correction: Correction | None = None


def write_digest(conn: Connection, digest: Digest, *, keep_checksum: bool = False) -> IngestReport:
    """Store ``digest`` in place of its document's earlier contribution. ``keep_checksum``: the
    document's row keeps its old checksum (a post another one superseded: emptied, but its file
    read again is still recognised as unchanged)."""
    name = digest.source
    encoded = Encoded()
    rows = [entry_row(name, position, paper, encoded) for position, paper in enumerate(digest.entries)]
    checksum = _checksum(digest, rows)
    stored = conn.execute(select(sources.c.checksum).where(sources.c.name == name)).scalar()
    if stored == checksum:
        return IngestReport(name, len(rows), new=0, removed=0, unchanged=True)

    old_ids = set(conn.scalars(select(entries.c.paper_id).where(entries.c.source == name)))
    conn.execute(delete(entries).where(entries.c.source == name))
    source = {"name": name, "format": digest.format, "date": digest.date, "checksum": checksum}
    if keep_checksum and stored is not None:
        source["checksum"] = stored
    else:
        source["superseded_by"] = None  # a superseded post sent anew speaks for its day again
    _upsert(conn, sources, [source], ["name"])
    if rows:
        conn.execute(insert(entries), rows)

    # A paper's date and tags merge all its appearances; most papers have just this one.
    affected = old_ids | {paper.id for paper in digest.entries}
    elsewhere = _appearances_elsewhere(conn, affected, name)
    merged = {paper.id: merge([paper, *elsewhere.get(paper.id, ())]) for paper in digest.entries}
    for paper_id, found in elsewhere.items():
        merged.setdefault(paper_id, merge(found))
    # A queued paper that publishing gave a day keeps it (bot/archive/queue.py).
    for paper_id, day in _release_days(conn, sorted(merged)).items():
        current = merged[paper_id].date
        merged[paper_id] = replace(merged[paper_id], date=min(current, day) if current else day)
    gone = affected - merged.keys()
    existing = {
        paper_id
        for chunk in _chunks(merged)
        for paper_id in conn.scalars(select(papers.c.id).where(papers.c.id.in_(chunk)))
    }

    counts: Counter[str] = Counter()
    for chunk in _chunks(affected):
        old_tags = paper_tags.c.paper_id.in_(chunk)
        counts.subtract(conn.scalars(select(paper_tags.c.tag).where(old_tags)))
        conn.execute(delete(paper_tags).where(old_tags))
    for chunk in _chunks(gone):
        conn.execute(delete(papers).where(papers.c.id.in_(chunk)))
    if merged:
        _upsert(conn, papers, [{"id": p.id, "date": p.date} for p in merged.values()], ["id"])
        # The suggestions the curator accepted are the curator's tags too (bot/archive/suggestions.py).
        accepted = accepted_tags(conn, merged.keys())
        tag_rows: list[dict[str, Any]] = [
            {"tag": tag, "paper_id": paper.id, "date": paper.date, "position": position}
            for paper in merged.values()
            for position, tag in enumerate(with_accepted(paper.tags, accepted.get(paper.id)))
        ]
        if tag_rows:
            conn.execute(insert(paper_tags), tag_rows)
            counts.update(row["tag"] for row in tag_rows)
            drop_curated(conn, merged.keys())
    count_tags(conn, counts)
    return IngestReport(name, len(rows), len(merged.keys() - existing), len(gone))


def count_tags(conn: Connection, deltas: Counter[str]) -> None:
    """Apply per-tag changes in paper counts; a tag no paper carries any more disappears."""
    changed = [{"tag": tag, "papers": delta} for tag, delta in deltas.items() if delta]
    if not changed:
        return
    _upsert(conn, tags, changed, ["tag"], increment=True)
    conn.execute(delete(tags).where(tags.c.papers <= 0))


def index_pending(conn: Connection) -> int:
    """Add the entries above the watermark to SQLite's full-text index, in one statement.

    FTS5 writes a segment per transaction, so indexing file by file costs about four times as
    much as indexing a whole ingest at once. Until this runs, search scans the pending entries
    directly, so nothing is ever unsearchable. Returns the number of entries indexed.
    """
    if conn.dialect.name != "sqlite":
        return 0  # PostgreSQL's GIN index is maintained by the server
    # Writing first takes the write lock, so two processes catching up cannot overlap.
    conn.execute(update(search_index).values(indexed_upto=search_index.c.indexed_upto))
    done = conn.execute(select(search_index.c.indexed_upto)).scalar_one()
    top = conn.execute(select(entries.c.pk).order_by(entries.c.pk.desc()).limit(1)).scalar() or done
    if top <= done:
        return 0
    added = conn.execute(
        text(
            "INSERT INTO entries_fts(rowid, title, authors, abstract, commentary)"
            " SELECT pk, title, authors, abstract, commentary FROM entries_search"
            " WHERE pk > :done AND pk <= :top"
        ),
        {"done": done, "top": top},
    ).rowcount
    conn.execute(update(search_index).values(indexed_upto=top))
    return int(added)


def _release_days(conn: Connection, ids: list[str]) -> dict[str, dt.date]:
    found: dict[str, dt.date] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(select(releases.c.paper_id, releases.c.day).where(releases.c.paper_id.in_(chunk)))
        found.update({paper_id: day for paper_id, day in rows})
    return found


def _appearances_elsewhere(conn: Connection, ids: set[str], source: str) -> dict[str, list[Paper]]:
    """What other documents say of these papers: only the parts a merge of date and tags needs."""
    found: dict[str, list[Paper]] = {}
    for chunk in _chunks(ids):
        rows = conn.execute(
            select(entries.c.paper_id, entries.c.tags, entries.c.source, entries.c.line, sources.c.date)
            .join(sources, sources.c.name == entries.c.source)
            .where(entries.c.paper_id.in_(chunk), entries.c.source != source)
        )
        for paper_id, tag_list, name, line, day in rows:
            paper = Paper(
                id=paper_id, title="", tags=tuple(json.loads(tag_list)), source=name, line=line, date=day
            )
            found.setdefault(paper_id, []).append(paper)
    return found


def _checksum(digest: Digest, rows: list[dict[str, Any]]) -> str:
    """A hash of everything the document contributes. Length-prefixed fields: no text can
    shift a boundary; hashing the strings directly costs a third of hashing a JSON dump."""
    digest_hash = hashlib.sha256(f"{digest.format}|{digest.date}".encode())
    for row in rows:
        fields = [str(value) for value in row.values()]
        digest_hash.update("".join(f"|{len(field)}:{field}" for field in fields).encode())
    return digest_hash.hexdigest()


def _upsert(
    conn: Connection, table: Table, rows: list[dict[str, Any]], key: list[str], *, increment: bool = False
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE, in the dialect's own spelling; ``increment``
    adds the new values to the stored ones instead of replacing them."""
    stmt = insert_for(conn, table)
    values = {
        column: table.c[column] + stmt.excluded[column] if increment else stmt.excluded[column]
        for column in rows[0]
        if column not in key
    }
    conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=values), rows)


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    items = sorted(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
