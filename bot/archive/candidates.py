"""Candidates: papers pulled from Hugging Face's Daily Papers or from arXiv for the curator to
pick from (``bot/pull`` reads the sources; ``paperboy candidates`` lists them).

Kept apart from the archive: a candidate is on no day, in no tag or search, and nothing is
published from it until the curator writes a post from it (``bot/desk/picks.py`` starts one) and
that post is ingested. Its id is the one the archived paper will have (``arxiv-2406.11837``).

A pull is stored in one transaction, all of it or nothing. A pulled paper the archive already
has is not made a candidate: the same id, or, for papers of a Hugging Face listing ingested as
text (their ids come from their titles, the text having no arXiv link), the same title. Its
Hugging Face upvote count is recorded as refreshed instead (``upvotes.py``). Pulling a paper
again refreshes what the source says of it and keeps the curator's decision (its ``status``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, case, func, select, update

from bot.archive import latex, upvotes
from bot.archive._sql import insert_for
from bot.archive.schema import candidates, papers
from bot.archive.store import Archive
from bot.archive.text import paper_id, storable
from bot.errors import NotFound

NEW, DRAFTED, DISMISSED = "new", "drafted", "dismissed"
SOURCES = {"hf": "Hugging Face", "arxiv": "arXiv"}
CHUNK = 500


@dataclass(frozen=True)
class Candidate:
    """A paper as a source told it. ``day``: the Daily Papers listing it was on (Hugging Face);
    ``pulled``: when a pull last read it; ``in_archive``: the archive has since taken it in."""

    id: str
    source: str
    arxiv_id: str
    title: str
    summary: str
    authors: tuple[str, ...] = ()
    upvotes: int | None = None
    published: dt.date | None = None
    links: tuple[str, ...] = ()
    day: dt.date | None = None
    status: str = NEW
    pulled: dt.datetime | None = None
    in_archive: bool = False


@dataclass(frozen=True)
class Known:
    """A pulled paper the archive already has, under ``paper_id``."""

    candidate: Candidate
    paper_id: str


@dataclass(frozen=True)
class PullReport:
    #: The candidates the pull stored (new ones and ones pulled before), in the source's order.
    stored: tuple[Candidate, ...]
    #: Pulled papers the archive already has: not candidates.
    known: tuple[Known, ...]
    #: Of those, how many upvote counts changed.
    refreshed: int = 0


def store_pull(archive: Archive, pulled: Sequence[Candidate], *, now: dt.datetime) -> PullReport:
    """Store one pull: its new papers as candidates, the upvotes of those already archived."""
    pulled = list({c.id: c for c in pulled}.values())  # a paper named twice is stored once
    with archive.engine.begin() as conn:
        owners = archived(conn, pulled)
        fresh = [replace(c, pulled=now) for c in pulled if c.id not in owners]
        if fresh:
            _upsert(conn, fresh)
        known = tuple(Known(c, owners[c.id]) for c in pulled if c.id in owners)
        changed = _record_upvotes(conn, known, now)
        stored = _load(conn, [c.id for c in fresh])
    return PullReport(tuple(stored), known, changed)


def record_known(archive: Archive, pulled: Sequence[Candidate], *, now: dt.datetime) -> PullReport:
    """Only the upvotes of the pulled papers the archive has (the daily refresh): no candidates."""
    with archive.engine.begin() as conn:
        owners = archived(conn, pulled)
        known = tuple(Known(c, owners[c.id]) for c in pulled if c.id in owners)
        return PullReport((), known, _record_upvotes(conn, known, now))


def archived(conn: Connection, pulled: Iterable[Candidate]) -> dict[str, str]:
    """Which of ``pulled`` the archive has: candidate id -> the archived paper's id."""
    ways: dict[str, list[str]] = {}
    for c in pulled:
        ways[c.id] = list(dict.fromkeys([c.id, paper_id(latex.to_text(c.title))]))
    wanted = sorted({i for ids in ways.values() for i in ids})
    present: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        present.update(conn.scalars(select(papers.c.id).where(papers.c.id.in_(chunk))))
    return {cid: next(i for i in ids if i in present) for cid, ids in ways.items() if present & set(ids)}


def listing(archive: Archive, *, dismissed: bool = False, limit: int | None = None) -> list[Candidate]:
    """The candidates, newest pull first, then most upvoted; dismissed ones only if asked."""
    stmt = select(candidates, papers.c.id.label("archived")).outerjoin(papers, papers.c.id == candidates.c.id)
    if not dismissed:
        stmt = stmt.where(candidates.c.status != DISMISSED)
    stmt = stmt.order_by(
        candidates.c.pulled.desc(),
        case((candidates.c.upvotes.is_(None), 1), else_=0),
        candidates.c.upvotes.desc(),
        candidates.c.id,
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    with archive.engine.connect() as conn:
        return [_candidate(row._mapping) for row in conn.execute(stmt)]


def get(archive: Archive, ids: Sequence[str]) -> list[Candidate]:
    """These candidates in the order asked, or ``NotFound`` naming those there are not."""
    with archive.engine.connect() as conn:
        found = {c.id: c for c in _load(conn, list(ids))}
    missing = [i for i in dict.fromkeys(ids) if i not in found]
    if missing:
        raise NotFound(
            f"no candidate {', '.join(missing)}: `paperboy candidates` lists them, and"
            " `paperboy pull hf DATE` or `paperboy pull arxiv ID` brings new ones"
        )
    return [found[i] for i in dict.fromkeys(ids)]


def set_status(conn: Connection, ids: Sequence[str], status: str) -> int:
    """Give these candidates ``status`` in the caller's transaction; how many there were."""
    assert status in (NEW, DRAFTED, DISMISSED)
    stmt = update(candidates).where(candidates.c.id.in_(sorted(set(ids)))).values(status=status)
    return int(conn.execute(stmt).rowcount)


def dismiss(archive: Archive, ids: Sequence[str]) -> list[Candidate]:
    """Dismiss these candidates (``NotFound`` if any is not one: then none is)."""
    chosen = get(archive, ids)
    with archive.engine.begin() as conn:
        set_status(conn, [c.id for c in chosen], DISMISSED)
    return [replace(c, status=DISMISSED) for c in chosen]


def _record_upvotes(conn: Connection, known: Sequence[Known], now: dt.datetime) -> int:
    counts: dict[str, int] = {}
    for k in known:
        if k.candidate.upvotes is not None:
            counts[k.paper_id] = max(k.candidate.upvotes, counts.get(k.paper_id, 0))
    days = {k.candidate.day for k in known}
    return upvotes.record(conn, counts, days.pop() if len(days) == 1 else None, now)


def _upsert(conn: Connection, fresh: Sequence[Candidate]) -> None:
    rows = [_row(c) for c in fresh]
    stmt = insert_for(conn, candidates)
    kept = stmt.excluded
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[candidates.c.id],
            set_={
                "source": kept.source,
                "arxiv_id": kept.arxiv_id,
                "title": kept.title,
                "summary": kept.summary,
                "authors": kept.authors,
                "links": kept.links,
                "published": func.coalesce(kept.published, candidates.c.published),
                # An arXiv pull knows no upvotes and no listing day: it keeps Hugging Face's.
                "upvotes": func.coalesce(kept.upvotes, candidates.c.upvotes),
                "day": func.coalesce(kept.day, candidates.c.day),
                "pulled": kept.pulled,
            },
        ),
        rows,
    )


def _row(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.id,
        "source": c.source,
        "day": c.day,
        "arxiv_id": c.arxiv_id,
        "title": storable(c.title),
        "summary": storable(c.summary),
        "authors": storable(json.dumps(list(c.authors), ensure_ascii=False)),
        "upvotes": c.upvotes,
        "published": c.published,
        "links": storable(json.dumps(list(c.links), ensure_ascii=False)),
        "status": c.status,
        "pulled": c.pulled,
    }


def _load(conn: Connection, ids: Sequence[str]) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        stmt = (
            select(candidates, papers.c.id.label("archived"))
            .outerjoin(papers, papers.c.id == candidates.c.id)
            .where(candidates.c.id.in_(ordered[start : start + CHUNK]))
        )
        found.update({row.id: _candidate(row._mapping) for row in conn.execute(stmt)})
    return [found[i] for i in ids if i in found]


def _candidate(row: Any) -> Candidate:
    pulled = row["pulled"]
    return Candidate(
        id=row["id"],
        source=row["source"],
        arxiv_id=row["arxiv_id"] or "",
        title=row["title"],
        summary=row["summary"],
        authors=tuple(json.loads(row["authors"])),
        upvotes=row["upvotes"],
        published=row["published"],
        links=tuple(json.loads(row["links"])),
        day=row["day"],
        status=row["status"],
        pulled=pulled.replace(tzinfo=dt.UTC) if pulled is not None and pulled.tzinfo is None else pulled,
        in_archive=row["archived"] is not None,
    )
