"""SIGKILL in the middle of a fan-out loses nothing: the restart sends what was not sent, and
only messages in flight at the kill (at most the concurrency) can arrive twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bot import subscriptions as store
from bot.archive.store import Archive
from scheduler.ledger import Ledger
from tests.conftest import ROOT
from tests.crash_publish import CONCURRENCY
from tests.test_publish import LONG_AGO

TARGETS = [f"-{900000 + n}" for n in range(60)]


def start(db_url: str, log: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PAPERBOY_DATABASE_URL": db_url, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.crash_publish", db_url, str(log), "2024-07-11"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_fan_out_loses_nothing(seeded: Archive, db_url: str, tmp_path: Path) -> None:
    for target in TARGETS:
        store.add(seeded, f"telegram:{target}", now=LONG_AGO)
    log = tmp_path / "sent.log"
    first = start(db_url, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 12):
        time.sleep(0.02)
    os.kill(first.pid, signal.SIGKILL)
    first.communicate(timeout=30)  # reaps it and closes its pipes
    assert first.returncode == -signal.SIGKILL
    before = Counter(log.read_text().split())
    assert 12 <= len(before) < len(TARGETS)  # killed mid fan-out

    rows = Ledger(seeded, "inspector").listing()
    in_flight = [row for row in rows if row.status == "sending"]
    assert len(in_flight) <= CONCURRENCY  # claims never outrun the free sending slots

    second = start(db_url, log)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert out.startswith(f"recovered {len(in_flight)}")
    sent = Counter(log.read_text().split())
    assert set(sent) == set(TARGETS)  # everyone got the digest
    duplicates = sum(count - 1 for count in sent.values())
    assert duplicates <= len(in_flight) <= CONCURRENCY
    assert {row.status for row in Ledger(seeded, "inspector").listing()} == {"sent"}
