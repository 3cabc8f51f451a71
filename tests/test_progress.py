"""Long work shows a progress bar on a terminal, and nothing extra anywhere else."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot import subscriptions as store
from bot.archive.store import Archive
from tests.fakes import RecordingChannel
from tests.test_publish import DAY, LONG_AGO, make

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _posts(folder: Path, count: int) -> Path:
    """``count`` one-paper daily posts, generated from a seed's shape."""
    paper = (SEEDS / "daily-2024-07-11.txt").read_text(encoding="utf-8").splitlines()[1:7]  # one paper
    folder.mkdir()
    for day in range(1, count + 1):
        text = "\n".join([f"2023년 1월 {day}일", *paper]) + "\n"
        (folder / f"daily-2023-01-{day:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def _ingest(folder: Path, tmp_path: Path, *, tty: bool) -> tuple[int, str, str]:
    env = {**os.environ, "PAPERBOY_DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"}
    command = [sys.executable, "-m", "bot", "ingest", str(folder)]
    if not tty:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        return done.returncode, done.stdout, done.stderr
    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, where tqdm draws nothing; a real one has a size.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=follower) as proc:
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout = proc.stdout.read().decode() if proc.stdout else ""
        code = proc.wait(timeout=120)
    os.close(leader)
    return code, stdout, b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("tty", [True, False], ids=["terminal", "pipe"])
def test_a_folder_ingest_shows_a_bar_only_on_a_terminal(tmp_path: Path, tty: bool) -> None:
    folder = _posts(tmp_path / "posts", 30)
    code, out, err = _ingest(folder, tmp_path, tty=tty)
    assert code == 0, err
    assert out.count("daily post of 2023-01-") == 30  # every file still reported on stdout
    if tty:
        assert "ingesting" in err and "30/30" in err
        assert "indexing for search" in err
    else:
        assert "ingesting" not in err and "it/s" not in err and "file/s" not in err


def test_a_short_ingest_shows_no_bar_even_on_a_terminal(tmp_path: Path) -> None:
    folder = _posts(tmp_path / "posts", 3)
    code, out, err = _ingest(folder, tmp_path, tty=True)
    assert code == 0, err
    assert out.count("daily post of 2023-01-") == 3
    assert "ingesting" not in err


def test_a_fan_out_reports_its_total_and_every_delivery(seeded: Archive, tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []

    @contextmanager
    def record(total: int) -> Iterator[Callable[[int], None]]:
        seen.append(("total", total))
        yield lambda count: seen.append(("advance", count))

    for chat in range(30):
        store.add(seeded, f"telegram:-{1000 + chat}", now=LONG_AGO)
    publisher = make(seeded, tmp_path, {"telegram": RecordingChannel()})
    publisher.fanout.progress = record
    report = asyncio.run(publisher.publish(DAY))
    assert report.fanout and report.fanout.sent == 30
    assert seen[0] == ("total", 30)
    assert sum(count for what, count in seen if what == "advance") == 30
