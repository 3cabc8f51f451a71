"""What publishing a day reports: whom it went to, whom it passed over and why, what the site
and the fan-out did. ``paperboy publish`` prints it; the service logs it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scheduler.fanout import FanoutReport

if TYPE_CHECKING:  # the web channel loads only when a site is written
    from bot.channels.web.update import SiteReport

#: Why a subscriber does not get a day, tested in this order (the keys of ``publish --json``).
PASSED_OVER = ("other_channel", "inactive", "joined_after", "tags")


@dataclass
class Audience:
    """Who a day goes to, by kind, and how many subscribers it passes over and why: a publish
    that reaches nobody should say whom it left out."""

    kinds: Counter[str] = field(default_factory=Counter)
    passed_over: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PASSED_OVER, 0))
    #: The inactive ones by status (pending: an email not confirmed yet; paused; gone).
    inactive: Counter[str] = field(default_factory=Counter)
    #: Subscribers who joined after the day's publish time and get it anyway (``--backfill``).
    backfilled: int = 0

    @property
    def count(self) -> int:
        return sum(self.kinds.values())


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
    who: Audience = field(default_factory=Audience)
    #: Why the web archive could not be updated (the deliveries went on regardless).
    site_error: str | None = None
    #: Why its search index could not be rebuilt (PAPERBOY_SEARCH_INDEX=always; the pages are out).
    index_error: str | None = None
    #: What the site's update did: files written and removed, seconds, or why it exported whole.
    site_update: SiteReport | None = None
    #: The day's publish time: who subscribed later gets no back issue (unless backfilled).
    cutoff: dt.datetime | None = None
    #: Subscribers whose channel this process has turned off, by kind: their deliveries wait.
    waiting_off: dict[str, int] = field(default_factory=dict)
