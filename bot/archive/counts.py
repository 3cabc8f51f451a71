"""The ledger's deliveries counted by (day, channel, status), read from ``delivery_counts``
(kept by triggers as deliveries change: migration 0008) instead of counted from a million rows.

"Waiting" (pending with a time ahead: a platform's retry-after, the email window) depends on the
clock, so it is not kept: it is counted from the pending rows with a ``not_before`` after now,
a range of ``ix_deliveries_status``, and taken out of "pending".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, func, select, text

from bot.archive.schema import deliveries, delivery_counts, subscriptions

#: On PostgreSQL each statement that changes deliveries appends its deltas; past this many rows
#: for one key, a read folds them into one.
FOLD_AFTER = 32


def by_day(
    conn: Connection, days: Sequence[dt.date], now: dt.datetime
) -> dict[dt.date, dict[str, dict[str, int]]]:
    """day -> channel -> status -> count, for these days (zero counts left out)."""
    found: dict[dt.date, dict[str, dict[str, int]]] = {day: {} for day in days}
    if not days:
        return found
    stmt = (
        select(delivery_counts.c.day, delivery_counts.c.kind, delivery_counts.c.status)
        .add_columns(func.sum(delivery_counts.c.n), func.count())
        .where(delivery_counts.c.day.in_(list(days)))
        .group_by(delivery_counts.c.day, delivery_counts.c.kind, delivery_counts.c.status)
    )
    rows = conn.execute(stmt).all()
    for day, kind, status, n, _ in rows:
        if n:
            found[day].setdefault(kind, {})[status] = int(n)
    waiting = (
        select(deliveries.c.day, subscriptions.c.kind, func.count())
        .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
        .where(
            deliveries.c.status == "pending",
            deliveries.c.not_before > now,
            deliveries.c.day.in_(list(days)),
        )
        .group_by(deliveries.c.day, subscriptions.c.kind)
    )
    for day, kind, n in conn.execute(waiting):
        counts = found[day].setdefault(kind, {})
        counts["waiting"] = int(n)
        left = counts.get("pending", 0) - int(n)
        if left > 0:
            counts["pending"] = left
        else:
            counts.pop("pending", None)
    if conn.dialect.name == "postgresql" and any(rows_per_key > FOLD_AFTER for *_, rows_per_key in rows):
        fold(conn, days)
    return found


def fold(conn: Connection, days: Sequence[dt.date]) -> None:
    """Fold each key's delta rows into one (PostgreSQL). One statement: exactly the rows it
    deletes are summed back, and rows appended meanwhile by other transactions stay as they are.
    SQLite keeps one row per key already."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(
        text(
            """WITH gone AS (
                DELETE FROM delivery_counts WHERE day = ANY(:days) RETURNING day, kind, status, n)
            INSERT INTO delivery_counts (day, kind, status, n)
            SELECT day, kind, status, sum(n) FROM gone GROUP BY day, kind, status HAVING sum(n) <> 0"""
        ),
        {"days": list(days)},
    )
    conn.commit()
