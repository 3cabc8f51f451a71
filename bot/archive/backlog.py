"""What the delivery ledger still holds, for the service's metrics: cheap on a ledger of millions,
because it reads only the index entries of the rows not yet done (``ix_deliveries_status``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bot.archive.schema import deliveries, publications
from bot.archive.store import Archive

#: The ledger's states a delivery can wait in: due now, due later (a retry, an email window),
#: claimed by a worker sending it, failed for good (until an operator retries it).
BACKLOG = ("pending", "waiting", "sending", "failed")


def backlog(archive: Archive, now: dt.datetime) -> dict[str, int]:
    """How many deliveries are in each of ``BACKLOG``'s states (0 where none).

    Two reads of the index: the unfinished rows counted by status in its order (no sort), and
    the pending ones due later as one range of it (status, not_before)."""
    d = deliveries.c
    by_status = (
        select(d.status, func.count())
        .where(d.status.in_(("pending", "sending", "failed")))
        .group_by(d.status)
    )
    later = select(func.count()).where(d.status == "pending", d.not_before > now)
    counts = dict.fromkeys(BACKLOG, 0)
    with archive.engine.connect() as conn:
        for status, count in conn.execute(by_status):
            counts[str(status)] = int(count)
        counts["waiting"] = int(conn.execute(later).scalar_one())
    counts["pending"] -= counts["waiting"]
    return counts


def last_publish(archive: Archive) -> dt.datetime | None:
    """When the latest day was first published (``publications.created``), in UTC."""
    with archive.engine.connect() as conn:
        latest: dt.datetime | None = conn.execute(select(func.max(publications.c.created))).scalar()
    if latest is None:
        return None
    return latest if latest.tzinfo else latest.replace(tzinfo=dt.UTC)
