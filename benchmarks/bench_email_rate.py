"""Email within the sender's caps: PAPERBOY_SMTP_RATE and PAPERBOY_SMTP_WINDOW, seen at a real
SMTP server (aiosmtpd in a second process on loopback, noting when each message arrives).

    python benchmarks/bench_email_rate.py [--subscribers 1000] [--rate 50]
        [--window 300/hour] [--window-subscribers 500] [--json]

- **Part A, the rate**: one seed day (2024-07-11, a 36 KB message) to ``--subscribers`` readers
  through the real ``Publisher``, ``EmailChannel`` and ``SmtpPool`` (4 connections) with
  PAPERBOY_SMTP_RATE=``--rate``, on SQLite. Measured: the whole publish against the floor
  (subscribers / rate: 20 s for 1,000 at 50/s), and the most messages the server saw arrive in
  any one-second sliding window.
- **Part B, the window**: the same day to ``--window-subscribers`` readers with
  PAPERBOY_SMTP_WINDOW=``--window``, each step a fresh process (a restart): ``publish`` sends
  what the window allows and leaves the rest waiting in the ledger; a second process half a
  window later sends nothing; a third, once the window has reopened, sends the rest. A real hour
  is too long for a benchmark, so the ledger's clock is injected: each process runs on the real
  clock plus an offset (0, then half a window, then past the last waiting delivery's time); the
  server counts what really arrives, and each reader must get the day exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402

from benchmarks._chat_fanout import ledger_state, peak_in_window  # noqa: E402
from benchmarks.bench_email import DAY, KEY, SENDER, free_port, fresh_archive  # noqa: E402
from bot.archive.store import open_archive  # noqa: E402
from bot.channels.email.sender import EmailChannel  # noqa: E402
from bot.channels.email.smtp import SmtpPool, parse_smtp_url  # noqa: E402
from bot.channels.email.tokens import Signer  # noqa: E402
from bot.config import DEFAULT_TEMPLATES, Settings  # noqa: E402
from bot.render.environment import Templates  # noqa: E402
from scheduler.ledger import Ledger, utcnow  # noqa: E402
from scheduler.publish import Publisher  # noqa: E402


# -- the server, in its own process -------------------------------------------------------------
class Arrivals:
    """Accepts everything; notes when each message came in (after its DATA) and for whom."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[float, str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.monotonic()
        with self.lock:
            self.seen.extend((now, recipient) for recipient in envelope.rcpt_tos)
        return "250 OK"


def serve(port: int, pipe: Connection) -> None:
    arrivals = Arrivals()
    controller = Controller(arrivals, hostname="127.0.0.1", port=port)
    controller.start()
    pipe.send("ready")
    try:
        while pipe.recv() == "tally":
            with arrivals.lock:
                pipe.send(list(arrivals.seen))
    except EOFError:
        pass
    finally:
        controller.stop()


# -- Paperboy ----------------------------------------------------------------------------------
def settings_for(folder: Path, **env: str) -> Settings:
    base = {
        "PAPERBOY_DATA_DIR": str(folder),
        "PAPERBOY_SITE_DIR": str(folder / "site"),
        "PAPERBOY_BASE_URL": "https://paperboy.example",
        "PAPERBOY_FROM": SENDER,
    }
    return Settings.from_env({**base, **env})  # parsed as the command parses them


async def publish(
    db: str, settings: Settings, port: int, step: str, clock: Callable[[], dt.datetime]
) -> dict[str, Any]:
    """``paperboy publish DAY --channel email`` (step "publish") or a delivery round as ``paperboy
    run`` makes one (step "deliver"), timed whole."""
    with open_archive(db) as archive:
        pool = SmtpPool(parse_smtp_url(f"smtp://127.0.0.1:{port}"), size=settings.smtp_concurrency)
        channel = EmailChannel(settings, pool, Signer(KEY), Templates(DEFAULT_TEMPLATES))
        publisher = Publisher(archive, settings, {"email": channel}, worker=f"bench-{step}", clock=clock)
        started = time.perf_counter()
        try:
            if step == "publish":
                report = (await publisher.publish(DAY, kinds=["email"])).fanout
            else:
                report = await publisher.deliver()
        finally:
            await channel.close()
        seconds = time.perf_counter() - started
        waiting, next_due = publisher.ledger.scheduled()
        latest = max(
            (row.not_before for row in publisher.ledger.listing(status="pending") if row.not_before),
            default=None,
        )
    assert report is not None
    return {
        "seconds": round(seconds, 3),
        "sent": report.sent,
        "failed": report.failed,
        "waiting": waiting,
        "next_due": next_due.isoformat() if next_due else None,
        "latest_due": latest.isoformat() if latest else None,
    }


# -- Part A: the rate ----------------------------------------------------------------------------
def part_a(
    count: int, rate: float, port: int, tally: Callable[[], list[tuple[float, str]]]
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        fresh_archive(folder, count).close()
        settings = settings_for(folder, PAPERBOY_SMTP_RATE=f"{rate:g}")
        before = len(tally())
        run = asyncio.run(publish(f"sqlite:///{folder}/archive.db", settings, port, "publish", utcnow))
        with open_archive(f"sqlite:///{folder}/archive.db") as archive:
            ledger = ledger_state(archive)
    seen = tally()[before:]
    times = sorted(at for at, _ in seen)
    floor = count / rate
    recipients = collections.Counter(recipient for _, recipient in seen)
    return {
        "subscribers": count,
        "rate": rate,
        **run,
        "floor_seconds": floor,
        "ratio": round(run["seconds"] / floor, 3),
        "arrived": len(seen),
        "arrival_span_seconds": round(times[-1] - times[0], 3) if times else 0.0,
        "busiest_second": peak_in_window(times, 1.0),
        "duplicates": sum(n - 1 for n in recipients.values() if n > 1),
        "ledger": ledger,
    }


# -- Part B: the window, over restarts -----------------------------------------------------------
def step(db: str, folder: Path, port: int, window: str, name: str, offset: float) -> dict[str, Any]:
    """One step of part B in a process of its own: a restart, as a user's next command is."""
    command = [sys.executable, __file__, "--child", name, "--db", db, "--folder", str(folder)]
    command += ["--port", str(port), "--window", window, "--offset", str(offset)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def part_b(
    count: int, window: str, port: int, tally: Callable[[], list[tuple[float, str]]]
) -> dict[str, Any]:
    parsed = Settings.from_env({"PAPERBOY_SMTP_WINDOW": window}).smtp_window
    assert parsed is not None
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        fresh_archive(folder, count).close()
        db = f"sqlite:///{folder}/archive.db"
        start = len(tally())
        steps: list[dict[str, Any]] = []
        first = step(db, folder, port, window, "publish", 0.0)
        steps.append(
            {"step": "publish", "clock_offset_seconds": 0.0, **first, "arrived": len(tally()) - start}
        )
        marks = [len(tally())]
        half = parsed.seconds / 2
        second = step(db, folder, port, window, "deliver", half)
        steps.append({"step": "restart within the window", "clock_offset_seconds": half, **second})
        marks.append(len(tally()))
        steps[-1]["arrived"] = marks[-1] - marks[-2]
        if first["latest_due"]:  # past the last waiting delivery's time, on the real clock plus this
            reopen = (dt.datetime.fromisoformat(first["latest_due"]) - utcnow()).total_seconds() + 1
            third = step(db, folder, port, window, "deliver", reopen)
            steps.append(
                {
                    "step": "restart after the window reopened",
                    "clock_offset_seconds": round(reopen, 1),
                    **third,
                }
            )
            steps[-1]["arrived"] = len(tally()) - marks[-1]
        with open_archive(db) as archive:
            ledger = ledger_state(archive)
            sent_at = sorted(
                row.sent_at.timestamp()
                for row in Ledger(archive, "bench").listing(status="sent")
                if row.sent_at
            )
    seen = tally()[start:]
    recipients = collections.Counter(recipient for _, recipient in seen)
    return {
        "subscribers": count,
        "window": window,
        "steps": steps,
        "arrived": len(seen),
        "readers": len(recipients),
        "duplicates": sum(n - 1 for n in recipients.values() if n > 1),
        "busiest_window_by_ledger_clock": peak_in_window(sent_at, parsed.seconds),
        "ledger": ledger,
    }


# -- driving it --------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    settings = settings_for(Path(args.folder), PAPERBOY_SMTP_WINDOW=args.window)
    offset = dt.timedelta(seconds=args.offset)
    result = asyncio.run(publish(args.db, settings, args.port, args.child, lambda: utcnow() + offset))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="PAPERBOY_SMTP_RATE for part A")
    parser.add_argument("--window", default="300/hour", help="PAPERBOY_SMTP_WINDOW for part B")
    parser.add_argument("--window-subscribers", type=int, default=500)
    parser.add_argument("--skip", choices=("a", "b"), help="leave a part out")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=("publish", "deliver"), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    port = free_port()
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    server = context.Process(target=serve, args=(port, theirs), daemon=True)
    server.start()
    assert mine.recv() == "ready"

    def tally() -> list[tuple[float, str]]:
        mine.send("tally")
        seen: list[tuple[float, str]] = mine.recv()
        return seen

    results: dict[str, Any] = {}
    try:
        if args.skip != "a":
            results["rate"] = part_a(args.subscribers, args.rate, port, tally)
        if args.skip != "b":
            results["window"] = part_b(args.window_subscribers, args.window, port, tally)
    finally:
        mine.close()
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    report(results)


def report(results: dict[str, Any]) -> None:
    if "rate" in results:
        a = results["rate"]
        print(
            f"rate      {a['subscribers']} subscribers at PAPERBOY_SMTP_RATE={a['rate']:g}:"
            f" {a['seconds']:.2f} s = {a['ratio']:.3f} x the floor of {a['floor_seconds']:g} s;"
            " busiest second at the server"
            f" {a['busiest_second']} messages; {a['arrived']} arrived, {a['duplicates']} duplicates"
        )
    if "window" in results:
        b = results["window"]
        print(
            f"window    {b['subscribers']} subscribers, PAPERBOY_SMTP_WINDOW={b['window']} (injected clock):"
        )
        for s in b["steps"]:
            print(
                f"          {s['step']:<36} clock +{s['clock_offset_seconds']:>7.0f} s: sent {s['sent']:>3},"
                f" arrived {s['arrived']:>3}, waiting {s['waiting']:>3}, {s['seconds']:.2f} s"
            )
        print(
            f"          {b['arrived']} arrived for {b['readers']} readers, {b['duplicates']} duplicates;"
            f" most sends in any {b['window']} window by the ledger's clock:"
            f" {b['busiest_window_by_ledger_clock']}"
        )


if __name__ == "__main__":
    main()
