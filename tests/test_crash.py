"""A ``paperboy publish DAY`` killed mid fan-out (SIGKILL: an out-of-memory kill, a lost machine)
is finished by the next command a user runs, ``paperboy publish DAY`` again (or ``deliveries
retry``): every subscriber ends up with the whole digest, only messages in flight at the kill can
arrive twice, every delivery is sent. And a live process's claims are never taken: on this host
its process runs; from another host, it renews their lease.

Real processes, the real email channel, a real SMTP server (aiosmtpd) made slow, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import update

from bot import subscriptions as store
from bot.archive import queries
from bot.archive.schema import deliveries
from bot.archive.store import Archive
from bot.channels.base import Channel, Pace
from bot.render.context import DigestView
from scheduler.ledger import LEASE, Ledger
from scheduler.limits import DEFAULTS
from tests.smtp_server import Inbox, smtp_server
from tests.test_publish import DAY, LONG_AGO, make
from tests.test_settings_checks import paperboy, paperboy_env

#: What one ``paperboy publish`` claims at most: the sending slots of the channels it has on
#: here (email, and Discord webhooks, which need no token).
CAPACITY = DEFAULTS["email"].concurrency + DEFAULTS["discord-webhook"].concurrency


class SlowInbox(Inbox):
    """Takes ``delay`` seconds over each message before its 250, as a busy relay does."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def count(self) -> int:
        with self.lock:
            return len(self.accepted)


def readers(archive: Archive, count: int) -> list[str]:
    addresses = [f"reader{n:03}@example.org" for n in range(count)]
    for address in addresses:
        store.add(archive, f"email:{address}", now=LONG_AGO)
    return addresses


def wait_for(condition: Any, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def slow_smtp() -> Iterator[tuple[SlowInbox, int]]:
    with smtp_server(SlowInbox(delay=0.1)) as (inbox, port):
        assert isinstance(inbox, SlowInbox)
        yield inbox, port


def whole(archive: Archive, received: list[Any]) -> bool:
    """Every message carries the day's every paper (the digest is one message per reader)."""
    titles = [paper.title for paper in queries.digest_papers(archive, DAY)]
    for item in received:
        message = item.message()
        body = html.unescape(message.get_body(("html",)).get_content())
        if not message["Subject"].endswith(f"{len(titles)} papers") or not all(t in body for t in titles):
            return False
    return True


@pytest.mark.parametrize("again", [("publish", DAY.isoformat()), ("deliveries", "retry")], ids=" ".join)
def test_the_next_command_finishes_a_publish_killed_mid_fan_out(
    seeded: Archive, db_url: str, tmp_path: Path, slow_smtp: tuple[SlowInbox, int], again: tuple[str, ...]
) -> None:
    inbox, port = slow_smtp
    everyone = readers(seeded, 120)
    env = paperboy_env(db_url, tmp_path, PAPERBOY_SMTP_URL=f"smtp://127.0.0.1:{port}")

    first = paperboy(env, "publish", DAY.isoformat(), "--channel", "email")
    wait_for(lambda: inbox.count() >= 15 or first.poll() is not None)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    killed_at = inbox.count()
    time.sleep(0.5)  # messages the server was taking in at the kill land (or not) now
    rows = Ledger(seeded, "inspector").listing(day=DAY)
    in_flight = sum(row.status == "sending" for row in rows)
    assert 0 < in_flight <= CAPACITY  # claims never outrun the process's sending slots
    assert killed_at < len(everyone) and any(row.status == "pending" for row in rows)  # mid fan-out

    second = paperboy(env, *again)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert f"{in_flight} deliveries a stopped process had claimed were queued again" in err
    assert "Traceback" not in err

    got = Counter(item.recipient for item in inbox.accepted)
    assert set(got) == set(everyone)  # everyone has the digest
    assert whole(seeded, inbox.accepted)  # each copy is the whole digest
    assert max(got.values()) <= 2
    assert sum(count - 1 for count in got.values()) <= in_flight  # only what was in flight, twice
    assert {row.status for row in Ledger(seeded, "inspector").listing(day=DAY)} == {"sent"}


def test_a_second_publish_leaves_the_first_ones_claims_alone(
    seeded: Archive, db_url: str, tmp_path: Path
) -> None:
    """Two live ``publish`` processes of the same day on one host: the second sends only what it
    claims itself, never what the first has under way, so nobody gets the digest twice."""
    everyone = readers(seeded, 120)
    with smtp_server(SlowInbox(delay=0.4)) as (inbox, port):
        env = paperboy_env(db_url, tmp_path, PAPERBOY_SMTP_URL=f"smtp://127.0.0.1:{port}")
        first = paperboy(env, "publish", DAY.isoformat(), "--channel", "email", "--json")
        wait_for(lambda: len(inbox.accepted) >= 4)
        second = paperboy(env, "publish", DAY.isoformat(), "--channel", "email", "--json")
        outputs = [first.communicate(timeout=180), second.communicate(timeout=180)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert all("queued again" not in err for _, err in outputs)
    shares = [json.loads(out)["sent"] for out, _ in outputs]
    assert all(share > 0 for share in shares) and sum(shares) == 120  # both sent, side by side
    got = Counter(item.recipient for item in inbox.accepted)
    assert set(got) == set(everyone) and max(got.values()) == 1
    assert {row.status for row in Ledger(seeded, "inspector").listing(day=DAY)} == {"sent"}


def test_claims_come_back_only_from_dead_processes(seeded: Archive, db_url: str, tmp_path: Path) -> None:
    """What ``publish`` takes back from rows left "sending": on this host, a claim whose process is
    gone; from another host, a claim whose lease ran out. A live process's claims stay its own."""
    everyone = readers(seeded, 6)
    publisher = make(seeded, tmp_path, {})  # opens the day's deliveries; no channel sends them
    assert asyncio.run(publisher.publish(DAY, kinds=["email"])).opened == 6
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    host, now = socket.gethostname(), dt.datetime.now(dt.UTC)
    claims = {
        everyone[0]: (f"{host}:{alive.pid}", now),  # a live process here: left alone
        everyone[1]: ("elsewhere:4242", now),  # another host, lease running: left alone
        everyone[2]: (f"{host}:{gone.pid}", now),  # a process here that is gone: taken back
        everyone[3]: ("elsewhere:4243", now - LEASE - dt.timedelta(minutes=1)),  # lease out: back
    }  # everyone[4:] are pending
    ids = {row.subscription.target: row.id for row in Ledger(seeded, "x").listing(day=DAY)}
    with seeded.engine.begin() as conn:
        for address, (worker, at) in claims.items():
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == ids[address])
                .values(status="sending", claimed_by=worker, claimed_at=at)
            )
    try:
        with smtp_server() as (inbox, port):
            env = paperboy_env(db_url, tmp_path, PAPERBOY_SMTP_URL=f"smtp://127.0.0.1:{port}")
            done = paperboy(env, "publish", DAY.isoformat(), "--channel", "email")
            _, err = done.communicate(timeout=120)
    finally:
        alive.kill()
        alive.wait()
    assert done.returncode == 0, err
    assert "2 deliveries a stopped process had claimed were queued again" in err
    assert sorted(item.recipient for item in inbox.accepted) == everyone[2:]
    status = {row.subscription.target: row.status for row in Ledger(seeded, "x").listing(day=DAY)}
    assert status == {address: "sending" for address in everyone[:2]} | dict.fromkeys(everyone[2:], "sent")


class Held(Channel):
    """Holds each send for ``seconds``: a delivery that takes longer than the lease."""

    kind = "email"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def render(self, digest: DigestView) -> Any:
        return None

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        await pace()
        await asyncio.sleep(self.seconds)
        return [target]


def test_a_live_worker_renews_its_claims_so_another_host_never_takes_them(
    seeded: Archive, tmp_path: Path
) -> None:
    readers(seeded, 3)
    lease = dt.timedelta(seconds=0.6)
    publisher = make(seeded, tmp_path, {"email": Held(2.0)})
    publisher.ledger.worker = "elsewhere:1"  # a worker on another host, as this one sees it
    publisher.fanout.renew_every = 0.1

    async def main() -> list[int]:
        sending = asyncio.create_task(publisher.publish(DAY, kinds=["email"]))
        taken = []
        for _ in range(6):  # for 1.5 s, three leases' worth, while the sends are under way
            await asyncio.sleep(0.25)
            taken.append(Ledger(seeded, f"{socket.gethostname()}:1").recover_dead(lease))
        report = await sending
        assert report.fanout and report.fanout.sent == 3
        return taken

    assert asyncio.run(main()) == [0] * 6
    assert {row.status for row in publisher.ledger.listing(day=DAY)} == {"sent"}
