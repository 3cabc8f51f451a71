"""Corrections reaching what was sent: the ledger of edits, and the loop that makes them.

A correction of a day (``bot/archive/published.py``) leaves every chat message already sent for
that day showing the old text. For each delivery sent on an editable platform whose messages
show an older version of the day (``deliveries.version``), one ``edits`` row is opened for the
day's latest correction (a newer correction supersedes a pending older one). Working a row
compares the day as its messages show it with the day now, rendered for that subscriber, part by
part: a part that differs is edited in place, parts the corrected day adds are sent after the
last, parts it no longer needs are deleted (``Channel.edit_part``/``send_part``/``delete_part``).
Equal parts are never touched, so Telegram never sees an edit that changes nothing.

Rows are claimed as deliveries are (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), at most the
fan-out's capacity at once, through the same pacers, so edits keep the platform's limits. Each
step is recorded as it is done (``progress`` and the message ids as they stand), so a crash
repeats at most the step under way in each claimed row: no message is edited twice beyond that
bound. A message the platform refuses to edit (deleted, too old) is recorded and the other steps
go on; a chat that is gone retires its subscription. Email cannot be edited: ``open_email``
opens rows that send one short correction message each (``paperboy publish DATE
--email-correction``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from bot.archive._sql import insert_for
from bot.archive.schema import corrections, deliveries, edits, subscriptions
from bot.archive.store import Archive
from bot.models import Subscription
from bot.subscriptions import subscription_from_row
from scheduler.ledger import LEASE, recover_claims, renew_claims, utcnow

log = logging.getLogger("paperboy.edits")

#: The kinds whose messages a correction edits in place (email gets a message only on request).
EDITABLE = ("telegram", "discord", "discord-webhook")
STATUSES = ("pending", "sending", "done", "failed", "superseded")


@dataclass(frozen=True)
class EditJob:
    """One row of the edits ledger, with what working it needs."""

    id: int
    correction_id: int
    day: dt.date
    subscription: Subscription
    delivery_id: int
    #: The correction the delivery's messages show (0: the day as first published).
    version: int
    #: The delivery's message ids as sent, before this correction touched them.
    sent_ids: tuple[str, ...]
    progress: int
    #: The message ids as they stand mid-way (None until the first step).
    working_ids: tuple[str, ...] | None
    edited: int
    last_error: str | None
    attempts: int


class EditLedger:
    def __init__(self, archive: Archive, worker: str, clock: Any = utcnow) -> None:
        self.archive = archive
        self.worker = worker
        self.clock = clock

    # -- opening --------------------------------------------------------------------------------

    def open(self, kinds: Sequence[str] = EDITABLE) -> int:
        """A pending row for every sent delivery (of ``kinds``) whose messages show an older
        version of its day than the day's latest correction; pending rows of older corrections
        of those deliveries are superseded. Returns how many rows were opened."""
        with self.archive.engine.begin() as conn:
            latest = _latest_per_day()
            behind = (
                select(latest.c.latest, deliveries.c.id)
                .join(latest, latest.c.day == deliveries.c.day)
                .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                .where(
                    deliveries.c.status == "sent",
                    deliveries.c.version < latest.c.latest,
                    subscriptions.c.kind.in_(list(kinds)),
                )
            )
            return self._insert(conn, behind)

    def open_email(self, day: dt.date) -> int:
        """A correction message for every email delivery of ``day`` sent before its latest
        correction (once per correction: the unique key)."""
        with self.archive.engine.begin() as conn:
            latest = conn.execute(select(func.max(corrections.c.id)).where(corrections.c.day == day)).scalar()
            if latest is None:
                return 0
            behind = (
                select(func.cast(latest, deliveries.c.id.type), deliveries.c.id)
                .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                .where(
                    deliveries.c.day == day,
                    deliveries.c.status == "sent",
                    deliveries.c.version < latest,
                    subscriptions.c.kind == "email",
                )
            )
            return self._insert(conn, behind)

    def _insert(self, conn: Connection, behind: Any) -> int:
        rows = conn.execute(behind).all()
        if not rows:
            return 0
        for correction_id, delivery_id in rows:  # older corrections' work on it is moot now
            conn.execute(
                update(edits)
                .where(
                    edits.c.delivery_id == delivery_id,
                    edits.c.correction_id < correction_id,
                    edits.c.status == "pending",
                )
                .values(status="superseded")
            )
        now = self.clock()
        values = [
            {"correction_id": c, "delivery_id": d, "status": "pending", "attempts": 0, "created": now}
            for c, d in rows
        ]
        result = conn.execute(insert_for(conn, edits).on_conflict_do_nothing(), values)
        return max(0, int(result.rowcount)) if result.rowcount is not None else len(values)

    # -- claiming and recording -----------------------------------------------------------------

    def claim(self, kinds: Sequence[str], limit: int) -> list[EditJob]:
        if limit <= 0 or not kinds:
            return []
        now = self.clock()
        due = (
            select(edits.c.id)
            .join(deliveries, deliveries.c.id == edits.c.delivery_id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(
                edits.c.status == "pending",
                or_(edits.c.not_before.is_(None), edits.c.not_before <= now),
                subscriptions.c.kind.in_(list(kinds)),
                subscriptions.c.status == "active",
            )
            .order_by(edits.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=edits)
            .cte("due_edits")
            .prefix_with("MATERIALIZED", dialect="postgresql")
        )
        with self.archive.engine.begin() as conn:
            ids = sorted(
                conn.scalars(
                    update(edits)
                    .where(edits.c.id == due.c.id, edits.c.status == "pending")
                    .values(status="sending", claimed_by=self.worker, claimed_at=now)
                    .returning(edits.c.id)
                )
            )
        return self.get(ids)

    def step(
        self, job: EditJob, progress: int, working: Sequence[str], edited: int, error: str | None
    ) -> None:
        """Record a step done: from here a crash resumes after it."""
        self._set(
            job.id,
            keep_claim=True,
            claimed_at=self.clock(),  # a step done is a sign of life: the lease starts again
            progress=progress,
            message_ids=json.dumps(list(working)),
            edited=edited,
            last_error=error,
        )

    def finish(
        self, job: EditJob, final: Sequence[str], error: str | None, *, edited: int | None = None
    ) -> None:
        """The row is done (``failed`` if a step was refused); the delivery's messages now show
        this correction."""
        now = self.clock()
        with self.archive.engine.begin() as conn:
            conn.execute(
                update(edits)
                .where(edits.c.id == job.id)
                .values(
                    status="failed" if error else "done",
                    claimed_by=None,
                    **({} if edited is None else {"edited": edited}),  # else as the steps recorded it
                    done_at=now,
                    last_error=error,
                    attempts=edits.c.attempts + 1,
                )
            )
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == job.delivery_id, deliveries.c.version < job.correction_id)
                .values(message_ids=json.dumps(list(final)), version=job.correction_id)
            )

    def retry_at(self, job_id: int, when: dt.datetime, error: str) -> None:
        self._set(job_id, status="pending", not_before=when, last_error=error, attempts=edits.c.attempts + 1)

    def failed(self, job_id: int, error: str) -> None:
        self._set(
            job_id, status="failed", last_error=error, attempts=edits.c.attempts + 1, done_at=self.clock()
        )

    def release(self, job_id: int) -> None:
        self._set(job_id, status="pending")

    def renew(self) -> int:
        """Start the lease of this worker's claims again (``Ledger.renew``): it is alive."""
        return renew_claims(self.archive, edits, self.worker, self.clock())

    def recover_dead(self, stale_after: dt.timedelta = LEASE) -> int:
        """Rows a dead worker had claimed go back to pending, their progress kept (the ledger's
        rule: on this host, a process that is gone; anywhere, a claim not renewed for
        ``stale_after``)."""
        return recover_claims(self.archive, edits, self.worker, self.clock() - stale_after)

    def retry_failed(self, day: dt.date | None = None) -> int:
        """Failed rows go again from the step they stopped at (steps done are not redone)."""
        where = edits.c.status == "failed"
        if day is not None:
            where = and_(
                where, edits.c.delivery_id.in_(select(deliveries.c.id).where(deliveries.c.day == day))
            )
        with self.archive.engine.begin() as conn:
            result = conn.execute(update(edits).where(where).values(status="pending", not_before=None))
        return int(result.rowcount)

    def pending_count(self, kinds: Sequence[str] | None = None) -> int:
        stmt = (
            select(func.count())
            .select_from(
                edits.join(deliveries, deliveries.c.id == edits.c.delivery_id).join(
                    subscriptions, subscriptions.c.id == deliveries.c.subscription_id
                )
            )
            .where(edits.c.status.in_(("pending", "sending")), subscriptions.c.status == "active")
        )
        if kinds is not None:
            stmt = stmt.where(subscriptions.c.kind.in_(list(kinds)))
        with self.archive.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def tally(self) -> dict[int, dict[str, int]]:
        """Per correction: its rows by status, and ``messages``, the platform calls that changed
        a message (what ``corrections list`` shows)."""
        stmt = select(edits.c.correction_id, edits.c.status, func.count(), func.sum(edits.c.edited)).group_by(
            edits.c.correction_id, edits.c.status
        )
        found: dict[int, dict[str, int]] = {}
        with self.archive.engine.connect() as conn:
            for correction_id, status, count, messages in conn.execute(stmt):
                entry = found.setdefault(correction_id, dict.fromkeys((*STATUSES, "messages"), 0))
                entry[status] = int(count)
                entry["messages"] += int(messages or 0)
        return found

    def of_deliveries(self, delivery_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The rows of these deliveries, oldest first: what ``deliveries list`` shows of edits."""
        found: dict[int, list[dict[str, Any]]] = {}
        if not delivery_ids:
            return found
        columns = (
            edits.c.delivery_id,
            edits.c.correction_id,
            edits.c.status,
            edits.c.edited,
            edits.c.last_error,
        )
        with self.archive.engine.connect() as conn:
            for start in range(0, len(delivery_ids), 500):
                chunk = list(delivery_ids[start : start + 500])
                rows = conn.execute(
                    select(*columns).where(edits.c.delivery_id.in_(chunk)).order_by(edits.c.id)
                )
                for delivery_id, correction_id, status, edited, error in rows:
                    found.setdefault(delivery_id, []).append(
                        {
                            "correction": correction_id,
                            "status": status,
                            "messages": edited,
                            "last_error": error,
                        }
                    )
        return found

    def get(self, ids: Sequence[int]) -> list[EditJob]:
        if not ids:
            return []
        stmt = (
            select(
                edits.c.id.label("edit_id"),
                edits.c.correction_id,
                edits.c.progress,
                edits.c.message_ids.label("working_ids"),
                edits.c.edited,
                edits.c.last_error.label("edit_error"),
                edits.c.attempts.label("edit_attempts"),
                deliveries.c.id.label("delivery_id"),
                deliveries.c.day,
                deliveries.c.version,
                deliveries.c.message_ids.label("sent_ids"),
                subscriptions,
            )
            .join(deliveries, deliveries.c.id == edits.c.delivery_id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(edits.c.id.in_(list(ids)))
        )
        with self.archive.engine.connect() as conn:
            found = {row.edit_id: _job(row._mapping) for row in conn.execute(stmt)}
        return [found[i] for i in ids if i in found]

    def _set(self, job_id: int, *, keep_claim: bool = False, **values: Any) -> None:
        if not keep_claim:
            values.setdefault("claimed_by", None)
        with self.archive.engine.begin() as conn:
            conn.execute(update(edits).where(edits.c.id == job_id).values(**values))


def _latest_per_day() -> Any:
    return (
        select(corrections.c.day, func.max(corrections.c.id).label("latest"))
        .group_by(corrections.c.day)
        .subquery("latest")
    )


def _job(row: Any) -> EditJob:
    working = row["working_ids"]
    return EditJob(
        id=row["edit_id"],
        correction_id=row["correction_id"],
        day=row["day"],
        subscription=subscription_from_row(row),
        delivery_id=row["delivery_id"],
        version=row["version"],
        sent_ids=tuple(json.loads(row["sent_ids"])) if row["sent_ids"] else (),
        progress=row["progress"],
        working_ids=tuple(json.loads(working)) if working else None,
        edited=row["edited"],
        last_error=row["edit_error"],
        attempts=row["edit_attempts"],
    )
