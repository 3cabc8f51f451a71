"""Sending due deliveries through their channels, concurrently, inside each platform's limits.

Each delivery is rendered once per (day, kind, tag filter), then sent with retries (tenacity):
a platform's ``retry_after`` is waited exactly; a transient failure backs off exponentially with
jitter; a wait longer than ``max_inline_wait`` is handed to the ledger as a later retry instead
of holding a sending slot. A kind's sending window (``scheduler.quota``: email's
PAPERBOY_SMTP_WINDOW) is checked as deliveries are claimed; when it is full, a reopening within
``max_inline_wait`` is waited for here, a later one is left to the ledger (``paperboy run``
wakes for it). A target that is gone retires its subscription (or follows it to its
new id); a permanent failure is kept with its error. An email address that bounces (the
receiving server refused it) counts a bounce; ``bounce_limit`` in a row retire it, and an
accepted delivery starts the count again. Nothing one delivery does stops another, except a
wrong setting that shows only at send time (``Misconfigured``, a ``PaperboyError``: a refused
token or login, a broken template): that is the operator's, not the readers', so the channel
stops for this run and its deliveries go back to pending, untouched, to go once it is fixed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from bot import metrics, subscriptions
from bot.archive.store import Archive
from bot.channels.base import Bounced, Channel, Misconfigured, Permanent, RetryAfter, TargetGone, Transient
from bot.errors import PaperboyError
from bot.models import Paper, Subscription
from bot.render.context import DigestView, digest_view
from scheduler.ledger import LEASE, Delivery, Ledger
from scheduler.limits import DEFAULTS, Limits, Paced, Pacer, telegram_is_group
from scheduler.quota import Quota

log = logging.getLogger("paperboy.fanout")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[Any]]
#: Given how many deliveries are waiting, a context that yields ``advance(count)``: the CLI's bar.
Progress = Callable[[int], AbstractContextManager[Callable[[int], None]]]


@dataclass
class FanoutReport:
    sent: int = 0
    failed: int = 0
    gone: int = 0
    deferred: int = 0
    errors: list[str] = field(default_factory=list)
    #: What correcting sent messages did (``scheduler/editor.py``), when it ran.
    edits: Any = None
    #: Channels stopped by a wrong setting, and what is wrong: their deliveries are still pending.
    stopped: dict[str, str] = field(default_factory=dict)
    #: Deliveries a dead process had claimed, given back to pending before this run.
    recovered: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.failed + self.gone + self.deferred


class _TooLongToWait(stop_base):
    """Stop retrying in process when the platform asks for a wait longer than ``limit``."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        failure = retry_state.outcome.exception() if retry_state.outcome else None
        return isinstance(failure, RetryAfter) and failure.seconds > self.limit


class Fanout:
    def __init__(
        self,
        archive: Archive,
        ledger: Ledger,
        channels: Mapping[str, Channel],
        contents: Callable[[dt.date], Sequence[Paper]],
        *,
        base_url: str | None,
        limits: Mapping[str, Limits] = DEFAULTS,
        max_attempts: int = 5,
        max_inline_wait: float = 60.0,
        sleep: Sleep = asyncio.sleep,
        bounce_limit: int = 3,
        version: Callable[[dt.date], int] = lambda _day: 0,
        quotas: Sequence[Quota] = (),
        renew_every: float = LEASE.total_seconds() / 5,
    ) -> None:
        self.archive = archive
        self.ledger = ledger
        self.channels = channels
        self.contents = contents
        self.base_url = base_url
        self.max_attempts = max_attempts
        self.max_inline_wait = max_inline_wait
        self.bounce_limit = bounce_limit
        #: The correction each day is at (``corrections.id``; 0: none): what ``contents`` gives.
        self.version = version
        self.renew_every = renew_every  # seconds between renewals of this worker's claims
        self.sleep = sleep
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=30)  # 0.5 s, 1 s, 2 s... plus jitter
        self.limits = limits
        self.quotas = quotas
        self._loop: asyncio.AbstractEventLoop | None = None
        self.pacers: dict[str, Pacer] = {}
        self._rendered: dict[tuple[Any, ...], Any] = {}
        self._sent: list[tuple[int, list[str], int]] = []
        self._versions: dict[dt.date, int] = {}
        self.progress: Progress | None = None

    def pace_this_loop(self) -> None:
        """Limiters and semaphores belong to one event loop: new ones if the loop changed."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self.pacers = {
                kind: Pacer(self.limits.get(kind, Limits()), _group_test(kind)) for kind in self.channels
            }

    @property
    def capacity(self) -> int:
        """Deliveries claimed at once: the most a crash can leave in flight."""
        return sum(self.limits.get(kind, Limits()).concurrency for kind in self.channels)

    async def run(self) -> FanoutReport:
        """Send everything due now; return when nothing claimable is left.

        Claims come in batches and successes are marked in one transaction before the next
        claim, so the ledger costs a fraction of a transaction per delivery; rows claimed but
        not yet marked sent never exceed ``capacity``, the bound on what a crash can duplicate.
        """
        self.pace_this_loop()
        report = FanoutReport()
        running: set[asyncio.Task[None]] = set()
        batch = max(1, self.capacity // 4)
        bar: AbstractContextManager[Callable[[int], None]] = nullcontext(lambda _count: None)
        if self.progress is not None:
            bar = self.progress(self.ledger.pending_count(list(self.channels)))
        renew_at = time.monotonic() + self.renew_every
        with bar as advance:
            while True:
                free = self.capacity - len(running)
                if free >= batch or not running:
                    self._flush()
                    self._versions.clear()  # a correction since the last claim renders anew
                    claimed_at = self.ledger.clock()
                    kinds = [kind for kind in self.channels if kind not in report.stopped]
                    for delivery in self.ledger.claim(kinds, free, self.quotas):
                        running.add(asyncio.create_task(self._deliver(delivery, report)))
                if not running:
                    self._flush()
                    wait = self._window_reopens(kinds, claimed_at)
                    if wait is None:
                        return report
                    await self.sleep(wait)
                    continue
                done, running = await asyncio.wait(
                    running, timeout=self.renew_every, return_when=asyncio.FIRST_COMPLETED
                )
                if time.monotonic() >= renew_at:  # sends that take long keep their claims
                    self.ledger.renew()
                    renew_at = time.monotonic() + self.renew_every
                for task in done:
                    task.result()  # _deliver never raises; a bug here should surface
                advance(len(done))

    def _window_reopens(self, kinds: Sequence[str], claimed_at: dt.datetime) -> float | None:
        """Seconds until a full sending window lets the next delivery go, if that is soon
        enough to wait for here (within ``max_inline_wait``); else None. Only deliveries that
        were not yet due at the last claim count (one due since then: 0, claim again); one that
        was due and still not taken waits for sends under way elsewhere, not for the clock."""
        capped = [quota.kind for quota in self.quotas if quota.kind in kinds]
        when = self.ledger.next_due(capped, after=claimed_at) if capped else None
        if when is None:
            return None
        wait = max(0.0, (when - self.ledger.clock()).total_seconds())
        return wait if wait <= self.max_inline_wait else None

    def _flush(self) -> None:
        if self._sent:
            self.ledger.sent_many(self._sent)
            self._sent = []

    async def _deliver(self, delivery: Delivery, report: FanoutReport) -> None:
        sub = delivery.subscription
        channel = self.channels[sub.kind]
        pacer = self.pacers[sub.kind]
        if sub.kind in report.stopped:  # claimed before its channel stopped: it waits untouched
            self.ledger.release(delivery.id)
            return
        try:
            rendered = self._render(channel, delivery)
            async with pacer.slots:
                started = time.monotonic()
                ids = await self._send(channel, sub, rendered, pacer.pace(sub.target))
                metrics.send_took(sub.kind, time.monotonic() - started)
            self._sent.append((delivery.id, ids, self._version(delivery.day)))  # marked at the next claim
            report.sent += 1
            metrics.delivered(sub.kind, "sent")
            if sub.bounces:  # accepted: earlier bounces were not in a row
                subscriptions.reset_bounces(self.archive, sub.id)
        except RetryAfter as exc:  # longer than is worth holding a slot for
            when = self.ledger.clock() + dt.timedelta(seconds=exc.seconds)
            self.ledger.retry_at(delivery.id, when, str(exc))
            report.deferred += 1
            metrics.delivered(sub.kind, "deferred")
        except (Misconfigured, PaperboyError) as exc:
            self.ledger.release(delivery.id)
            report.stopped.setdefault(sub.kind, str(exc))  # said by the command, or the service's log
        except TargetGone as exc:
            await self._gone(delivery, exc, report)
        except Bounced as exc:
            self._bounced(delivery, exc, report)
        except (Transient, Permanent) as exc:
            self._fail(delivery, f"{type(exc).__name__}: {exc}", report)
        except Exception as exc:  # a channel's bug: this delivery fails, the others go on
            log.exception("delivery %s to %s failed unexpectedly", delivery.id, sub.label)
            self._fail(delivery, f"{type(exc).__name__}: {exc}", report)

    async def _send(self, channel: Channel, sub: Subscription, rendered: Any, pace: Paced) -> list[str]:
        return await self.retrying(
            lambda: channel.send(sub.target, rendered, pace, mention=sub.mention), pace
        )

    async def retrying(self, call: Callable[[], Awaitable[T]], pace: Paced) -> T:
        """``call()`` (one platform call or a few, each after ``pace()``), retried as the platform
        asks: its ``retry_after`` exactly, transient failures with backoff; a wait longer than
        ``max_inline_wait`` or the last failure is raised for the ledger to handle."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((RetryAfter, Transient)),
            stop=stop_any(stop_after_attempt(self.max_attempts), _TooLongToWait(self.max_inline_wait)),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                try:
                    return await call()
                finally:
                    pace.done()  # its last call is over: it counts from now, and holds no slot
        raise AssertionError("unreachable: tenacity re-raises the last failure")

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, RetryAfter):
            return failure.seconds  # exactly what the platform asked for
        return float(self._backoff(state))

    async def _gone(self, delivery: Delivery, exc: TargetGone, report: FanoutReport) -> None:
        sub = delivery.subscription
        if exc.new_target:  # the chat moved (a group became a supergroup): follow it and resend
            subscriptions.move(self.archive, sub.id, exc.new_target)
            log.info("%s moved to %s:%s", sub.label, sub.kind, exc.new_target)
            moved = self.ledger.get([delivery.id])[0]
            await self._deliver(moved, report)
            return
        subscriptions.set_status(self.archive, sub.id, "gone", str(exc))
        self.ledger.gone(delivery.id, str(exc))
        report.gone += 1
        metrics.delivered(sub.kind, "gone")
        log.info("%s is gone: %s", sub.label, exc)

    def _bounced(self, delivery: Delivery, exc: Bounced, report: FanoutReport) -> None:
        sub = delivery.subscription
        error = f"Bounced: {exc}"
        if subscriptions.bounced(self.archive, sub.id, error, self.bounce_limit):
            self.ledger.gone(delivery.id, error)
            report.gone += 1
            metrics.delivered(sub.kind, "gone")
            log.info("%s is gone after %d bounces in a row: %s", sub.label, self.bounce_limit, exc)
            return
        self.ledger.failed(delivery.id, error)
        report.failed += 1
        report.errors.append(f"{sub.label}: {error}")
        metrics.delivered(sub.kind, "failed")

    def _fail(self, delivery: Delivery, error: str, report: FanoutReport) -> None:
        self.ledger.failed(delivery.id, error)
        subscriptions.note_error(self.archive, delivery.subscription.id, error)
        report.failed += 1
        metrics.delivered(delivery.subscription.kind, "failed")
        report.errors.append(f"{delivery.subscription.label}: {error}")

    def _render(self, channel: Channel, delivery: Delivery) -> Any:
        """Rendered once per day (as corrected so far), kind and tag filter: thousands of
        subscribers share it."""
        version = self._version(delivery.day)
        return self.render_for(channel, delivery.day, version, delivery.subscription)

    def render_for(
        self, channel: Channel, day: dt.date, version: int, sub: Subscription, papers: Sequence[Paper] = ()
    ) -> Any:
        """The day at ``version`` (0: as first published, else after that correction) as ``sub``
        gets it; ``papers`` are the day at that version when the caller has them (the current
        ones are read through ``contents``)."""
        key = (day, version, sub.kind, sub.tags)
        if key not in self._rendered:
            chosen = [p for p in (papers or self.contents(day)) if sub.wants(p.tags)]
            self._rendered[key] = channel.render(self.digest_for(day, chosen, sub))
        return self._rendered[key]

    def digest_for(self, day: dt.date, papers: Sequence[Paper], sub: Subscription) -> DigestView:
        """The digest of ``papers`` a subscriber gets: named after its one tag, if it follows one."""
        tag = sub.tags[0] if len(sub.tags) == 1 else None
        return digest_view(
            day, list(papers), self.base_url, tag if tag and all(tag in p.tags for p in papers) else None
        )

    def _version(self, day: dt.date) -> int:
        """The correction a day's content is at, read once per claim (``run`` clears it)."""
        if day not in self._versions:
            self._versions[day] = self.version(day)
        return self._versions[day]


def _group_test(kind: str) -> Callable[[str], bool]:
    return telegram_is_group if kind == "telegram" else lambda _target: False
