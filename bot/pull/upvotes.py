"""The daily refresh of archived papers' Hugging Face upvotes (``paperboy run`` does it once a day).

Which papers: those of Hugging Face listings ingested as text, and those pulled as candidates
from Hugging Face that a post has since taken into the archive, on listing days within the last
PAPERBOY_HF_REFRESH_DAYS days (upvotes come in the first days and weeks; a year of listings
would be a request per day for little). Each such day's listing is read once from the Daily
Papers API and its counts recorded for the archived papers it holds (``bot/archive/upvotes.py``:
beside the entries, never in them). Each day is stored on its own; a source that fails stops the
refresh with ``SourceError``, and the days already read keep what was read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.archive import candidates, upvotes
from bot.archive.store import Archive
from bot.config import Settings
from bot.pull import Notify, hf, hf_source


@dataclass(frozen=True)
class RefreshReport:
    #: The listing days read.
    days: tuple[dt.date, ...]
    #: Archived papers found in those listings.
    papers: int
    #: Of those, how many counts changed (a first count included).
    changed: int


def refresh_upvotes(
    archive: Archive, settings: Settings, today: dt.date, *, notify: Notify | None = None
) -> RefreshReport:
    if settings.hf_refresh_days <= 0:
        return RefreshReport((), 0, 0)
    first = today - dt.timedelta(days=settings.hf_refresh_days)
    with archive.engine.connect() as conn:
        days = upvotes.listing_days(conn, first, today)
    source = hf_source(settings, notify)
    found = changed = 0
    for day in days:
        report = candidates.record_known(archive, hf.daily_papers(source, day), now=dt.datetime.now(dt.UTC))
        found, changed = found + len(report.known), changed + report.refreshed
    return RefreshReport(tuple(days), found, changed)
