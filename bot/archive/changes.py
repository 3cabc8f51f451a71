"""What the archive holds, in marks small enough to keep and compare: how the exported site
(``bot/channels/web/update.py``) finds what changed since it was last written, without
reading the archive whole.

A document's entries are rewritten together whenever it changes (``ingest.write_digest``), and
entry keys only grow, so a source's mark (its date, its number of entries, its highest key)
changes whenever any of its entries does, and one grouped scan of an index tells which sources
changed. Only those sources' entries are then read, each reduced to a digest of what a reader
sees of it, so that an entry rewritten unchanged (a correction of another paper of the day)
is told apart from one that changed. Publishing from the queue changes ``releases`` instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.archive.schema import entries, paper_tags, releases, sources
from bot.archive.store import Archive

CHUNK = 500  # names or ids per IN (...)


@dataclass(frozen=True)
class SourceMark:
    """A document with entries: its digest day (None: the queue), how many, the highest key."""

    date: dt.date | None
    entries: int
    top: int


@dataclass(frozen=True)
class EntryMark:
    """One entry as far as readers can tell: its paper, a digest of its text, its tags."""

    paper_id: str
    digest: str
    tags: tuple[str, ...]


def source_marks(archive: Archive) -> dict[str, SourceMark]:
    """Every source that has entries, with its mark (sources emptied by a correction have none)."""
    stmt = (
        select(sources.c.name, sources.c.date, func.count(), func.max(entries.c.pk))
        .join(entries, entries.c.source == sources.c.name)
        .group_by(sources.c.name, sources.c.date)
    )
    with archive.engine.connect() as conn:
        return {name: SourceMark(day, count, top) for name, day, count, top in conn.execute(stmt)}


def entry_marks(archive: Archive, names: Collection[str] | None = None) -> dict[str, list[EntryMark]]:
    """The entries of the sources ``names`` (None: all), in each document's order."""
    columns = [
        entries.c.source,
        entries.c.paper_id,
        entries.c.line,
        entries.c.title,
        entries.c.authors,
        entries.c.author_count,
        entries.c.abstract,
        entries.c.commentary,
        entries.c.tags,
        entries.c.links,
        entries.c.published,
        entries.c.upvotes,
    ]
    found: dict[str, list[EntryMark]] = {}
    with archive.engine.connect() as conn:
        for chunk in _chunks(names):
            stmt = select(*columns).order_by(entries.c.source, entries.c.position)
            if chunk is not None:
                stmt = stmt.where(entries.c.source.in_(chunk))
            for row in conn.execute(stmt):
                fields = "".join(f"|{len(text)}:{text}" for text in map(str, row[1:]))
                digest = hashlib.blake2b(fields.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()
                mark = EntryMark(row.paper_id, digest, tuple(json.loads(row.tags)))
                found.setdefault(row.source, []).append(mark)
    return found


def release_marks(archive: Archive) -> dict[str, tuple[dt.date, int]]:
    """Each queued paper publishing gave a day: (that day, its place in the day)."""
    with archive.engine.connect() as conn:
        rows = conn.execute(select(releases.c.paper_id, releases.c.day, releases.c.position))
        return {paper_id: (day, position) for paper_id, day, position in rows}


def tags_of(archive: Archive, ids: Collection[str]) -> dict[str, set[str]]:
    """The merged tags of these papers as the archive keeps them (``paper_tags``)."""
    found: dict[str, set[str]] = {}
    with archive.engine.connect() as conn:
        for chunk in _chunks(ids):
            stmt = select(paper_tags.c.paper_id, paper_tags.c.tag).where(
                paper_tags.c.paper_id.in_(chunk or ())
            )
            for paper_id, tag in conn.execute(stmt):
                found.setdefault(paper_id, set()).add(tag)
    return found


def _chunks(items: Collection[str] | None) -> Iterator[list[str] | None]:
    if items is None:
        yield None
        return
    ordered = sorted(items)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]
