"""Several workers on one PostgreSQL share the ledger: every delivery is made exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot import subscriptions as store
from bot.archive.store import open_archive
from scheduler.ledger import Ledger
from scheduler.publish import Publisher
from tests.conftest import ROOT, _reset_postgres, ingest_seeds
from tests.test_publish import LONG_AGO, make

pytestmark = pytest.mark.postgres
TARGETS = [f"-{700000 + n}" for n in range(80)]


def test_two_workers_deliver_each_message_once(postgres_url: str, tmp_path: Path) -> None:
    _reset_postgres(postgres_url)
    with open_archive(postgres_url) as archive:
        ingest_seeds(archive)
        for target in TARGETS:
            store.add(archive, f"telegram:{target}", now=LONG_AGO)
        publisher: Publisher = make(archive, tmp_path, {})  # no channel here: deliveries wait
        report = asyncio.run(publisher.publish(dt.date(2024, 7, 11), kinds=["telegram"]))
        assert report.opened == 80
    log = tmp_path / "sent.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.deliver_worker", postgres_url, str(log)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    shares = [int(out.split()[-1]) for out, _ in outputs]
    assert sum(shares) == 80 and all(share > 0 for share in shares)  # both worked, neither twice
    sent = Counter(log.read_text().split())
    assert set(sent) == set(TARGETS) and max(sent.values()) == 1
    with open_archive(postgres_url) as archive:
        assert {row.status for row in Ledger(archive, "x").listing()} == {"sent"}
