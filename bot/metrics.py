"""The service's numbers for Prometheus: what the fan-out, the platforms and the web server did.

One neutral module that every layer may call (the scheduler, the channels, the web app) and that
imports nothing of Paperboy's, so the import graph stays one way. Counting is a function call
(``delivered``, ``rate_limited``, ``send_took``, ``publish_took``, ``web_request``); the web
server's ``/metrics`` turns the counts into Prometheus's text format (``exposition``).

Several processes (``honcho start``: a web and a worker; more workers on PostgreSQL) count into
one directory with prometheus-client's multiprocess mode (``count_in``): each process writes its
own files, and the web process's ``/metrics`` adds them up, so a delivery counts once, in the
process that sent it. Only counters and histograms are kept there (no gauges, whose multiprocess
modes would each need choosing); what is true of the whole service at a moment (the ledger's
backlog, the last publish) is read from the database at the scrape, by the web layer.

The directory is wiped when a process starts and finds no other live process counting into it
(prometheus-client requires a wipe between runs; a lock keeps two starting processes from
wiping each other's files). A process that has ended keeps its counts there while the run lasts.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import values as _values
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

__all__ = ["CONTENT_TYPE_LATEST", "count_in", "exposition"]

ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Seconds one delivery takes to go out (pacing and in-process retries included).
SEND_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
#: Seconds one publish takes, from choosing the papers to the end of its fan-out.
PUBLISH_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0)
_MARKER = re.compile(r"process_(\d+)\.live")


@dataclass
class Instruments:
    deliveries: Counter
    rate_limited: Counter
    retry_after: Counter
    send_seconds: Histogram
    publish_seconds: Histogram
    web_requests: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Instruments:
        return cls(
            deliveries=Counter(
                "paperboy_deliveries",
                "Deliveries this process finished, by channel and outcome (sent, deferred, failed, gone).",
                ["channel", "outcome"],
                registry=registry,
            ),
            rate_limited=Counter(
                "paperboy_rate_limited",
                "HTTP 429 answers received from a platform.",
                ["channel"],
                registry=registry,
            ),
            retry_after=Counter(
                "paperboy_retry_after_seconds",
                "Seconds the platforms' 429 answers asked to wait (retry_after), summed.",
                ["channel"],
                registry=registry,
            ),
            send_seconds=Histogram(
                "paperboy_send_duration_seconds",
                "Seconds a delivery took to go out, pacing and in-process retries included.",
                ["channel"],
                buckets=SEND_BUCKETS,
                registry=registry,
            ),
            publish_seconds=Histogram(
                "paperboy_publish_duration_seconds",
                "Seconds a publish took, from choosing the papers to the end of its fan-out.",
                buckets=PUBLISH_BUCKETS,
                registry=registry,
            ),
            web_requests=Counter(
                "paperboy_web_requests",
                "Requests the web server answered, by route template and status.",
                ["route", "status"],
                registry=registry,
            ),
        )


@dataclass
class _State:
    registry: CollectorRegistry
    directory: Path | None
    instruments: Instruments | None = None


_state = _State(CollectorRegistry(), None)


def instruments() -> Instruments:
    """The instruments, made on first use: after ``count_in`` has chosen where values live."""
    if _state.instruments is None:
        _state.instruments = Instruments.create(_state.registry)
    return _state.instruments


def delivered(channel: str, outcome: str) -> None:
    instruments().deliveries.labels(channel, outcome).inc()


def rate_limited(channel: str, retry_after: float) -> None:
    """A 429 received, asking for ``retry_after`` seconds (waited in process or in the ledger)."""
    instruments().rate_limited.labels(channel).inc()
    instruments().retry_after.labels(channel).inc(max(0.0, retry_after))


def send_took(channel: str, seconds: float) -> None:
    instruments().send_seconds.labels(channel).observe(seconds)


def publish_took(seconds: float) -> None:
    instruments().publish_seconds.observe(seconds)


def web_request(route: str, status: int) -> None:
    instruments().web_requests.labels(route, str(status)).inc()


def count_in(directory: Path | None) -> None:
    """Count into files in ``directory`` from now on, shared with the other processes that count
    there (None: in this process's memory only, as a test or a lone command may)."""
    _state.instruments = None
    _state.registry = CollectorRegistry()
    _state.directory = directory
    if directory is None:
        os.environ.pop(ENV, None)
        _values.ValueClass = _values.MutexValue
        return
    directory.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        _clear_if_first(directory)
        (directory / f"process_{os.getpid()}.live").touch()
    # Set for child processes too; the value class is chosen anew, as prometheus-client chose it
    # at its import, before this process knew where its data directory is.
    os.environ[ENV] = str(directory)
    _values.ValueClass = _values.MultiProcessValue()  # type: ignore[no-untyped-call]


def exposition(*collectors: Collector) -> bytes:
    """The text ``/metrics`` answers: every process's counts (or this one's), and ``collectors``'."""
    registry = CollectorRegistry()
    if _state.directory is not None:
        MultiProcessCollector(registry, path=str(_state.directory))  # type: ignore[no-untyped-call]
    else:
        registry.register(_state.registry)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """The directory's lock (POSIX; elsewhere none, and two processes starting at one instant
    could wipe each other's first counts)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(directory / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _clear_if_first(directory: Path) -> None:
    """Wipe the counts of an earlier run, unless another process of this run is alive; forget
    the markers of processes that have ended either way (their counts stay for the run)."""
    alive = False
    for marker in directory.glob("process_*.live"):
        match = _MARKER.fullmatch(marker.name)
        pid = int(match[1]) if match else 0
        if pid != os.getpid() and _running(pid):
            alive = True
        else:
            marker.unlink(missing_ok=True)
    if not alive:
        for old in directory.glob("*.db"):
            old.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
