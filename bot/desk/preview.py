"""The preview of a curator's post: what it says, what is odd about it, and what it will send.

A post is read by the same parsers as ``paperboy ingest`` and then *rehearsed*: stored inside a
transaction that is rolled back. So the preview shows exactly what confirming will do, by the
same code: the day's papers as subscribers will get them (with the day's other posts, and merged
with what the archive already knows of each paper), and for a day that has gone out, the
correction it will record, paper by paper. Nothing outlives the rollback.

Warnings do not stop a post; errors do (and are located by line, as ``ingest`` reports them).
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import Connection, select

from bot.archive.corrections import PaperChange
from bot.archive.parsers import Document, ParseOptions, parse_document
from bot.archive.published import write_post
from bot.archive.queries import day_papers_in, load_papers, tag_counts
from bot.archive.schema import entries, publications, sources
from bot.archive.store import Archive
from bot.desk.changes import ChangeView, describe
from bot.desk.retag import Offer, at_most, offer, offers, still_shown
from bot.errors import ParseError
from bot.models import Digest, Paper, TagCount
from bot.render.context import DigestView, digest_view

#: How alike a new tag must be to a known one, spelt alike (``_spelling``), to be worth a
#: warning: ``llms`` and ``llm`` score 0.86, ``pretraining`` and ``reasoning`` 0.7.
CLOSE_TAG = 0.8
CLOSE_TAGS_SHOWN = 3
#: The most "already in the archive" places named per paper.
PLACES_SHOWN = 2


@dataclass(frozen=True)
class Problem:
    """A warning or an error, at a line of the post when there is one."""

    text: str
    line: int | None = None


@dataclass(frozen=True)
class Entry:
    """A paper of the post, as the preview lists it."""

    title: str
    tags: tuple[str, ...]
    line: int
    #: Tags the model suggests that the curator did not write (``retag``), best first.
    offered: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preview:
    """What a post would do. ``errors``: it cannot be stored as it is (no draft is kept)."""

    #: The file name the post is stored under (``chat-2024-07-11-daily-post.txt``).
    name: str
    day: dt.date | None = None
    format: str | None = None
    entries: tuple[Entry, ...] = ()
    warnings: tuple[Problem, ...] = ()
    errors: tuple[Problem, ...] = ()
    #: For a day that has gone out, what the correction changes (None: not a correction).
    changes: tuple[PaperChange, ...] | None = None
    #: The day as a subscriber without tag filters will get it (None when the post has errors).
    digest: DigestView | None = None
    #: When "publish at the scheduled time" would send it; None when that time has passed.
    scheduled: dt.datetime | None = None

    @property
    def correction(self) -> bool:
        return self.changes is not None

    @property
    def offers(self) -> list[Offer]:
        """The tags offered with accept/reject buttons, paper by paper."""
        return offers([entry.offered for entry in self.entries])

    def showing(self, shown: Collection[str], draft_id: str) -> Preview:
        """This preview offering only what the buttons ``shown`` still offer (the others were
        accepted or rejected)."""
        kept = still_shown([entry.offered for entry in self.entries], draft_id, shown)
        entries = tuple(replace(entry, offered=tags) for entry, tags in zip(self.entries, kept, strict=True))
        return replace(self, entries=entries)

    @property
    def change_views(self) -> tuple[ChangeView, ...]:
        """The correction's changes as a curator reads them."""
        return describe(self.changes or ())


def stored_name(digest: Digest, draft_id: str) -> str:
    """The name a chat post is stored under. One name per day and format, so a post sent again
    for its day replaces the earlier one; a queue post is its own (queue posts add up)."""
    if digest.date is None:
        return f"chat-queue-{draft_id}.txt"
    return f"chat-{digest.date.isoformat()}-{digest.format}.txt"


def read_post(doc: Document, today: dt.date) -> Digest:
    """The post parsed as ``ingest`` parses it (``ParseError`` at the first problem)."""
    return parse_document(doc, ParseOptions(today=today))


def build(
    archive: Archive,
    doc: Document,
    digest: Digest,
    *,
    base_url: str | None,
    cutoff: dt.datetime | None,
    now: dt.datetime,
    queue_per_day: int = 3,
    features: Path | None = None,
) -> Preview:
    """The preview of ``digest`` (parsed from ``doc`` and named as it will be stored).
    ``cutoff``: the day's publish time (None for the undated queue); ``features``: the tag
    model's folder, for the tags it offers (None: none offered)."""
    known = tag_counts(archive)
    papers, changes, published = rehearse(archive, digest)
    if digest.date is None:
        papers = list(digest.entries[:queue_per_day])
    warnings = [
        *_new_tags(digest.entries, known),
        *_already_archived(archive, digest, published),
        *_no_commentary(digest.entries),
        *_beside(archive, digest, published),
    ]
    return Preview(
        name=digest.source,
        day=digest.date,
        format=digest.format,
        entries=tuple(
            Entry(p.title, p.tags, p.line, tags)
            for p, tags in zip(digest.entries, at_most(offer(features, digest.entries)), strict=True)
        ),
        warnings=tuple(warnings),
        changes=tuple(changes) if published else None,
        digest=digest_view(digest.date, papers, base_url),
        scheduled=cutoff if cutoff is not None and cutoff > now and not published else None,
    )


def failed(name: str, error: ParseError | str) -> Preview:
    """The preview of a post that cannot be read."""
    if isinstance(error, ParseError):
        return Preview(name, errors=(Problem(error.message, error.line),))
    return Preview(name, errors=(Problem(error),))


def rehearse(archive: Archive, digest: Digest) -> tuple[list[Paper], list[PaperChange], bool]:
    """Store ``digest`` in a transaction that is rolled back: the papers its day will send, the
    changes of the correction it makes (if its day has gone out), and whether it had."""
    with archive.engine.connect() as conn:
        transaction = conn.begin()
        try:
            published = digest.date is not None and _sent_ids(conn, digest.date) is not None
            report = write_post(conn, digest)
            changes = list(report.correction.changes) if report.correction else []
            papers = _day_after(conn, digest)
        finally:
            transaction.rollback()
    return papers, changes, published


def _sent_ids(conn: Connection, day: dt.date) -> list[str] | None:
    recorded = conn.execute(select(publications.c.papers).where(publications.c.day == day)).scalar()
    return None if recorded is None else list(json.loads(recorded))


def _day_after(conn: Connection, digest: Digest) -> list[Paper]:
    """What the day holds once ``digest`` is stored: what a published day sends now (a correction
    rewrote that list), else every post of the day, as publishing will choose them."""
    if digest.date is None:
        return list(digest.entries)
    sent = _sent_ids(conn, digest.date)
    return load_papers(conn, sent) if sent is not None else day_papers_in(conn, digest.date)


# -- warnings ------------------------------------------------------------------------------------


def _new_tags(papers: Sequence[Paper], known: list[TagCount]) -> list[Problem]:
    """A tag the archive has never used, when one it has is spelt nearly the same."""
    counts = {tc.tag: tc.count for tc in known}
    warned: set[str] = set()
    problems = []
    for paper in papers:
        for tag in paper.tags:
            if tag in counts or tag in warned:
                continue
            warned.add(tag)
            close = _close_tags(tag, list(counts))
            if close:
                named = ", ".join(f"#{name} ({counts[name]})" for name in close)
                problems.append(Problem(f"#{tag} is a new tag; the archive has {named}", paper.line))
    return problems


def _close_tags(tag: str, names: list[str]) -> list[str]:
    """Known tags spelt nearly like ``tag`` once spelling habits are set aside: separators, and
    the usual short forms (``text2img`` reads as ``text-to-image``)."""
    wanted = _spelling(tag)
    scored = sorted(
        ((difflib.SequenceMatcher(None, wanted, _spelling(name)).ratio(), name) for name in names),
        reverse=True,
    )
    return [name for score, name in scored[:CLOSE_TAGS_SHOWN] if score >= CLOSE_TAG]


#: Short forms tags use for words, read as the words (``text2img``, ``txt-4-vid``).
SHORT_FORMS = {"2": "to", "4": "for", "img": "image", "imgs": "images", "txt": "text", "vid": "video"}
_WORDS = re.compile(r"[^\W\d_]+|\d+")


def _spelling(tag: str) -> str:
    return "".join(SHORT_FORMS.get(word, word) for word in _WORDS.findall(tag))


def _already_archived(archive: Archive, digest: Digest, published: bool) -> list[Problem]:
    """A paper other posts wrote up already (another day, the queue, another post of this day);
    a correction's own day is what it corrects, not a repeat."""
    ids = [paper.id for paper in digest.entries]
    stmt = (
        select(entries.c.paper_id, entries.c.source, sources.c.date)
        .join(sources, sources.c.name == entries.c.source)
        .where(entries.c.paper_id.in_(ids), entries.c.source != digest.source)
        .order_by(sources.c.date.asc().nulls_first(), entries.c.source)
    )
    found: dict[str, list[str]] = {}
    with archive.engine.connect() as conn:
        for paper_id, source, day in conn.execute(stmt):
            if published and day == digest.date:
                continue
            found.setdefault(paper_id, []).append(f"{day or 'the queue'} ({source})")
    problems: list[Problem] = []
    for paper in digest.entries:
        places = found.get(paper.id)
        if places:
            more = f" and {len(places) - PLACES_SHOWN} more" if len(places) > PLACES_SHOWN else ""
            where = ", ".join(places[:PLACES_SHOWN]) + more
            problems.append(Problem(f"{_quoted(paper)} is already in the archive: {where}", paper.line))
    return problems


def _no_commentary(papers: Sequence[Paper]) -> list[Problem]:
    return [Problem(f"{_quoted(p)} has no commentary", p.line) for p in papers if not p.commentary.strip()]


def _beside(archive: Archive, digest: Digest, published: bool) -> list[Problem]:
    """Another post for the same day that has not gone out: both will be sent, side by side."""
    if digest.date is None or published:
        return []
    stmt = select(sources.c.name).where(
        sources.c.date == digest.date, sources.c.name != digest.source, sources.c.superseded_by.is_(None)
    )
    with archive.engine.connect() as conn:
        others = sorted(conn.scalars(stmt))
    if not others:
        return []
    return [Problem(f"{digest.date} already has {', '.join(others)}: this post goes out beside it")]


def _quoted(paper: Paper) -> str:
    title = paper.title if len(paper.title) <= 80 else paper.title[:79] + "…"
    return f"“{title}”"


def renamed(digest: Digest, name: str) -> Digest:
    """``digest`` as the document ``name`` (its entries say where they were written)."""
    return replace(digest, source=name, entries=tuple(replace(p, source=name) for p in digest.entries))
