"""``paperboy run``: the scheduler, the inbox, retries and the web server in one asyncio process.

The ledger, not the scheduler's memory, decides what is due: at start and at each day's publish
time, every day since the later of the service's first start and ``catchup_days`` ago that has
not been published is published, in order. So a process started late, or after days down,
sends each missed day once, and a fresh install sends no back issues. On PostgreSQL only the
holder of an advisory lock runs the schedule (APScheduler's job stores must not be shared);
any number of workers send deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Connection, insert, select, text

from bot.archive._sql import insert_for
from bot.archive.schema import service_state
from bot.archive.store import Archive
from bot.channels.base import Frontend
from bot.config import Settings
from bot.desk import drafts
from bot.models import Subscription
from scheduler.fanout import FanoutReport
from scheduler.inbox import Inbox
from scheduler.ledger import utcnow
from scheduler.publish import Publisher
from scheduler.report import PublishReport

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from bot.channels.email.signup import Mailer
    from bot.channels.web.console.actions import Operations
    from bot.channels.web.server import WebServer

log = logging.getLogger("paperboy.service")
LEADER_LOCK = 7_262_110_905  # any constant: the advisory lock that makes one process the scheduler
#: The least rest of the delivery loop: a delivery due now that no one could claim (a full email
#: window, its sends still under way) is looked at again after this, not in a busy loop.
MIN_REST = 1.0
#: The service_state key of the day Hugging Face upvotes were last refreshed.
UPVOTES_REFRESHED = "hf_upvotes_refreshed"


class Service:
    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        publisher: Publisher,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        inbox_every: float = 5.0,
        deliver_every: float = 30.0,
        sweep_every: float = 600.0,
        upvotes_every: float = 3600.0,
        suggest_every: float = 60.0,
    ) -> None:
        self.archive = archive
        self.settings = settings
        self.publisher = publisher
        self.clock = clock
        self.inbox = Inbox(archive, settings.inbox)
        self.inbox_every = inbox_every
        self.deliver_every = deliver_every
        self.sweep_every = sweep_every
        self.upvotes_every = upvotes_every
        #: How often the tag suggestions are brought up to date (at once after the inbox stored
        #: a post); looking costs two small queries when nothing changed (bot/suggest/refresh.py).
        self.suggest_every = suggest_every
        self._suggest_wake = asyncio.Event()
        self._stopping = threading.Event()
        self._lock: Connection | None = None
        self._publishing = asyncio.Lock()
        self._wake = asyncio.Event()
        self._delivered_at: dt.datetime | None = None  # when the last delivery round began

    def first_start(self) -> dt.date:
        """The day the service first ran here; catch-up never reaches back before it."""
        today = self.clock().astimezone(self.settings.timezone).date()
        with self.archive.engine.begin() as conn:
            stored = conn.execute(
                select(service_state.c.value).where(service_state.c.key == "first_start")
            ).scalar()
            if stored is None:
                conn.execute(insert(service_state).values(key="first_start", value=today.isoformat()))
                return today
        return dt.date.fromisoformat(stored)

    def due_days(self) -> list[dt.date]:
        """The days whose publish time has passed and that are not published yet, oldest first."""
        now = self.clock().astimezone(self.settings.timezone)
        last = now.date() if now.time() >= self.settings.publish_at else now.date() - dt.timedelta(days=1)
        first = max(self.first_start(), last - dt.timedelta(days=max(self.settings.catchup_days - 1, 0)))
        days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
        return [day for day in days if not self.publisher.published(day)]

    async def publish_due(self) -> list[PublishReport]:
        async with self._publishing:
            reports = []
            for day in self.due_days():
                report = await self.publisher.publish(day)
                reports.append(report)
                _say_stopped(report.fanout)
                if report.source == "nothing":
                    log.info("%s: nothing to publish", day)
            return reports

    async def publish_now(self, day: dt.date) -> PublishReport:
        """A curator's "publish now" (``bot.desk``): the day goes out at once, whatever its time;
        for a day that has gone out, what was sent is brought in line with the archive."""
        async with self._publishing:
            return await self.publisher.publish(day)

    def leads(self) -> bool:
        """Whether this process runs the schedule: always on SQLite, by advisory lock on PostgreSQL."""
        if self.archive.dialect != "postgresql":
            return True
        if self._lock is None:
            conn = self.archive.engine.connect()
            if conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK}).scalar():
                conn.commit()
                self._lock = conn  # held as long as this connection lives
            else:
                conn.close()
        return self._lock is not None

    def resign(self) -> None:
        """Give the schedule up. A pooled connection outlives close(), so unlock explicitly;
        a process that dies loses its session, and PostgreSQL frees the lock by itself."""
        if self._lock is not None:
            self._lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK})
            self._lock.commit()
            self._lock.close()
            self._lock = None

    async def run(
        self,
        stop: asyncio.Event,
        *,
        web: bool = True,
        frontends: Sequence[Frontend] = (),
        mailer: Mailer | None = None,
        routes: Sequence[BaseRoute] = (),
        console: Operations | None = None,
    ) -> None:
        """Until ``stop`` is set. With ``web``, the web server answers on PAPERBOY_HOST:PORT,
        with the frontends' routes (a webhook), ``routes`` (``/metrics``), given a ``mailer``
        email sign-up, and given ``console`` the operator console (when its password is set)."""
        scheduler = AsyncIOScheduler(timezone=self.settings.timezone)
        trigger = CronTrigger(
            hour=self.settings.publish_at.hour,
            minute=self.settings.publish_at.minute,
            timezone=self.settings.timezone,
        )
        # No misfire window of APScheduler's: publish_due finds every missed day itself.
        scheduler.add_job(
            self._scheduled,
            trigger,
            id="daily-digest",
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )
        scheduler.start()
        deliver = self._every(self._until_due, self._deliver, wake=self._wake)
        tasks = [asyncio.create_task(deliver, name="deliver")]
        tasks.append(asyncio.create_task(self._every(self.inbox_every, self._scan), name="inbox"))
        tasks.append(asyncio.create_task(self._every(self.sweep_every, self._sweep), name="drafts"))
        refresh = self._every(self.upvotes_every, self._refresh_upvotes)
        tasks.append(asyncio.create_task(refresh, name="upvotes"))
        suggest = self._every(self.suggest_every, self._suggest, wake=self._suggest_wake)
        tasks.append(asyncio.create_task(suggest, name="suggest"))
        server: WebServer | None = None
        started: list[Frontend] = []
        try:
            if web:
                server = await self._serve(frontends, mailer, routes, console)
            for frontend in frontends:
                await frontend.start()
                started.append(frontend)
                log.info("%s bot is answering", frontend.name)
            await self._scheduled()
            await stop.wait()
        finally:
            if server is not None:  # first: no new requests (webhook updates) while the rest stops
                await server.stop()
            for frontend in reversed(started):
                try:
                    await frontend.stop()
                except Exception:
                    log.exception("%s bot did not stop cleanly", frontend.name)
            scheduler.shutdown(wait=False)
            self._stopping.set()  # a refresh under way gives up at its next step
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.resign()

    async def _serve(
        self,
        frontends: Sequence[Frontend],
        mailer: Mailer | None,
        extra: Sequence[BaseRoute],
        console: Operations | None = None,
    ) -> WebServer:
        from bot.channels.web.app import make_app
        from bot.channels.web.server import start

        routes = [*extra, *(route for frontend in frontends for route in frontend.routes)]
        app = make_app(self.settings, self.archive, routes, mailer, console=console)
        server = await start(app, self.settings.host, self.settings.port)
        log.info("serving %s on %s", self.settings.site_dir, server.url)
        return server

    async def _scheduled(self) -> None:
        if self.leads():
            await self.publish_due()

    async def _deliver(self) -> None:
        self._delivered_at = self.publisher.ledger.clock()
        _say_stopped(await self.publisher.deliver())

    def _until_due(self) -> float:
        """How long the delivery loop rests: until the next delivery that waits on a clock may go
        (a platform's retry-after, the email window reopening), at most ``deliver_every``; one
        that came due during the round just made goes after ``MIN_REST``."""
        ledger = self.publisher.ledger
        when = ledger.next_due(list(self.publisher.channels), after=self._delivered_at)
        if when is None:
            return self.deliver_every
        rest: float = (when - ledger.clock()).total_seconds()
        return min(self.deliver_every, max(MIN_REST, rest))

    async def _scan(self) -> None:
        if await asyncio.to_thread(self.inbox.scan):
            self._suggest_wake.set()
            await self._scheduled()  # a post for a day already due goes out now
        if self.inbox.corrected:  # a day that had gone out was corrected: its site, then its messages
            days, self.inbox.corrected = self.inbox.corrected, []
            await asyncio.to_thread(self.publisher.refresh_site, days[-1])
            self._wake.set()
            await asyncio.to_thread(self.publisher.refresh_search_index)  # PAPERBOY_SEARCH_INDEX=always

    async def _suggest(self) -> None:
        """Tag suggestions and related papers follow the archive (inbox, desk, other processes'
        ingests); on PostgreSQL only the schedule's holder computes them."""
        refreshed = self.leads() and await asyncio.to_thread(self.refresh_suggestions)
        if refreshed and self.settings.site_dir.is_dir():  # its tag and paper pages show them
            await asyncio.to_thread(self.publisher.refresh_site, self.clock().date())

    def refresh_suggestions(self) -> bool:
        """Whether the suggestions or the features changed."""
        from bot.suggest.refresh import Interrupted, refresh
        from bot.suggest.store import features_of

        folder = features_of(self.archive, self.settings.data_dir)
        try:
            report = refresh(self.archive, folder, stop=self._stopping.is_set)
        except Interrupted:
            return False
        if not report.unchanged:
            log.info(
                "tag suggestions %s: %d papers analysed, %d tags trained, %d suggesting (%.1f s)",
                "built anew" if report.rebuilt else "updated",
                report.analysed,
                len(report.retrained),
                len(report.suggesting),
                report.seconds,
            )
        return not report.unchanged and not report.deferred

    async def _sweep(self) -> None:
        """Curators' drafts left alone past their lifetime go (``bot.desk.drafts``)."""
        swept = await asyncio.to_thread(drafts.sweep, self.archive, now=self.clock())
        if swept:
            log.info("%d expired drafts deleted", swept)

    async def _refresh_upvotes(self) -> None:
        """Once a day (the first look of each day in PAPERBOY_TIMEZONE that succeeds), the Hugging
        Face upvotes of archived papers (``bot/pull/upvotes.py``), by the schedule's owner only; a
        source that fails is said in one line and tried again at the next look, an hour on."""
        from bot.pull import SourceError
        from bot.pull.upvotes import refresh_upvotes

        if self.settings.hf_refresh_days <= 0 or not self.leads():
            return
        today = self.clock().astimezone(self.settings.timezone).date()
        if self._state(UPVOTES_REFRESHED) == today.isoformat():
            return
        try:
            report = await asyncio.to_thread(
                refresh_upvotes, self.archive, self.settings, today, notify=log.info
            )
        except SourceError as exc:
            log.warning("upvotes not refreshed: %s; trying again in %g s", exc, self.upvotes_every)
            return
        self._set_state(UPVOTES_REFRESHED, today.isoformat())
        log.info(
            "Hugging Face upvotes refreshed: %d listing days read, %d archived papers, %d changed",
            len(report.days),
            report.papers,
            report.changed,
        )
        if report.changed and self.settings.site_dir.is_dir():
            await asyncio.to_thread(self.publisher.refresh_site, today)

    def _state(self, key: str) -> str | None:
        with self.archive.engine.connect() as conn:
            value: str | None = conn.execute(
                select(service_state.c.value).where(service_state.c.key == key)
            ).scalar()
            return value

    def _set_state(self, key: str, value: str) -> None:
        with self.archive.engine.begin() as conn:
            stmt = insert_for(conn, service_state).values(key=key, value=value)
            conn.execute(stmt.on_conflict_do_update(index_elements=["key"], set_={"value": value}))

    async def subscribed(self, sub: Subscription) -> dt.date | None:
        """A chat just subscribed: queue the latest digest for it (PAPERBOY_SEND_LATEST) and
        send it now rather than at the next delivery round."""
        if not self.settings.send_latest:
            return None
        day = await asyncio.to_thread(self.publisher.welcome, sub)
        if day is not None:
            self._wake.set()
        return day

    async def _every(
        self, every: float | Callable[[], float], job: Callable[[], Any], wake: asyncio.Event | None = None
    ) -> None:
        """Run ``job`` again and again, resting ``every`` seconds (or as long as ``every()`` says)
        in between, or until ``wake`` is set."""
        while True:
            seconds = every if isinstance(every, float | int) else self.deliver_every
            try:
                await job()
                if callable(every):
                    seconds = every()
            except Exception:
                log.exception("%s failed; trying again in %g s", getattr(job, "__name__", job), seconds)
            if wake is None:
                await asyncio.sleep(seconds)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), seconds)
            wake.clear()


def _say_stopped(report: FanoutReport | None) -> None:
    """A channel a wrong setting stopped: its deliveries wait, and each round says so until fixed."""
    if report is None:
        return
    edits = report.edits.stopped if report.edits else {}
    for kind, problem in {**edits, **report.stopped}.items():
        log.warning("%s is stopped, its deliveries wait in the ledger: %s", kind, problem)
