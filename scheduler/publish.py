"""Publishing one day: choose its papers, record them, open the deliveries, rebuild the site,
send. ``paperboy publish`` and the scheduler run this same code; the ledger makes it safe to
run twice (the second time opens nothing and sends nothing new).

A subscriber gets a day only if it subscribed before that day's publish time, so a restart that
catches up on missed days, or an operator publishing an old day, sends no back issues to people
who subscribed later.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from bot import metrics, subscriptions
from bot.archive import queries, queue
from bot.archive._sql import insert_for
from bot.archive.queries import load_papers
from bot.archive.schema import corrections, publications
from bot.archive.store import Archive
from bot.channels.base import Channel
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.models import PLATFORMS, Paper, Subscription
from bot.render.environment import Templates
from scheduler.editor import Editor
from scheduler.edits import EditLedger
from scheduler.fanout import Fanout, FanoutReport, Sleep
from scheduler.ledger import Ledger, utcnow
from scheduler.limits import DEFAULTS, Limits
from scheduler.quota import Quota
from scheduler.report import Audience, PublishReport

if TYPE_CHECKING:  # the site's modules load when a publish updates it
    from bot.channels.web.update import SiteReport

log = logging.getLogger("paperboy.publish")
SITE = "web"  # the web archive and feeds: a channel with no subscribers, rebuilt on each publish
#: Subscriptions read and written to the ledger at a time when a day is opened.
AUDIENCE_PAGE = 1000


def email_limits(limits: Mapping[str, Limits], settings: Settings) -> Mapping[str, Limits]:
    """``limits`` with email's claims at least PAPERBOY_SMTP_CONCURRENCY (fewer deliveries under
    way than the SMTP pool has connections would leave connections idle) and its sends at most
    PAPERBOY_SMTP_RATE a second. Under a rate, claims are no more than a second's sends (or the
    pool's size): more would only wait in the limiter, claimed, and count in the email window."""
    email = limits.get("email")
    if email is None:
        return limits
    claims = email.concurrency
    if settings.smtp_rate is not None:
        claims = min(claims, math.ceil(settings.smtp_rate))
    claims = max(claims, settings.smtp_concurrency)
    rate = settings.smtp_rate if settings.smtp_rate is not None else email.per_second
    if (claims, rate) == (email.concurrency, email.per_second):
        return limits
    return {**limits, "email": replace(email, concurrency=claims, per_second=rate)}


def email_quotas(settings: Settings) -> list[Quota]:
    """PAPERBOY_SMTP_WINDOW as the ledger enforces it (``scheduler.quota``)."""
    window = settings.smtp_window
    return [Quota("email", window.count, window.seconds)] if window else []


class Publisher:
    def __init__(
        self,
        archive: Archive,
        settings: Settings,
        channels: Mapping[str, Channel],
        *,
        worker: str,
        clock: object = utcnow,
        sleep: Sleep = asyncio.sleep,
        limits: Mapping[str, Limits] = DEFAULTS,
        templates: Templates | None = None,
        off: Mapping[str, str] | None = None,
    ) -> None:
        self.archive = archive
        self.settings = settings
        self.channels = channels
        #: Why each channel this process does not have is off ("PAPERBOY_TELEGRAM_TOKEN is not set").
        self.off = dict(off or {})
        self.clock = clock
        self.ledger = Ledger(archive, worker, clock)
        self.fanout = Fanout(
            archive,
            self.ledger,
            channels,
            self.contents,
            base_url=settings.base_url,
            limits=email_limits(limits, settings),
            sleep=sleep,
            bounce_limit=settings.bounce_limit,
            quotas=email_quotas(settings),
            version=self.version,
        )
        self.edits = EditLedger(archive, worker, clock)
        self.editor = Editor(self.fanout, self.edits, self.contents, self.version)
        self._templates = templates
        self._contents: dict[tuple[dt.date, int], list[Paper]] = {}
        #: What the last update of the site did (None: none yet, or it failed).
        self.site_report: SiteReport | None = None

    def cutoff(self, day: dt.date) -> dt.datetime:
        """The instant ``day`` is published: subscriptions younger than it don't get the day."""
        return dt.datetime.combine(day, self.settings.publish_at, tzinfo=self.settings.timezone)

    def contents(self, day: dt.date) -> list[Paper]:
        """The papers ``day`` published, as they read now: a correction of the day
        (``bot/archive/published.py``) changes them, and the messages already sent are edited."""
        key = (day, self.version(day))
        if key not in self._contents:
            with self.archive.engine.connect() as conn:
                recorded = conn.execute(
                    select(publications.c.papers).where(publications.c.day == day)
                ).scalar()
                ids = json.loads(recorded) if recorded else [p.id for p in self.choose(day, record=False)[0]]
                self._contents[key] = load_papers(conn, ids)
        return self._contents[key]

    def version(self, day: dt.date) -> int:
        """The day's latest correction (``corrections.id``), 0 if it has none."""
        with self.archive.engine.connect() as conn:
            latest = conn.execute(select(func.max(corrections.c.id)).where(corrections.c.day == day)).scalar()
        return int(latest or 0)

    def choose(self, day: dt.date, *, record: bool) -> tuple[list[Paper], str]:
        """The day's digest; else the next papers from the undated queue (released if ``record``)."""
        papers = queries.digest_papers(self.archive, day)
        if papers:
            return papers, "digest"
        if record:
            ids = queue.release(self.archive, day, self.settings.queue_per_day)
        else:
            ids = queue.released(self.archive, day) or [
                p.id for p in queries.queue(self.archive)[: self.settings.queue_per_day]
            ]
        with self.archive.engine.connect() as conn:
            papers = load_papers(conn, ids)
        return papers, "queue" if papers else "nothing"

    def audience(
        self,
        day: dt.date,
        papers: Sequence[Paper],
        kinds: Sequence[str] | None,
        who: Audience | None = None,
        *,
        backfill: bool = False,
    ) -> Iterator[list[Subscription]]:
        """Who gets ``day``, a page at a time: memory stays flat in the number of subscribers.

        ``who`` counts them by kind and tallies the ones passed over by reason. ``backfill``
        includes those who subscribed after the day's publish time.
        """
        who = who if who is not None else Audience()
        for (kind, status), count in subscriptions.status_counts(self.archive).items():
            if kinds is not None and kind not in kinds:
                who.passed_over["other_channel"] += count
            elif status != "active":
                who.passed_over["inactive"] += count
                who.inactive[status] += count
        cutoff = self.cutoff(day)
        for page in subscriptions.active_pages(self.archive, AUDIENCE_PAGE):
            chosen = []
            # Who joined later but has the day already (a backfill, a welcome): not passed over.
            has_it = self.ledger.holders(day, [sub.id for sub in page if sub.created > cutoff])
            for sub in page:
                if kinds is not None and sub.kind not in kinds:
                    continue  # counted above
                later = sub.created > cutoff and sub.id not in has_it
                if later and not backfill:
                    who.passed_over["joined_after"] += 1
                elif not any(sub.wants(paper.tags) for paper in papers):
                    who.passed_over["tags"] += 1
                else:
                    who.backfilled += later
                    who.kinds[sub.kind] += 1
                    chosen.append(sub)
            yield chosen

    async def publish(
        self,
        day: dt.date,
        *,
        kinds: Sequence[str] | None = None,
        dry_run: bool = False,
        backfill: bool = False,
    ) -> PublishReport:
        """Publish ``day`` to ``kinds`` (channel names: ``discord`` covers its webhooks too, ``web``
        the site; None: everything). ``backfill`` also sends it to those who subscribed later."""
        started = time.monotonic()
        papers, source = self.choose(day, record=not dry_run)
        if not papers:
            return PublishReport(day, "nothing", 0, 0, 0, site=False, dry_run=dry_run)
        only = (
            [kind for name in kinds if name != SITE for kind in PLATFORMS.get(name, (name,))]
            if kinds
            else None
        )
        rebuild = kinds is None or SITE in kinds
        who = Audience()
        report = PublishReport(
            day, source, len(papers), 0, 0, site=rebuild, dry_run=dry_run, who=who, cutoff=self.cutoff(day)
        )
        if dry_run:
            for _page in self.audience(day, papers, only, who, backfill=backfill):
                pass
        else:
            self._record(day, papers)
            for page in self.audience(day, papers, only, who, backfill=backfill):
                report.opened += self.ledger.open(day, page)
            if rebuild:  # after the deliveries are in the ledger: a failed rebuild loses no reader
                self.site_report = None
                # In a thread: the bots that share this loop keep answering while it is written.
                report.site_error = await asyncio.to_thread(self.refresh_site, day)
                report.site = report.site_error is None
                report.site_update = self.site_report
        report.audience = who.count
        report.waiting_off = {kind: n for kind, n in who.kinds.items() if kind not in self.channels}
        if dry_run:
            return report
        # The pages are out before anything is sent (messages link to them); the search index,
        # slow on a large archive, is built while the messages go.
        indexing = asyncio.create_task(asyncio.to_thread(self.refresh_search_index)) if report.site else None
        try:
            report.fanout = await self.deliver()
        finally:
            if indexing is not None:
                report.index_error = await indexing
        log.info(
            "published %s: %d papers (%s), %d subscribers, %d new deliveries",
            day,
            len(papers),
            source,
            report.audience,
            report.opened,
        )
        metrics.publish_took(time.monotonic() - started)
        return report

    async def deliver(self) -> FanoutReport:
        """Send whatever is due for the channels this process has (retries, a restart's
        leftovers), then correct what corrections left behind (``scheduler/edits.py``).

        First, what a dead process had claimed goes back to pending (``Ledger.recover_dead``), so
        a ``publish`` run again after one was killed mid fan-out finishes its work."""
        recovered = self.ledger.recover_dead()
        if recovered:
            log.info("%d deliveries left in flight by a stopped process go out again", recovered)
        if not self.channels:
            return FanoutReport(recovered=recovered)
        report = await self.fanout.run()
        report.recovered = recovered
        report.edits = await self.editor.run()
        return report

    async def email_correction(self, day: dt.date) -> FanoutReport:
        """Tell the day's email subscribers what its latest correction changed, once each."""
        self.edits.open_email(day)
        return await self.deliver()

    def welcome(self, sub: Subscription, *, look_back: int = 30) -> dt.date | None:
        """Queue the latest published day this new subscriber wants (its tags), at most once.

        A subscriber gets no back issues beyond this one; the ledger's unique key makes a second
        welcome (a repeated /subscribe) a no-op. Returns the day queued, or None.
        """
        with self.archive.engine.connect() as conn:
            recent = conn.execute(
                select(publications.c.day).order_by(publications.c.day.desc()).limit(look_back)
            ).scalars()
            days = list(recent)
        for day in days:
            if any(sub.wants(paper.tags) for paper in self.contents(day)):
                return day if self.ledger.open(day, [sub]) else None
        return None

    def published(self, day: dt.date) -> bool:
        with self.archive.engine.connect() as conn:
            return (
                conn.execute(select(publications.c.day).where(publications.c.day == day)).first() is not None
            )

    def refresh_site(self, day: dt.date) -> str | None:
        """Bring the site up to date with ``day`` (published or corrected): only the pages it
        touches are rewritten (``bot/channels/web/update.py``; ``site_report`` says how many and
        how fast). If that fails (a full disk), say why and go on: the day's deliveries are
        already in the ledger, and the next publish or `paperboy export-site` catches up."""
        try:
            self.site_report = self.rebuild_site()
        except Exception as exc:  # any failure of the site must not stop the day reaching readers
            log.error("publishing %s: the web archive was not updated: %s", day, exc)
            return str(exc) or type(exc).__name__
        return None

    def rebuild_site(self) -> SiteReport:
        from bot.channels.web.update import update_site
        from bot.suggest.store import features_of

        templates = self._templates or Templates(DEFAULT_TEMPLATES, self.settings.templates)
        report = update_site(
            self.archive,
            templates,
            self.settings.site_dir,
            base_url=self.settings.base_url,
            site_url=self.settings.site_url,
            # The tag model's folder, found from the archive this publisher has open.
            features=features_of(self.archive, self.settings.data_dir),
            feed_suggested=self.settings.feed_suggested_tags,
        )
        if report.exported:
            log.info("web archive exported whole (%s) in %.1f s", report.reason, report.seconds)
        else:
            log.info(
                "web archive updated in %.2f s: %d files written, %d removed",
                report.seconds,
                report.written,
                report.removed,
            )
        return report

    def refresh_search_index(self) -> str | None:
        """The site's search index after its pages are out, as PAPERBOY_SEARCH_INDEX says:
        ``always`` built anew (Pagefind builds a whole index: minutes and gigabytes on a large
        archive, README's Performance), ``off`` removed; what went wrong, if anything."""
        from bot.channels.web.update import refresh_search_index

        try:
            refresh_search_index(self.settings.site_dir, self.settings.search_index)
        except Exception as exc:  # the pages are out; a stale index must not stop anything
            log.error("the web archive's search index was not rebuilt: %s", exc)
            return str(exc) or type(exc).__name__
        return None

    def _record(self, day: dt.date, papers: Sequence[Paper]) -> None:
        """The first publish of a day fixes what it sends; later ones reuse it."""
        if self.published(day):
            return
        row = {"day": day, "papers": json.dumps([p.id for p in papers]), "created": utcnow()}
        with self.archive.engine.begin() as conn:
            conn.execute(insert_for(conn, publications).values(row).on_conflict_do_nothing())
        self._contents = {key: papers for key, papers in self._contents.items() if key[0] != day}
