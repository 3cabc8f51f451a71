"""Hugging Face upvote counts of archived papers, as its API last said them.

The archive's entries keep what each document said, a listing's upvotes as they were when it was
copied; a count read later from the API is a fact of another kind (what Hugging Face says now),
so it is kept beside them in ``refreshed_upvotes``, never written into an entry. Reading a paper
shows the highest of its entries' counts and the refreshed one (``merge.merge``): counts only
grow but for the odd withdrawn vote, and a document re-ingested with an older count does not
take a newer one back. A paper that leaves the archive takes its refreshed count with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from sqlalchemy import Connection, and_, select, union

from bot.archive._sql import insert_for
from bot.archive.schema import candidates, papers, refreshed_upvotes, sources
from bot.archive.store import Archive

CHUNK = 500  # ids per IN (...)
HF_FORMAT = "hf-daily"


def record(conn: Connection, counts: Mapping[str, int], day: dt.date | None, now: dt.datetime) -> int:
    """Store ``counts`` (archived paper id: upvotes, read from ``day``'s listing) in the caller's
    transaction; how many differ from what was stored (a first count included)."""
    if not counts:
        return 0
    before = refreshed(conn, list(counts))
    rows = [
        {"paper_id": paper_id, "upvotes": count, "day": day, "checked": now}
        for paper_id, count in sorted(counts.items())
    ]
    stmt = insert_for(conn, refreshed_upvotes)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[refreshed_upvotes.c.paper_id],
            set_={key: stmt.excluded[key] for key in ("upvotes", "day", "checked")},
        ),
        rows,
    )
    return sum(1 for paper_id, count in counts.items() if before.get(paper_id) != count)


def refreshed(conn: Connection, ids: Collection[str]) -> dict[str, int]:
    """The refreshed counts of these papers (those that have one)."""
    found: dict[str, int] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        stmt = select(refreshed_upvotes.c.paper_id, refreshed_upvotes.c.upvotes).where(
            refreshed_upvotes.c.paper_id.in_(ordered[start : start + CHUNK])
        )
        found.update({paper_id: count for paper_id, count in conn.execute(stmt)})
    return found


def marks(archive: Archive) -> dict[str, int]:
    """Every refreshed count: what the exported site compares with its record."""
    with archive.engine.connect() as conn:
        stmt = select(refreshed_upvotes.c.paper_id, refreshed_upvotes.c.upvotes)
        return {paper_id: count for paper_id, count in conn.execute(stmt)}


def listing_days(conn: Connection, first: dt.date, last: dt.date) -> list[dt.date]:
    """The Daily Papers listings from ``first`` to ``last`` that hold archived papers, oldest
    first: the days of Hugging Face listings ingested as text, and of candidates pulled from
    Hugging Face that the archive has since taken in (a post written from them)."""
    copied = select(sources.c.date.label("day")).where(
        sources.c.format == HF_FORMAT, sources.c.date.between(first, last), sources.c.superseded_by.is_(None)
    )
    pulled = (
        select(candidates.c.day.label("day"))
        .join(papers, papers.c.id == candidates.c.id)
        .where(and_(candidates.c.source == "hf", candidates.c.day.between(first, last)))
    )
    found = union(copied, pulled).subquery()
    return sorted(day for day in conn.scalars(select(found.c.day)) if day is not None)
