"""Publishing one day: choose its papers, record them, rebuild the site, open the deliveries,
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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import select

from bot import subscriptions
from bot.archive import queries, queue
from bot.archive._sql import insert_for
from bot.archive.queries import load_papers
from bot.archive.schema import publications
from bot.archive.store import Archive
from bot.channels.base import Channel
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.models import Paper, Subscription
from bot.render.environment import Templates
from scheduler.fanout import Fanout, FanoutReport, Sleep
from scheduler.ledger import Ledger, utcnow
from scheduler.limits import DEFAULTS, Limits

log = logging.getLogger("paperboy.publish")
SITE = "web"  # the web archive and feeds: a channel with no subscribers, rebuilt on each publish
#: Subscriptions read and written to the ledger at a time when a day is opened.
AUDIENCE_PAGE = 1000


@dataclass
class PublishReport:
    day: dt.date
    source: str  # "digest", "queue" or "nothing"
    papers: int
    audience: int  # subscriptions this day goes to
    opened: int  # deliveries newly written to the ledger
    site: bool
    dry_run: bool
    fanout: FanoutReport | None = None


def email_limits(limits: Mapping[str, Limits], settings: Settings) -> Mapping[str, Limits]:
    """``limits`` with email's claims at least PAPERBOY_SMTP_CONCURRENCY: fewer deliveries under
    way than the SMTP pool has connections would leave connections idle."""
    email = limits.get("email")
    if email is None or email.concurrency >= settings.smtp_concurrency:
        return limits
    return {**limits, "email": replace(email, concurrency=settings.smtp_concurrency)}


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
    ) -> None:
        self.archive = archive
        self.settings = settings
        self.channels = channels
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
        )
        self._templates = templates
        self._contents: dict[dt.date, list[Paper]] = {}

    def cutoff(self, day: dt.date) -> dt.datetime:
        """The instant ``day`` is published: subscriptions younger than it don't get the day."""
        return dt.datetime.combine(day, self.settings.publish_at, tzinfo=self.settings.timezone)

    def contents(self, day: dt.date) -> list[Paper]:
        """The papers ``day`` published (as recorded: an edit after publishing changes nothing sent)."""
        if day not in self._contents:
            with self.archive.engine.connect() as conn:
                recorded = conn.execute(
                    select(publications.c.papers).where(publications.c.day == day)
                ).scalar()
                ids = json.loads(recorded) if recorded else [p.id for p in self.choose(day, record=False)[0]]
                self._contents[day] = load_papers(conn, ids)
        return self._contents[day]

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
        self, day: dt.date, papers: Sequence[Paper], kinds: Sequence[str] | None
    ) -> Iterator[list[Subscription]]:
        """Who gets ``day``, a page at a time: memory stays flat in the number of subscribers."""
        cutoff = self.cutoff(day)
        for page in subscriptions.active_pages(self.archive, AUDIENCE_PAGE):
            yield [
                sub
                for sub in page
                if (kinds is None or sub.kind in kinds)
                and sub.created <= cutoff
                and any(sub.wants(paper.tags) for paper in papers)
            ]

    async def publish(
        self, day: dt.date, *, kinds: Sequence[str] | None = None, dry_run: bool = False
    ) -> PublishReport:
        papers, source = self.choose(day, record=not dry_run)
        if not papers:
            return PublishReport(day, "nothing", 0, 0, 0, site=False, dry_run=dry_run)
        only = [k for k in kinds if k != SITE] if kinds else None
        rebuild = kinds is None or SITE in kinds
        if dry_run:
            count = sum(len(page) for page in self.audience(day, papers, only))
            return PublishReport(day, source, len(papers), count, 0, site=rebuild, dry_run=True)
        self._record(day, papers)
        if rebuild:
            self.rebuild_site()
        count = opened = 0
        for page in self.audience(day, papers, only):
            count += len(page)
            opened += self.ledger.open(day, page)
        report = PublishReport(day, source, len(papers), count, opened, site=rebuild, dry_run=False)
        report.fanout = await self.deliver()
        log.info(
            "published %s: %d papers (%s), %d subscribers, %d new deliveries",
            day,
            len(papers),
            source,
            count,
            opened,
        )
        return report

    async def deliver(self) -> FanoutReport:
        """Send whatever is due for the channels this process has (retries, a restart's leftovers)."""
        if not self.channels:
            return FanoutReport()
        return await self.fanout.run()

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

    def rebuild_site(self) -> None:
        from bot.channels.web.export import export_site

        templates = self._templates or Templates(DEFAULT_TEMPLATES, self.settings.templates)
        export_site(
            self.archive,
            templates,
            self.settings.site_dir,
            base_url=self.settings.base_url,
            site_url=self.settings.site_url,
            search_index=self.settings.search_index,
        )

    def _record(self, day: dt.date, papers: Sequence[Paper]) -> None:
        """The first publish of a day fixes what it sends; later ones reuse it."""
        if self.published(day):
            return
        row = {"day": day, "papers": json.dumps([p.id for p in papers]), "created": utcnow()}
        with self.archive.engine.begin() as conn:
            conn.execute(insert_for(conn, publications).values(row).on_conflict_do_nothing())
        self._contents.pop(day, None)
