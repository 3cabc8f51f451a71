"""The undated queue: papers waiting for a day. Publishing a day with no digest releases the
next few to that day; the release is recorded, so the day sends the same papers every time and
a re-ingest of their file does not send them back to the queue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select, update

from bot.archive.queries import queue
from bot.archive.schema import paper_tags, papers, releases
from bot.archive.store import Archive


def released(archive: Archive, day: dt.date) -> list[str]:
    """The queued papers given to ``day``, in the order they were released."""
    with archive.engine.connect() as conn:
        return list(
            conn.scalars(
                select(releases.c.paper_id).where(releases.c.day == day).order_by(releases.c.position)
            )
        )


def release(archive: Archive, day: dt.date, count: int) -> list[str]:
    """Give ``day`` the next ``count`` queued papers (those it already has, if any)."""
    already = released(archive, day)
    if already or count <= 0:
        return already
    chosen = [paper.id for paper in queue(archive)[:count]]
    if not chosen:
        return []
    with archive.engine.begin() as conn:
        conn.execute(
            insert(releases), [{"paper_id": pid, "day": day, "position": n} for n, pid in enumerate(chosen)]
        )
        _date(conn, chosen, day)
    return chosen


def _date(conn: Connection, ids: list[str], day: dt.date) -> None:
    conn.execute(update(papers).where(papers.c.id.in_(ids), papers.c.date.is_(None)).values(date=day))
    conn.execute(
        update(paper_tags).where(paper_tags.c.paper_id.in_(ids), paper_tags.c.date.is_(None)).values(date=day)
    )
