"""The counts the database keeps of the ledger (``delivery_counts``, migration 0008) equal a
count of the ledger's own rows after every kind of change the ledger makes, on both engines:
opening a day, claims, sent, retry-after, failed, a retry, a subscriber removed, a dead worker's
claims recovered, a day opened twice. On PostgreSQL, concurrent writers and folding lose
nothing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from bot import subscriptions as store
from bot.archive import counts
from bot.archive.schema import deliveries, delivery_counts, subscriptions
from bot.archive.store import Archive, open_archive
from scheduler.ledger import Ledger
from tests.conftest import _reset_postgres

DAY = dt.date(2024, 6, 18)
NOW = dt.datetime(2024, 6, 18, 9, tzinfo=dt.UTC)


def counted(archive: Archive, now: dt.datetime = NOW) -> dict[str, dict[str, int]]:
    """The slow, obvious count: every delivery row, grouped."""
    found: dict[str, dict[str, int]] = {}
    stmt = (
        select(subscriptions.c.kind, deliveries.c.status, deliveries.c.not_before)
        .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
        .where(deliveries.c.day == DAY)
    )
    with archive.engine.connect() as conn:
        for kind, status, not_before in conn.execute(stmt):
            if not_before is not None and not_before.tzinfo is None:
                not_before = not_before.replace(tzinfo=dt.UTC)
            shown = "waiting" if status == "pending" and not_before and not_before > now else status
            found.setdefault(kind, {})
            found[kind][shown] = found[kind].get(shown, 0) + 1
    return found


def kept(archive: Archive, now: dt.datetime = NOW) -> dict[str, dict[str, int]]:
    with archive.engine.connect() as conn:
        return counts.by_day(conn, [DAY], now)[DAY]


def test_the_kept_counts_follow_every_change_the_ledger_makes(archive: Archive) -> None:
    subs = [store.add(archive, f"email:user{i}@example.org") for i in range(12)]
    subs += [store.add(archive, f"telegram:{-1000 - i}") for i in range(5)]
    ledger = Ledger(archive, "worker-1", clock=lambda: NOW)
    assert ledger.open(DAY, subs) == 17
    assert kept(archive) == counted(archive) == {"email": {"pending": 12}, "telegram": {"pending": 5}}
    assert ledger.open(DAY, subs) == 0  # a second publish adds nothing, counts nothing twice
    assert kept(archive) == counted(archive)

    claimed = ledger.claim(["email", "telegram"], 10)
    assert kept(archive) == counted(archive)
    ledger.sent(claimed[0].id, ["m1"])
    ledger.sent_many([(d.id, ["m"], 0) for d in claimed[1:4]])
    ledger.failed(claimed[4].id, "550 no such user")
    ledger.gone(claimed[5].id, "403 blocked")
    ledger.retry_at(claimed[6].id, NOW + dt.timedelta(minutes=5), "429")
    ledger.release(claimed[7].id)
    assert kept(archive) == counted(archive)
    assert kept(archive, NOW + dt.timedelta(hours=1)) == counted(archive, NOW + dt.timedelta(hours=1))
    assert "waiting" in counted(archive)[claimed[6].subscription.kind]

    assert ledger.retry_failed(DAY) == 1
    assert kept(archive) == counted(archive)
    # Claims of a worker that stopped renewing them go back to pending.
    later = Ledger(archive, "worker-2", clock=lambda: NOW + dt.timedelta(hours=2))
    assert later.recover_dead(dt.timedelta(minutes=1)) == 2
    assert kept(archive) == counted(archive)

    # A subscriber removed takes its deliveries with it, and out of the counts.
    store.remove(archive, claimed[0].subscription.label)
    store.remove(archive, "telegram:-1004")
    assert kept(archive) == counted(archive)
    total = sum(sum(by_status.values()) for by_status in kept(archive).values())
    assert total == 15


@pytest.mark.postgres
def test_concurrent_writers_and_folding_lose_nothing(postgres_url: str) -> None:
    """Several workers at once is the PostgreSQL deployment (SQLite has one writer)."""
    _reset_postgres(postgres_url)
    with open_archive(postgres_url) as archive:
        _work_concurrently(archive)


def _work_concurrently(archive: Archive) -> None:
    subs = [store.add(archive, f"email:user{i}@example.org") for i in range(400)]
    Ledger(archive, "opener", clock=lambda: NOW).open(DAY, subs)

    def work(name: str) -> None:
        ledger = Ledger(archive, name, clock=lambda: NOW)
        while claimed := ledger.claim(["email"], 7):
            if claimed[:-1]:
                ledger.sent_many([(d.id, ["m"], 0) for d in claimed[:-1]])
            ledger.failed(claimed[-1].id, "550")
            with archive.engine.connect() as conn:
                counts.by_day(conn, [DAY], NOW)  # reads (and on PostgreSQL folds) meanwhile

    workers = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert kept(archive) == counted(archive)
    assert sum(kept(archive)["email"].values()) == 400
    with archive.engine.connect() as conn:
        counts.fold(conn, [DAY])
        rows = conn.execute(
            select(func.count()).select_from(delivery_counts).where(delivery_counts.c.n != 0)
        ).scalar_one()
    assert rows == 2  # email sent, email failed: one row each once folded
    assert kept(archive) == counted(archive)
