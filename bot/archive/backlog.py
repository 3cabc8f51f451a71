"""What the delivery ledger still holds, for the service's metrics: one grouped query, cheap on
a ledger of millions because it reads only the rows not yet done (``ix_deliveries_status``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, select

from bot.archive.schema import deliveries, publications
from bot.archive.store import Archive

#: The ledger's states a delivery can wait in: due now, due later (a retry, an email window),
#: claimed by a worker sending it, failed for good (until an operator retries it).
BACKLOG = ("pending", "waiting", "sending", "failed")


def backlog(archive: Archive, now: dt.datetime) -> dict[str, int]:
    """How many deliveries are in each of ``BACKLOG``'s states (0 where none)."""
    d = deliveries.c
    later = and_(d.not_before.is_not(None), d.not_before > now).label("later")
    query = (
        select(d.status, later, func.count())
        .where(d.status.in_(("pending", "sending", "failed")))
        .group_by(d.status, later)
    )
    counts = dict.fromkeys(BACKLOG, 0)
    with archive.engine.connect() as conn:
        for status, is_later, count in conn.execute(query):
            key = "waiting" if status == "pending" and is_later else str(status)
            counts[key] += int(count)
    return counts


def last_publish(archive: Archive) -> dt.datetime | None:
    """When the latest day was first published (``publications.created``), in UTC."""
    with archive.engine.connect() as conn:
        latest: dt.datetime | None = conn.execute(select(func.max(publications.c.created))).scalar()
    if latest is None:
        return None
    return latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
