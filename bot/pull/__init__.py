"""Today's candidates: papers pulled from Hugging Face's Daily Papers and from arXiv.

- ``http``: asking a source (timeouts, retries with backoff, Retry-After, a User-Agent), and
  ``SourceError``, the one line said when a source is down or answers something unexpected;
- ``pacing``: arXiv's one request every three seconds, kept across processes;
- ``hf``, ``arxiv``: each API's request and its answer, read strictly into candidates;
- ``upvotes``: the service's daily refresh of archived papers' Hugging Face upvotes.

A pull asks first and stores after, in one transaction (``bot/archive/candidates.py``): a
source that fails halfway leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from bot.archive import candidates
from bot.archive.arxiv_ids import ArxivId
from bot.archive.candidates import PullReport
from bot.archive.store import Archive
from bot.config import Settings
from bot.errors import NotFound
from bot.pull import arxiv, hf
from bot.pull.http import Source, SourceError, user_agent
from bot.pull.pacing import ARXIV_INTERVAL, Pacer

__all__ = ["SourceError", "arxiv_source", "hf_source", "pull_arxiv", "pull_hf"]

Notify = Callable[[str], None]


def hf_source(settings: Settings, notify: Notify | None = None) -> Source:
    agent = user_agent(settings.base_url)
    return Source("Hugging Face", settings.hf_api_url, settings.pull_timeout, agent, notify=notify)


def arxiv_source(archive: Archive, settings: Settings, notify: Notify | None = None) -> Source:
    pace = Pacer(archive, "arxiv", ARXIV_INTERVAL).wait
    agent = user_agent(settings.base_url)
    return Source("arXiv", settings.arxiv_api_url, settings.pull_timeout, agent, pace=pace, notify=notify)


def pull_hf(archive: Archive, settings: Settings, day: dt.date, notify: Notify | None = None) -> PullReport:
    """``day``'s Daily Papers as candidates; ``NotFound`` if the listing is empty."""
    found = hf.daily_papers(hf_source(settings, notify), day)
    if not found:
        raise NotFound(
            f"Hugging Face lists no papers for {day} (a weekend, or a day ahead?): nothing was stored"
        )
    return candidates.store_pull(archive, found, now=_now())


def pull_arxiv(
    archive: Archive, settings: Settings, refs: Sequence[ArxivId], notify: Notify | None = None
) -> PullReport:
    """The papers the curator named as candidates (all of them, or none if one is missing)."""
    found = arxiv.papers(arxiv_source(archive, settings, notify), refs)
    return candidates.store_pull(archive, found, now=_now())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
