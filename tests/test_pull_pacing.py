"""arXiv's one request every three seconds, kept across processes: two ``paperboy pull arxiv``
run one after the other, or at once, reach arXiv at least 3 s apart (measured where they
arrive), on SQLite and PostgreSQL; turns are reserved without a lock held while waiting."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.archive.store import Archive, open_archive
from bot.pull.pacing import ARXIV_INTERVAL, Pacer
from tests.arxiv_standin import ArxivStandIn
from tests.conftest import ROOT


def pull(db_url: str, stand_in: ArxivStandIn, folder: Path, *ids: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PAPERBOY_DATABASE_URL": db_url,
        "PAPERBOY_ARXIV_API_URL": stand_in.base_url,
        "PAPERBOY_DATA_DIR": str(folder),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "pull", "arxiv", *ids],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def test_two_pulls_in_a_row_reach_arxiv_three_seconds_apart(db_url: str, tmp_path: Path) -> None:
    with open_archive(db_url):  # migrated before, so the two runs time only the pull
        pass
    with ArxivStandIn() as arxiv:
        assert "1 candidate" in finished(pull(db_url, arxiv, tmp_path, "2512.04030"))
        assert "1 candidate" in finished(pull(db_url, arxiv, tmp_path, "hep-th/9901001"))
    first, second = (r.at for r in arxiv.requests)
    assert second - first >= 3.0
    assert arxiv.too_soon == 0


def test_two_pulls_at_once_take_turns(db_url: str, tmp_path: Path) -> None:
    with open_archive(db_url):
        pass
    with ArxivStandIn() as arxiv:
        both = [pull(db_url, arxiv, tmp_path, raw) for raw in ("2512.04030", "hep-th/9901001")]
        for process in both:
            finished(process)
    first, second = sorted(r.at for r in arxiv.requests)
    assert second - first >= 3.0
    assert arxiv.too_soon == 0


class FakeTime:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_turns_are_an_interval_apart_and_kept_in_the_database(archive: Archive) -> None:
    time = FakeTime(1_000_000.0)
    pacer = Pacer(archive, "arxiv", ARXIV_INTERVAL, clock=time.clock, sleep=time.sleep)
    pacer.wait()
    assert time.slept == []  # the first request goes at once
    time.now += 1.0
    pacer.wait()
    assert time.slept == pytest.approx([ARXIV_INTERVAL - 1.0])
    time.now += 10.0
    again = Pacer(archive, "arxiv", ARXIV_INTERVAL, clock=time.clock, sleep=time.sleep)  # another process
    again.wait()
    assert time.slept == pytest.approx([ARXIV_INTERVAL - 1.0])  # long enough since: no wait
    # A clock set back by an hour is not a queue an hour long.
    time.now -= 3600
    again.wait()
    assert time.slept == pytest.approx([ARXIV_INTERVAL - 1.0])


def test_turns_reserved_at_once_are_all_different(archive: Archive) -> None:
    now = 2_000_000.0
    turns: list[float] = []
    pacers = [Pacer(archive, "arxiv", ARXIV_INTERVAL, clock=lambda: now) for _ in range(6)]
    threads = [threading.Thread(target=lambda p=p: turns.append(p.reserve())) for p in pacers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(turns) == pytest.approx([now + n * ARXIV_INTERVAL for n in range(6)])
