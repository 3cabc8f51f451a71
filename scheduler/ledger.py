"""The delivery ledger (the outbox): one row per (day, subscription), written before any send.

A delivery goes pending -> sending (claimed by one worker) -> sent, or back to pending with a
``not_before`` (retry later, or wait for email's sending window: ``scheduler.quota``), or
failed (kept with its error), or gone (the target left). A second publish of a day inserts
nothing (unique key). A worker claims only as many rows as it has free sending slots, so a crash
can leave at most that many in flight: the next process to send (``paperboy run``, ``publish``,
``deliveries retry``) gives rows still "sending" under a worker that is no longer alive back to
pending, and they are sent again. Alive means: on this host, its process still runs; elsewhere,
it renews its claims' lease (``LEASE``) as it sends.
On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers claim without overlap; on SQLite
the database's single writer does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, and_, bindparam, func, or_, select, update

from bot.archive._sql import insert_for
from bot.archive.schema import deliveries, subscriptions
from bot.archive.store import Archive
from bot.models import Subscription
from bot.subscriptions import subscription_from_row
from scheduler.quota import Quota, serialise

STATUSES = ("pending", "sending", "sent", "failed", "gone")
#: A claim whose worker has not renewed it for this long belongs to a worker that is gone (a lost
#: machine: nothing here can ask it). Live workers renew theirs several times within it.
LEASE = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Delivery:
    id: int
    day: dt.date
    subscription: Subscription
    status: str
    attempts: int
    last_error: str | None
    message_ids: tuple[str, ...]
    sent_at: dt.datetime | None
    #: The earliest it may go, while it waits (a platform's retry-after, the email window).
    not_before: dt.datetime | None = None


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Ledger:
    def __init__(self, archive: Archive, worker: str, clock: Any = utcnow) -> None:
        self.archive = archive
        self.worker = worker
        self.clock = clock

    def open(self, day: dt.date, targets: Sequence[Subscription]) -> int:
        """One pending delivery per subscription for ``day``; returns how many were new."""
        if not targets:
            return 0
        now = self.clock()
        rows = [
            {"day": day, "subscription_id": sub.id, "status": "pending", "attempts": 0, "created": now}
            for sub in targets
        ]
        with self.archive.engine.begin() as conn:
            before = conn.execute(select(func.count()).where(deliveries.c.day == day)).scalar_one()
            conn.execute(insert_for(conn, deliveries).on_conflict_do_nothing(), rows)
            after = conn.execute(select(func.count()).where(deliveries.c.day == day)).scalar_one()
        return int(after - before)

    def holders(self, day: dt.date, subscription_ids: Sequence[int]) -> set[int]:
        """Which of these subscriptions have a delivery of ``day`` (sent or on its way)."""
        if not subscription_ids:
            return set()
        stmt = select(deliveries.c.subscription_id).where(
            deliveries.c.day == day, deliveries.c.subscription_id.in_(list(subscription_ids))
        )
        with self.archive.engine.connect() as conn:
            return set(conn.scalars(stmt))

    def claim(self, kinds: Sequence[str], limit: int, quotas: Sequence[Quota] = ()) -> list[Delivery]:
        """Take up to ``limit`` due deliveries for these kinds; nobody else will send them.

        A kind with a ``Quota`` (email under PAPERBOY_SMTP_WINDOW) gets no more than its window
        has room for (``scheduler.quota``); once it is full, the claim goes on without it."""
        if limit <= 0 or not kinds:
            return []
        now = self.clock()
        kinds, ids = list(kinds), list[int]()
        with self.archive.engine.begin() as conn:
            capped = [quota for quota in quotas if quota.kind in kinds]
            if capped:
                serialise(conn)
            while kinds and len(ids) < limit:
                taken = self._claim_ids(conn, kinds, limit - len(ids), now)
                full: set[str] = set()
                for quota in capped:
                    taken, filled = quota.admit(conn, taken, now)
                    if filled:
                        full.add(quota.kind)
                ids += taken
                if not full & set(kinds):  # no window filled up: nothing due was left out
                    break
                kinds = [kind for kind in kinds if kind not in full]
        return self.get(sorted(ids))

    def _claim_ids(self, conn: Connection, kinds: Sequence[str], limit: int, now: dt.datetime) -> list[int]:
        # A CTE, computed once: as a subquery in IN (...), PostgreSQL may re-run a LIMIT ...
        # SKIP LOCKED query for each row, each run skipping the rows the last one locked, so one
        # claim could take far more than ``limit`` rows.
        due = (
            select(deliveries.c.id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(
                deliveries.c.status == "pending",
                or_(deliveries.c.not_before.is_(None), deliveries.c.not_before <= now),
                subscriptions.c.kind.in_(kinds),
                subscriptions.c.status == "active",
            )
            .order_by(deliveries.c.day, deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=deliveries)
            .cte("due")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        return sorted(
            conn.scalars(
                update(deliveries)
                .where(deliveries.c.id == due.c.id, deliveries.c.status == "pending")
                .values(status="sending", claimed_by=self.worker, claimed_at=now)
                .returning(deliveries.c.id)
            )
        )

    def sent(self, delivery_id: int, message_ids: Sequence[str]) -> None:
        self._set(
            delivery_id,
            status="sent",
            message_ids=json.dumps(list(message_ids)),
            sent_at=self.clock(),
            last_error=None,
            attempts=deliveries.c.attempts + 1,
        )

    def sent_many(self, outcomes: Sequence[tuple[int, Sequence[str], int]]) -> None:
        """Mark several deliveries sent in one transaction: (id, message ids, the correction of
        the day their messages show)."""
        now = self.clock()
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == bindparam("delivery_id"))
            .values(
                status="sent",
                message_ids=bindparam("ids"),
                sent_at=now,
                last_error=None,
                claimed_by=None,
                attempts=deliveries.c.attempts + 1,
                version=bindparam("version"),
            )
        )
        rows = [{"delivery_id": i, "ids": json.dumps(list(ids)), "version": v} for i, ids, v in outcomes]
        with self.archive.engine.begin() as conn:
            conn.execute(stmt, rows)

    def retry_at(self, delivery_id: int, when: dt.datetime, error: str) -> None:
        self._set(
            delivery_id,
            status="pending",
            not_before=when,
            last_error=error,
            attempts=deliveries.c.attempts + 1,
        )

    def failed(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, status="failed", last_error=error, attempts=deliveries.c.attempts + 1)

    def gone(self, delivery_id: int, error: str) -> None:
        self._set(delivery_id, status="gone", last_error=error, attempts=deliveries.c.attempts + 1)

    def release(self, delivery_id: int) -> None:
        """Hand a claimed delivery back untouched (its channel is off, the process is stopping)."""
        self._set(delivery_id, status="pending")

    def renew(self) -> int:
        """Start the lease of this worker's claims again: it is alive, whatever host looks."""
        return renew_claims(self.archive, deliveries, self.worker, self.clock())

    def recover_dead(self, stale_after: dt.timedelta = LEASE) -> int:
        """Claims of dead workers go back to pending: on this host, a worker whose process is
        gone; anywhere, one that has not renewed its claims for ``stale_after``. A live worker's
        claims are never taken: its process runs here, or it renews them elsewhere."""
        return recover_claims(self.archive, deliveries, self.worker, self.clock() - stale_after)

    def retry_failed(self, day: dt.date | None = None, delivery_id: int | None = None) -> int:
        """Failed deliveries (of ``day``, or the one ``delivery_id``) become pending again; sent
        ones are left alone."""
        where = deliveries.c.status == "failed"
        if day is not None:
            where = and_(where, deliveries.c.day == day)
        if delivery_id is not None:
            where = and_(where, deliveries.c.id == delivery_id)
        with self.archive.engine.begin() as conn:
            result = conn.execute(update(deliveries).where(where).values(status="pending", not_before=None))
        return int(result.rowcount)

    def pending_count(self, kinds: Sequence[str] | None = None) -> int:
        stmt = (
            select(func.count())
            .select_from(deliveries.join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id))
            .where(deliveries.c.status.in_(("pending", "sending")), subscriptions.c.status == "active")
        )
        if kinds is not None:
            stmt = stmt.where(subscriptions.c.kind.in_(kinds))
        with self.archive.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def next_due(self, kinds: Sequence[str], after: dt.datetime | None = None) -> dt.datetime | None:
        """When the earliest deferred delivery may go (None: nothing is waiting on a clock)."""
        return self.scheduled(kinds, after)[1]

    def scheduled(
        self, kinds: Sequence[str] | None = None, after: dt.datetime | None = None
    ) -> tuple[int, dt.datetime | None]:
        """Pending deliveries that wait for a set time later than ``after`` (by default now): a
        retry-after, the email window to reopen. How many, and when the first may go."""
        stmt = (
            select(func.count(), func.min(deliveries.c.not_before))
            .select_from(deliveries.join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id))
            .where(
                deliveries.c.status == "pending",
                deliveries.c.not_before > (after or self.clock()),
                subscriptions.c.status == "active",
            )
        )
        if kinds is not None:
            stmt = stmt.where(subscriptions.c.kind.in_(kinds))
        with self.archive.engine.connect() as conn:
            count, when = conn.execute(stmt).one()
        return int(count), _aware(when) if when else None

    def get(self, ids: Sequence[int]) -> list[Delivery]:
        if not ids:
            return []
        with self.archive.engine.connect() as conn:
            rows = conn.execute(self._select().where(deliveries.c.id.in_(list(ids)))).all()
        found = {row.delivery_id: _delivery(row._mapping) for row in rows}
        return [found[i] for i in ids if i in found]

    def listing(self, *, status: str | None = None, day: dt.date | None = None) -> list[Delivery]:
        stmt = self._select().order_by(deliveries.c.day.desc(), deliveries.c.id)
        if status:
            stmt = stmt.where(deliveries.c.status == status)
        if day:
            stmt = stmt.where(deliveries.c.day == day)
        with self.archive.engine.connect() as conn:
            return [_delivery(row._mapping) for row in conn.execute(stmt)]

    def _select(self) -> Any:
        return select(
            deliveries.c.id.label("delivery_id"),
            deliveries.c.day,
            deliveries.c.status.label("delivery_status"),
            deliveries.c.attempts,
            deliveries.c.last_error.label("delivery_error"),
            deliveries.c.message_ids,
            deliveries.c.sent_at,
            deliveries.c.not_before,
            subscriptions,
        ).join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)

    def _set(self, delivery_id: int, **values: Any) -> None:
        values.setdefault("claimed_by", None)
        with self.archive.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == delivery_id).values(**values))


def renew_claims(archive: Archive, table: Table, worker: str, now: dt.datetime) -> int:
    """``worker``'s rows of ``table`` (a ledger: deliveries, edits) in "sending" start their lease
    again at ``now``."""
    with archive.engine.begin() as conn:
        result = conn.execute(
            update(table)
            .where(table.c.status == "sending", table.c.claimed_by == worker)
            .values(claimed_at=now)
        )
    return int(result.rowcount)


def recover_claims(archive: Archive, table: Table, worker: str, cutoff: dt.datetime) -> int:
    """Rows of ``table`` claimed by a dead worker go back to pending (what they recorded of their
    progress kept): on this host, a worker whose process is gone; anywhere, a claim not renewed
    since ``cutoff``. ``worker``'s own claims are never taken."""
    host = socket.gethostname()
    with archive.engine.connect() as conn:
        claims = conn.execute(
            select(table.c.id, table.c.claimed_by, table.c.claimed_at).where(table.c.status == "sending")
        ).all()
    dead = [
        row.id
        for row in claims
        if row.claimed_by != worker
        and (_dead_here(row.claimed_by or "", host) or _aware(row.claimed_at) <= cutoff)
    ]
    if dead:
        with archive.engine.begin() as conn:
            conn.execute(
                update(table)
                .where(table.c.id.in_(dead), table.c.status == "sending")
                .values(status="pending", claimed_by=None)
            )
    return len(dead)


def _dead_here(worker: str, host: str) -> bool:
    """Whether ``worker`` (host:pid) ran on this host and its process is gone."""
    name, _, pid = worker.rpartition(":")
    if name != host or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _delivery(row: Any) -> Delivery:
    sent_at, not_before = row["sent_at"], row["not_before"]
    return Delivery(
        id=row["delivery_id"],
        day=row["day"],
        subscription=subscription_from_row(row),
        status=row["delivery_status"],
        attempts=row["attempts"],
        last_error=row["delivery_error"],
        message_ids=tuple(json.loads(row["message_ids"])) if row["message_ids"] else (),
        sent_at=_aware(sent_at) if sent_at else None,
        not_before=_aware(not_before) if not_before else None,
    )
