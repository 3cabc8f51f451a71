"""Email within the sender's caps: PAPERBOY_SMTP_RATE (messages a second, in memory) and
PAPERBOY_SMTP_WINDOW (at most N in any hour, day..., counted in the ledger), against a real SMTP
server (aiosmtpd on 127.0.0.1) that notes when each message arrives. The window holds across a
restart and across two workers on one database (SQLite and PostgreSQL); what it holds back waits
in the ledger with the time it may go, and goes then, once."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from bot.archive.store import Archive, open_archive
from bot.config import SendWindow, Settings
from scheduler.ledger import Ledger, utcnow
from scheduler.publish import Publisher
from scheduler.quota import Quota
from scheduler.service import Service
from tests.conftest import ingest_seeds
from tests.smtp_server import smtp_server
from tests.test_email_delivery import channel_for, settings_for, subscribe
from tests.test_publish import DAY, Clock, Sleeps

T0 = dt.datetime(2024, 7, 11, 9, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def readers(count: int) -> list[str]:
    return [f"reader{n:03}@example.org" for n in range(count)]


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any sliding window of one second."""
    times, first, peak = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def publisher_for(archive: Archive, settings: Settings, port: int, clock: Any, **kwargs: Any) -> Publisher:
    channel, _pool = channel_for(settings, port)
    kwargs.setdefault("sleep", Sleeps())
    return Publisher(archive, settings, {"email": channel}, clock=clock, **kwargs)


def run(publisher: Publisher, day: dt.date | None = DAY) -> Any:
    """A publish of ``day`` (or, with None, a delivery round) in a fresh event loop, as a command
    runs it; the channel's connections closed at the end."""

    async def main() -> Any:
        try:
            if day is None:
                return await publisher.deliver()
            return (await publisher.publish(day, kinds=["email"])).fanout
        finally:
            await publisher.channels["email"].close()

    return asyncio.run(main())


def test_the_rate_is_what_the_server_sees(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """45 messages at PAPERBOY_SMTP_RATE=15: never more than 15 in any second at the server, so at
    least two seconds in all; the same without the rate is a burst, so the check can fail."""
    subscribe(seeded_sqlite, *readers(45))
    with smtp_server() as (inbox, port):
        fast = settings_for(tmp_path)
        run(publisher_for(seeded_sqlite, fast, port, Clock(T0), worker="fast"))
        assert len(inbox.accepted) == 45 and busiest_second(inbox.arrivals) > 15
    with open_archive(f"sqlite:///{tmp_path}/again.db") as archive, smtp_server() as (inbox, port):
        ingest_seeds(archive)
        subscribe(archive, *readers(45))
        capped = settings_for(tmp_path, smtp_rate=15.0)
        report = run(publisher_for(archive, capped, port, Clock(T0), worker="capped"))
        assert report.sent == 45 and len(inbox.accepted) == 45
        assert busiest_second(inbox.arrivals) <= 15
        assert max(inbox.arrivals) - min(inbox.arrivals) >= 2.0  # 45 at 15 a second: three windows
        assert Counter(item.recipient for item in inbox.accepted) == Counter(readers(45))


def test_the_window_holds_across_a_restart_and_sends_the_rest_when_it_reopens(
    seeded: Archive, tmp_path: Path
) -> None:
    """PAPERBOY_SMTP_WINDOW=5/hour, 12 readers, an injected clock: 5 go; 7 wait in the ledger with
    the time each may go (nothing failed, no attempt counted); a new publisher (a restart) half
    an hour on sends none; an hour on, 5 more; two hours on, the last 2; nobody twice."""
    subscribe(seeded, *readers(12))
    settings = settings_for(tmp_path, smtp_window=SendWindow(5, 3600, "5/hour"))
    clock = Clock(T0)
    with smtp_server() as (inbox, port):
        report = run(publisher_for(seeded, settings, port, clock, worker="first"))
        assert (report.sent, report.failed, len(inbox.accepted)) == (5, 0, 5)
        ledger = Ledger(seeded, "reader", clock)
        waiting = ledger.listing(status="pending")
        assert len(waiting) == 7
        assert {(row.attempts, row.last_error) for row in waiting} == {(0, None)}
        # five places open when the five sent at T0 leave the window; the other two, a window later
        assert [row.not_before for row in waiting] == [T0 + HOUR] * 5 + [T0 + 2 * HOUR] * 2
        assert ledger.scheduled(["email"]) == (7, T0 + HOUR)

        clock.now = T0 + HOUR / 2  # a restart within the hour
        assert run(publisher_for(seeded, settings, port, clock, worker="second"), None).sent == 0
        assert len(inbox.accepted) == 5

        clock.now = T0 + HOUR + dt.timedelta(seconds=1)
        assert run(publisher_for(seeded, settings, port, clock, worker="third"), None).sent == 5
        later = [row.not_before for row in ledger.listing(status="pending")]
        assert later == [T0 + 2 * HOUR] * 2  # as set at first: a window after the first five

        clock.now = T0 + 2 * HOUR + dt.timedelta(seconds=2)
        assert run(publisher_for(seeded, settings, port, clock, worker="fourth"), None).sent == 2
    assert Counter(item.recipient for item in inbox.accepted) == Counter(readers(12))
    assert {row.status for row in ledger.listing()} == {"sent"}


def test_a_window_that_reopens_soon_is_waited_for_in_place(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """3 per 2 s (a window shorter than the fan-out's longest wait in place, a minute): one
    ``publish`` sends all 5, and the server never sees a 4th message within 2 s of a 1st."""
    subscribe(seeded_sqlite, *readers(5))
    settings = settings_for(tmp_path, smtp_window=SendWindow(3, 2, "3/2s"))
    with smtp_server() as (inbox, port):
        report = run(publisher_for(seeded_sqlite, settings, port, utcnow, worker="w", sleep=asyncio.sleep))
    assert (report.sent, len(inbox.accepted)) == (5, 5)
    arrivals = sorted(inbox.arrivals)
    assert all(later - first >= 2.0 for first, later in zip(arrivals, arrivals[3:], strict=False))


def test_each_waiting_delivery_gets_the_time_its_place_opens(seeded: Archive, tmp_path: Path) -> None:
    """Sends at 09:00, 09:10 and 09:20 fill a 3/hour window: at 09:30, the next reader may go at
    10:00, the one after at 10:10, then 10:20; the 7th reader waits for the 4th's place to open
    again, an hour after 10:00."""
    subscribe(seeded, *readers(7))
    settings = settings_for(tmp_path, smtp_window=SendWindow(3, 3600, "3/hour"))
    clock = Clock(T0)
    asyncio.run(Publisher(seeded, settings, {}, clock=clock, worker="opener").publish(DAY))
    quotas = [Quota("email", 3, 3600)]
    ledger = Ledger(seeded, "worker", clock)
    for minutes in (0, 10, 20):  # one delivery at a time
        clock.now = T0 + dt.timedelta(minutes=minutes)
        claimed = ledger.claim(["email"], 1, quotas)
        assert len(claimed) == 1
        ledger.sent_many([(claimed[0].id, ["<id@example>"], 0)])
    clock.now = T0 + dt.timedelta(minutes=30)
    assert ledger.claim(["email"], 5, quotas) == []
    minutes = [(row.not_before - T0) / dt.timedelta(minutes=1) for row in ledger.listing(status="pending")]
    assert minutes == [60, 70, 80, 120]
    assert {row.attempts for row in ledger.listing(status="pending")} == {0}


def test_two_workers_on_one_database_share_the_window(db_url: str, seeded: Archive, tmp_path: Path) -> None:
    """Two workers with their own connections claim at once: 10/hour means 10 in all, not 10 each."""
    subscribe(seeded, *readers(30))
    settings = settings_for(tmp_path, smtp_window=SendWindow(10, 3600, "10/hour"))
    clock = Clock(T0)
    asyncio.run(Publisher(seeded, settings, {}, clock=clock, worker="opener").publish(DAY, kinds=["email"]))
    reports: list[Any] = []
    with smtp_server() as (inbox, port):

        def worker(name: str) -> None:
            with open_archive(db_url) as archive:
                reports.append(run(publisher_for(archive, settings, port, clock, worker=name), None))

        threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(reports) == 2 and sum(report.sent for report in reports) == 10
    assert len(inbox.accepted) == 10 and len({item.recipient for item in inbox.accepted}) == 10
    ledger = Ledger(seeded, "reader", clock)
    assert len(ledger.listing(status="sent")) == 10
    assert ledger.scheduled(["email"]) == (20, T0 + HOUR)


def test_run_wakes_when_the_window_reopens(seeded_sqlite: Archive, tmp_path: Path) -> None:
    """``paperboy run``'s delivery loop rests until the next delivery may go, not its usual 30 s
    (here an hour, so only the wake can send the rest): a 3 per 2 s window, 5 readers, all in
    within a few seconds. The fan-out hands every wait to the ledger (no waiting in place)."""
    subscribe(seeded_sqlite, *readers(5))
    settings = settings_for(
        tmp_path, smtp_window=SendWindow(3, 2, "3/2s"), queue_per_day=0, inbox=tmp_path / "inbox"
    )
    with smtp_server() as (inbox, port):
        publisher = publisher_for(seeded_sqlite, settings, port, utcnow, worker="run")
        publisher.fanout.max_inline_wait = 0
        first = run(publisher)
        assert (first.sent, len(inbox.accepted)) == (3, 3)
        service = Service(seeded_sqlite, settings, publisher, deliver_every=3600)

        async def main() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(service.run(stop, web=False))
            for _ in range(100):
                if len(inbox.accepted) >= 5:
                    break
                await asyncio.sleep(0.1)
            stop.set()
            await task
            await publisher.channels["email"].close()

        asyncio.run(main())
    assert Counter(item.recipient for item in inbox.accepted) == Counter(readers(5))


def test_claims_at_the_same_instant_never_overfill_the_window(
    db_url: str, seeded: Archive, tmp_path: Path
) -> None:
    """Four workers, each with its own connection, claim at once (a barrier lets them go
    together), five times over: the window's 10 places are taken once, never 10 per worker."""
    subscribe(seeded, *readers(60))
    settings = settings_for(tmp_path)
    clock = Clock(T0)
    asyncio.run(Publisher(seeded, settings, {}, clock=clock, worker="opener").publish(DAY))
    quotas = [Quota("email", 10, 3600)]

    def worker(name: str, barrier: threading.Barrier, claimed: list[int]) -> None:
        with open_archive(db_url) as archive:
            ledger = Ledger(archive, name, clock)
            archive.engine.connect().close()  # connected before the barrier
            barrier.wait()
            got = ledger.claim(["email"], 32, quotas)
            if got:
                ledger.sent_many([(delivery.id, ["<id@example>"], 0) for delivery in got])
            claimed.extend(delivery.id for delivery in got)

    for round_ in range(5):
        clock.now = T0 + round_ * 2 * HOUR  # the last round's sends have left the window
        barrier = threading.Barrier(4)
        claimed: list[int] = []
        threads = [
            threading.Thread(target=worker, args=(f"w{round_}-{n}", barrier, claimed)) for n in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert len(claimed) == len(set(claimed)) == 10, round_
