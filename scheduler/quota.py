"""A sending cap that holds across restarts and workers: at most ``count`` deliveries of a kind in
any window of ``seconds``, counted in the ledger (PAPERBOY_SMTP_WINDOW for email).

The limiters of ``scheduler.limits`` keep their windows in memory, which is right for a second
or a minute, and wrong for "2,000 a day": a restart would forget the morning's sends, and each of
several workers would send its own 2,000. So the window is the ledger's: what it holds is every
delivery of the kind sent in the last ``seconds`` (``sent_at``, stamped after the server took the
message) plus every one claimed and not yet marked (under way, or sent and awaiting the batch that
marks it). A send counts from when it is over, as in ``scheduler.limits``; a claim reserves its
place, so a delivery is counted before it is sent, never after.

The check runs inside the transaction that claims: deliveries past the room left go back to
pending, and once the window is full the kind's due deliveries wait with ``not_before`` = when a
place opens for each (the oldest send leaving the window first), which survives a restart and is
what ``deliveries list`` shows. Neither is an attempt or an error. (A window full only of sends
still under way sets no times: the next claim, once they are marked, does.) Capped claims are
serialised (``serialise``), so two workers never both see the same room.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, case, func, or_, select, text, update

from bot.archive.schema import deliveries, subscriptions

#: The advisory lock capped claims take on PostgreSQL (any constant unused elsewhere).
QUOTA_LOCK = 7_262_110_906


@dataclass(frozen=True)
class Quota:
    kind: str
    count: int
    seconds: float

    def admit(self, conn: Connection, claimed: Sequence[int], now: dt.datetime) -> tuple[list[int], bool]:
        """Of the deliveries just ``claimed`` (in ``conn``'s transaction), those the window has
        room for; the rest of this kind go back to pending. Returns the ids kept, and whether the
        window is now full (nothing more of this kind may be claimed now)."""
        mine = self._of_kind(conn, claimed)
        if not mine:
            return list(claimed), False
        now = now.astimezone(dt.UTC)
        since = now - dt.timedelta(seconds=self.seconds)
        sent, under_way = self._used(conn, since)  # ``mine`` are under way
        room = max(0, self.count - sent - (under_way - len(mine)))
        back = mine[room:]
        if back:
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(back))
                .values(status="pending", claimed_by=None, claimed_at=None)
            )
        full = room <= len(mine)
        if full and sent:
            over = sent + under_way - len(back) - self.count  # > 0 if the cap was lowered
            self._wait(conn, since, max(0, over), now)
        drop = set(back)
        return [i for i in claimed if i not in drop], full

    def _of_kind(self, conn: Connection, ids: Sequence[int]) -> list[int]:
        if not ids:
            return []
        stmt = (
            select(deliveries.c.id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(deliveries.c.id.in_(list(ids)), subscriptions.c.kind == self.kind)
            .order_by(deliveries.c.day, deliveries.c.id)
        )
        return list(conn.scalars(stmt))

    def _used(self, conn: Connection, since: dt.datetime) -> tuple[int, int]:
        """Deliveries of this kind sent since ``since``, and those claimed and not yet marked.
        One statement, so one snapshot: a delivery another worker marks sent meanwhile counts
        once, not in neither count (PostgreSQL reads each statement at its own moment)."""
        sending = deliveries.c.status == "sending"
        stmt = (
            select(func.count(), func.coalesce(func.sum(case((sending, 1), else_=0)), 0))
            .select_from(deliveries.join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id))
            .where(subscriptions.c.kind == self.kind, or_(deliveries.c.sent_at > since, sending))
        )
        total, under_way = conn.execute(stmt).one()
        return int(total) - int(under_way), int(under_way)

    def _wait(self, conn: Connection, since: dt.datetime, over: int, now: dt.datetime) -> None:
        """The window is full: each due delivery of this kind waits for its place. The first
        waits for the oldest send to leave the window (after ``over`` sends, if the window holds
        more than its count), the next for the second oldest, and so on; then come the places of
        sends under way (they leave a window from now at the earliest), and past the window's
        count, a window after the delivery ``count`` places ahead. Each is the earliest it may
        go, never a promise: the claim counts again then."""
        due = conn.scalars(
            select(deliveries.c.id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(
                deliveries.c.status == "pending",
                or_(deliveries.c.not_before.is_(None), deliveries.c.not_before <= now),
                subscriptions.c.kind == self.kind,
                subscriptions.c.status == "active",
            )
            .order_by(deliveries.c.day, deliveries.c.id)
        ).all()
        if not due:
            return
        leaving = [
            _utc(when)
            for when in conn.scalars(
                select(deliveries.c.sent_at)
                .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                .where(deliveries.c.sent_at > since, subscriptions.c.kind == self.kind)
                .order_by(deliveries.c.sent_at)
                .offset(over)
                .limit(min(len(due), self.count))
            )
        ]
        period = dt.timedelta(seconds=self.seconds)
        times: list[dt.datetime] = []
        for n in range(len(due)):
            if n < len(leaving):
                times.append(leaving[n] + period)
            elif n < self.count:
                times.append(now + period)
            else:
                times.append(times[n - self.count] + period)
        conn.execute(
            update(deliveries)
            .where(deliveries.c.id == bindparam("delivery_id"))
            .values(not_before=bindparam("when")),
            [{"delivery_id": i, "when": when} for i, when in zip(due, times, strict=True)],
        )


def serialise(conn: Connection) -> None:
    """One capped claim at a time across workers, from counting the window to claiming within it.

    PostgreSQL: an advisory lock held until the transaction ends. SQLite: the write lock, taken
    now (BEGIN IMMEDIATE); Python's sqlite3 would begin only at the first INSERT/UPDATE/DELETE it
    recognises, and the claim's ``WITH ... UPDATE`` is not one, so it would run on its own."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUOTA_LOCK})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _utc(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)
