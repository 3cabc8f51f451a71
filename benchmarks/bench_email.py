"""Email fan-out benchmark: one seed day to 5,000 subscribers through aiosmtpd on loopback.

    python benchmarks/bench_email.py [--subscribers 5000] [--day 2024-07-11] [--concurrency 4]
        [--claim N] [--baseline 1000] [--memory 1000,5000] [--sink aiosmtpd|chunked] [--tls]
        [--server-loop uvloop|asyncio] [--json]

An aiosmtpd server runs in a second process (``Controller`` on 127.0.0.1 on a uvloop event loop,
a handler that counts what it accepts per recipient and the connections that sent mail).
Against it, in one run:

- **baseline**: a plain loop, one smtplib connection per message, for ``--baseline`` readers,
  each reader's copy built with the email package (``build_message``, with its own link) and
  sent with ``SMTP.send_message`` then QUIT: what the simplest sender does. Also timed: the
  same loop sending copies built beforehand (the connections' cost alone).
- **Paperboy**: a fresh SQLite archive with the seeds and ``--subscribers`` email subscriptions;
  ``Publisher.publish(day)``'s work (record the day, open one delivery per subscriber, fan out)
  through the real ``EmailChannel`` and ``SmtpPool`` (``--concurrency`` connections, as
  PAPERBOY_SMTP_CONCURRENCY): the ledger, rendering, signing each reader's link, addressing each
  copy, sending, marking. Messages per second over all of it, and the server's tally: each
  reader exactly once, over how many connections. The fan-out claims deliveries as
  ``paperboy publish`` does (scheduler/limits.py's EMAIL, raised to the pool's size by the
  Publisher); ``--claim`` overrides it.
- **memory**: the same in a fresh process for each size in ``--memory``: its peak RSS
  (``ru_maxrss``), and tracemalloc's peaks (a second run, as tracing slows it) while the day's
  deliveries are opened and while they are sent.

``--sink chunked`` swaps aiosmtpd's line-by-line DATA reader for one that reads in chunks (the
stock one caps a server process near 300 messages/s of 36 KB here, so that the prebuilt loop and
Paperboy both measure it). ``--tls`` is submission as on port 587, PAPERBOY_SMTP_URL's default:
the server requires STARTTLS (a self-signed certificate from the openssl command) and then AUTH;
the baseline pays both on each of its connections, Paperboy's pool once per connection.
The default day, 2024-07-11, is six papers: a 36 KB message.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import dataclasses
import datetime as dt
import json
import logging
import multiprocessing
import os
import resource
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.archive.parsers import ParseOptions, parse_file  # noqa: E402
from bot.archive.schema import subscriptions  # noqa: E402
from bot.archive.store import Archive, open_archive  # noqa: E402
from bot.channels.email.sender import EmailChannel, unsubscribe_url  # noqa: E402
from bot.channels.email.smtp import SmtpPool, parse_smtp_url  # noqa: E402
from bot.channels.email.tokens import Signer  # noqa: E402
from bot.config import DEFAULT_TEMPLATES, Settings  # noqa: E402
from bot.render.context import digest_view  # noqa: E402
from bot.render.email import build_message, render_email  # noqa: E402
from bot.render.environment import Templates  # noqa: E402
from scheduler.limits import DEFAULTS  # noqa: E402
from scheduler.publish import Publisher  # noqa: E402
from tests.smtp_server import accept_login  # noqa: E402

DAY = dt.date(2024, 7, 11)
TODAY = dt.date(2026, 11, 23)  # as in the tests: parsing does not depend on the clock
LONG_AGO = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
KEY = "benchmark-key-" + "x" * 32
SENDER = "Paperboy <digest@paperboy.example>"
LOGIN = ("bench", "bench-password")


# -- the server, in its own process -------------------------------------------------------------
class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.per_recipient: collections.Counter[str] = collections.Counter()
        self.sessions: set[int] = set()
        self.keep: list[Session] = []  # so that ids stay unique while counted
        self.size = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            if id(session) not in self.sessions:
                self.sessions.add(id(session))
                self.keep.append(session)
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self.lock:
            self.per_recipient.update(envelope.rcpt_tos)
            self.size = len(envelope.content or b"")
        return "250 OK"

    def tally(self) -> dict[str, Any]:
        with self.lock:
            counts = collections.Counter(self.per_recipient.values())
            result = {
                "messages": sum(self.per_recipient.values()),
                "recipients": len(self.per_recipient),
                "duplicates": sum(n - 1 for n in self.per_recipient.values() if n > 1),
                "copies_per_recipient": dict(counts),
                "connections": len(self.sessions),
                "message_bytes": self.size,
            }
            self.per_recipient.clear()
            self.sessions.clear()
            self.keep.clear()
        return result


class ChunkedData(SMTP):
    """aiosmtpd's SMTP, but DATA read in chunks up to the final dot.

    Stock aiosmtpd reads DATA a line at a time (an await and a log call per line: 500 of them for
    a 36 KB message), which caps one server process near 300 messages/s on this machine: a sender
    measured against it measures aiosmtpd. Everything else (greeting, EHLO, MAIL, RCPT, the
    handler, the replies) is aiosmtpd's own."""

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos or arg:
            await self.push("503 Error: need RCPT command" if arg == "" else "501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = bytearray()
        while not data.endswith(b"\r\n.\r\n"):
            chunk = await self._reader.read(1 << 16)
            if not chunk:
                return
            data += chunk
        content = b"\r\n" + bytes(data[:-3])
        self.envelope.content = self.envelope.original_content = content.replace(b"\r\n..", b"\r\n.")[2:]
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status if isinstance(status, str) else "250 OK")


class ChunkedController(Controller):
    def factory(self) -> SMTP:
        return ChunkedData(self.handler, **self.SMTP_kwargs)


def serve(port: int, pipe: Connection, sink: str, tls: tuple[str, str] | None, loop: str) -> None:
    counter = Counter()
    kind = ChunkedController if sink == "chunked" else Controller
    options: dict[str, Any] = {}
    if tls:  # submission as on port 587: STARTTLS first, then AUTH, both required
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
        options.update(tls_context=context, require_starttls=True, auth_required=True)
        options["authenticator"] = accept_login(*LOGIN)
        # aiosmtpd's AUTH sets its own deprecated Session.login_data and logs a warning each time
        logging.getLogger("mail.log").setLevel(logging.ERROR)
    if loop == "uvloop":  # the server's event loop takes less of the machine that both sides share
        import uvloop

        options["loop"] = uvloop.new_event_loop()
    controller = kind(counter, hostname="127.0.0.1", port=port, **options)
    controller.start()
    pipe.send("ready")
    try:
        while pipe.recv() == "tally":
            pipe.send(counter.tally())
    except EOFError:
        pass
    finally:
        controller.stop()


def self_signed(folder: Path) -> tuple[str, str]:
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subject = ("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1")
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", *subject]
    subprocess.run([*command, "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- Paperboy ----------------------------------------------------------------------------------
def fresh_archive(folder: Path, count: int) -> Archive:
    archive = open_archive(f"sqlite:///{folder}/archive.db")
    for path in sorted((ROOT / "seeds").iterdir()):
        archive.ingest(parse_file(path, ParseOptions(today=TODAY)))
    rows = [
        {"kind": "email", "target": reader(n), "tags": "[]", "status": "active", "created": LONG_AGO}
        for n in range(count)
    ]
    if rows:
        with archive.engine.begin() as conn:
            conn.execute(insert(subscriptions), rows)
    return archive


def reader(n: int) -> str:
    return f"reader{n:05}@example.org"


def settings_for(folder: Path, concurrency: int) -> Settings:
    env = {
        "PAPERBOY_DATA_DIR": str(folder),
        "PAPERBOY_BASE_URL": "https://paperboy.example",
        "PAPERBOY_FROM": SENDER,
        "PAPERBOY_SMTP_CONCURRENCY": str(concurrency),
    }
    return dataclasses.replace(Settings.from_env(env), site_dir=folder / "site")


@dataclasses.dataclass
class Run:
    seconds: float = 0.0
    opening: float = 0.0
    sent: int = 0
    failed: int = 0
    connections: int = 0
    open_peak: int = 0  # tracemalloc's peak while the day's deliveries were opened
    fanout_peak: int = 0  # and while they were sent
    claim: int = 0  # email deliveries the fan-out claimed at once


async def publish(
    archive: Archive, settings: Settings, port: int, day: dt.date, claim: int | None, tls: bool, trace: bool
) -> Run:
    """What ``Publisher.publish(day)`` does, timed whole, with memory seen per phase: opening
    the day's deliveries (one ledger row per subscriber), then the fan-out that sends them."""
    login = "{}:{}@".format(*LOGIN) if tls else ""
    pool = SmtpPool(parse_smtp_url(f"smtp://{login}127.0.0.1:{port}"), size=settings.smtp_concurrency)
    channel = EmailChannel(settings, pool, Signer(KEY), Templates(DEFAULT_TEMPLATES))
    limits = DEFAULTS  # as `paperboy publish` has them: the Publisher raises email's to the pool's size
    if claim:
        limits = {**DEFAULTS, "email": dataclasses.replace(DEFAULTS["email"], concurrency=claim)}
    opener = Publisher(archive, settings, {}, worker="bench", limits=limits)
    publisher = Publisher(archive, settings, {"email": channel}, worker="bench", limits=limits)
    run = Run()
    started = time.perf_counter()
    if trace:
        tracemalloc.start()
    await opener.publish(day, kinds=["email"])  # no channel here: records the day, opens, sends nothing
    run.opening = time.perf_counter() - started
    if trace:
        run.open_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
    report = await publisher.deliver()
    run.seconds = time.perf_counter() - started
    if trace:
        run.fanout_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    await channel.close()
    run.sent, run.failed, run.connections = report.sent, report.failed, pool.connections_opened
    run.claim = publisher.fanout.limits["email"].concurrency
    return run


def run_paperboy(
    count: int, port: int, day: dt.date, concurrency: int, claim: int | None, tls: bool, trace: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        archive = fresh_archive(folder, count)
        settings = settings_for(folder, concurrency)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        run = asyncio.run(publish(archive, settings, port, day, claim, tls, trace))
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        archive.close()
    return {
        "subscribers": count,
        "seconds": round(run.seconds, 3),
        "opening_seconds": round(run.opening, 3),
        "per_second": round(count / run.seconds, 1),
        "sent": run.sent,
        "failed": run.failed,
        "connections_opened": run.connections,
        "claim": run.claim,
        "peak_rss_mib": round(rss_after / 1024, 1),
        "rss_growth_mib": round((rss_after - rss_before) / 1024, 1),
        "tracemalloc_open_mib": round(run.open_peak / 2**20, 2) if trace else None,
        "tracemalloc_fanout_mib": round(run.fanout_peak / 2**20, 2) if trace else None,
    }


# -- the baseline ------------------------------------------------------------------------------
def baseline(count: int, port: int, day: dt.date, tls: bool) -> dict[str, Any]:
    """One smtplib connection per message; each reader's copy built with the email package."""
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        archive = fresh_archive(folder, 0)
        settings = settings_for(folder, 1)
        papers = Publisher(archive, settings, {}, worker="baseline").contents(day)
        archive.close()
    templates = Templates(DEFAULT_TEMPLATES)
    signer = Signer(KEY)
    view = digest_view(day, papers, settings.base_url)
    rendered = render_email(templates, view, unsubscribe_url="https://paperboy.invalid/unsubscribe-link")

    def copy(n: int) -> Any:
        link = unsubscribe_url(settings, signer, reader(n))
        headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        now = dt.datetime.now(dt.UTC)
        return build_message(
            rendered, sender=SENDER, recipient=reader(n), date=now, headers=headers, unsubscribe_url=link
        )

    def connect() -> smtplib.SMTP:
        smtp = smtplib.SMTP("127.0.0.1", port)
        if tls:  # what port 587 asks of each connection
            smtp.starttls(context=ssl.create_default_context())
            smtp.login(*LOGIN)
        return smtp

    started = time.perf_counter()
    for n in range(count):
        with connect() as smtp:
            smtp.send_message(copy(n))
    built_each = time.perf_counter() - started
    prebuilt = [copy(n).as_bytes() for n in range(count)]
    started = time.perf_counter()
    for n, data in enumerate(prebuilt):
        with connect() as smtp:
            smtp.sendmail("digest@paperboy.example", [reader(n)], data)
    sent_only = time.perf_counter() - started
    return {
        "messages": count,
        "per_second": round(count / built_each, 1),
        "per_second_prebuilt": round(count / sent_only, 1),
    }


# -- driving it --------------------------------------------------------------------------------
def child(args: argparse.Namespace) -> None:
    """One publish in this fresh process (its RSS is its own), printed as JSON."""
    result = run_paperboy(
        args.subscribers, args.port, args.day, args.concurrency, args.claim, args.tls, args.trace
    )
    print(json.dumps(result))


def memory_run(count: int, port: int, args: argparse.Namespace, trace: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", "--port", str(port), "--subscribers", str(count)]
    command += ["--day", args.day.isoformat(), "--concurrency", str(args.concurrency)]
    command += ["--claim", str(args.claim)] if args.claim else []
    command += ["--tls"] if args.tls else []
    command += ["--trace"] if trace else []
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=5000)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DAY)
    parser.add_argument("--concurrency", type=int, default=4, help="PAPERBOY_SMTP_CONCURRENCY")
    parser.add_argument(
        "--claim",
        type=int,
        default=None,
        help="email deliveries the fan-out claims at once (default: as Paperboy sets it)",
    )
    parser.add_argument("--baseline", type=int, default=1000, help="messages the smtplib loop sends")
    parser.add_argument("--memory", default="1000,5000", help="sizes for the memory runs ('' for none)")
    parser.add_argument("--sink", choices=("aiosmtpd", "chunked"), default="aiosmtpd")
    parser.add_argument(
        "--tls", action="store_true", help="submission as on port 587: STARTTLS and AUTH, both required"
    )
    parser.add_argument("--server-loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    port = free_port()
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    folder = Path(tempfile.mkdtemp())
    tls = self_signed(folder) if args.tls else None
    if tls:
        os.environ["SSL_CERT_FILE"] = tls[0]  # both clients trust the benchmark's certificate
    server = context.Process(target=serve, args=(port, theirs, args.sink, tls, args.server_loop), daemon=True)
    server.start()
    assert mine.recv() == "ready"

    def tally() -> dict[str, Any]:
        mine.send("tally")
        result: dict[str, Any] = mine.recv()
        return result

    results: dict[str, Any] = {
        "day": args.day.isoformat(),
        "concurrency": args.concurrency,
        "sink": args.sink,
        "server_loop": args.server_loop,
        "tls": bool(tls),
    }
    try:
        results["baseline"] = baseline(args.baseline, port, args.day, bool(tls))
        results["baseline"]["server"] = tally()
        results["paperboy"] = run_paperboy(
            args.subscribers, port, args.day, args.concurrency, args.claim, bool(tls), False
        )
        results["paperboy"]["server"] = tally()
        results["speedup"] = round(results["paperboy"]["per_second"] / results["baseline"]["per_second"], 2)
        results["speedup_vs_prebuilt"] = round(
            results["paperboy"]["per_second"] / results["baseline"]["per_second_prebuilt"], 2
        )
        results["memory"] = []
        for size in [int(s) for s in args.memory.split(",") if s.strip()]:
            plain = memory_run(size, port, args, trace=False)
            traced = memory_run(size, port, args, trace=True)
            tally()
            results["memory"].append(
                {
                    "subscribers": size,
                    "peak_rss_mib": plain["peak_rss_mib"],
                    "rss_growth_mib": plain["rss_growth_mib"],
                    "tracemalloc_open_mib": traced["tracemalloc_open_mib"],
                    "tracemalloc_fanout_mib": traced["tracemalloc_fanout_mib"],
                }
            )
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
    base, paper = results["baseline"], results["paperboy"]
    server = paper["server"]
    tls = ", STARTTLS + AUTH" if results["tls"] else ", no TLS, no AUTH"
    print(
        f"day {results['day']}: {server['message_bytes']:,} bytes a message; sink {results['sink']}"
        f" on {results['server_loop']}{tls}"
    )
    print(
        f"baseline  smtplib, a connection per message: {base['per_second']:.0f} msg/s built each"
        f" ({base['per_second_prebuilt']:.0f} msg/s prebuilt), {base['messages']} messages"
    )
    print(
        f"paperboy  {paper['subscribers']} subscribers in {paper['seconds']:.2f} s: {paper['per_second']:.0f}"
        f" msg/s over {paper['connections_opened']} connections (concurrency {results['concurrency']},"
        f" claiming {paper['claim']}; {paper['opening_seconds']:.2f} s of it opening the day)"
    )
    speedup, prebuilt = results["speedup"], results["speedup_vs_prebuilt"]
    print(f"speedup   {speedup:.2f}x the baseline ({prebuilt:.2f}x the prebuilt loop)")
    print(
        f"server    {server['messages']} messages to {server['recipients']} recipients,"
        f" {server['duplicates']} duplicates, {server['connections']} connections"
    )
    for row in results["memory"]:
        print(
            f"memory    {row['subscribers']:>5} subscribers: peak RSS {row['peak_rss_mib']} MiB"
            f" (+{row['rss_growth_mib']} in the publish); tracemalloc peak opening the day"
            f" {row['tracemalloc_open_mib']} MiB, sending it {row['tracemalloc_fanout_mib']} MiB"
        )


if __name__ == "__main__":
    main()
