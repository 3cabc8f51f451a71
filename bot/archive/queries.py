"""Lookups over the archive: tags, a tag's papers, one paper, the days, the queue, the totals.

Platform-neutral answers (models, not text): the CLI prints them as JSON or lines, and the chat
commands of later issues render them through their own templates.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, Subquery, case, func, select, union

from bot.archive.merge import merge
from bot.archive.rows import entry_to_paper
from bot.archive.schema import entries, paper_tags, papers, publications, releases, sources, tags
from bot.archive.store import Archive
from bot.archive.suggestions import (
    Suggestion,
    accepted_tags,
    suggested_for,
    suggested_ids,
    suggested_total,
    with_accepted,
)
from bot.archive.text import clean_query_text, like_escape, normalize_tag
from bot.archive.upvotes import refreshed
from bot.errors import NotFound, QueryError
from bot.models import Appearance, Paper, TagCount

PAGE_SIZE = 10
MAX_PAGE = 100_000


@dataclass(frozen=True)
class TagPage:
    """A page of a tag's papers. Asked ``with_suggested``, the listing is the curator's papers
    (newest first), then the papers the model suggests the tag for (best first), paged as one
    list: ``total`` and ``pages`` count both, ``curated`` the curator's alone, and ``suggested``
    names the papers of this page that are suggestions (with their scores), which every surface
    must show as suggested."""

    tag: str
    page: int
    pages: int
    total: int
    papers: tuple[Paper, ...]
    #: The closest existing tags, filled in when the tag has no papers.
    suggestions: tuple[TagCount, ...] = ()
    curated: int = 0
    suggested: dict[str, float] = field(default_factory=dict)
    suggested_total: int = 0


@dataclass(frozen=True)
class Day:
    date: dt.date
    entries: int


@dataclass(frozen=True)
class Stats:
    papers: int
    digests: int
    tags: int
    queued: int


def tag_counts(archive: Archive) -> list[TagCount]:
    """Every tag with its number of papers, most used first."""
    stmt = select(tags.c.tag, tags.c.papers).order_by(tags.c.papers.desc(), tags.c.tag)
    with archive.engine.connect() as conn:
        return [TagCount(tag, n) for tag, n in conn.execute(stmt)]


def papers_by_tag(
    archive: Archive, raw_tag: str, page: int = 1, per_page: int = PAGE_SIZE, *, with_suggested: bool = False
) -> TagPage:
    """A tag's papers, newest digest first, a page at a time; ``#VQ`` and ``vq`` are one tag.
    ``with_suggested``: then the papers the model suggests it for (see ``TagPage``)."""
    try:
        tag = normalize_tag(raw_tag)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"page must be a number from 1 to {MAX_PAGE}, not {page}")
    with archive.engine.connect() as conn:
        curated = conn.execute(select(tags.c.papers).where(tags.c.tag == tag)).scalar() or 0
        if curated == 0:
            return TagPage(tag, page, 0, 0, (), tuple(closest_tags(archive, tag)))
        extra = suggested_total(conn, tag) if with_suggested else 0
        total = curated + extra
        pages = -(-total // per_page)
        if page > pages:
            raise QueryError(f"#{tag} has {pages} page(s) of papers; there is no page {page}")
        start = (page - 1) * per_page
        ids = list(
            conn.scalars(
                select(paper_tags.c.paper_id)
                .where(paper_tags.c.tag == tag)
                .order_by(paper_tags.c.date.desc().nulls_last(), paper_tags.c.paper_id.desc())
                .limit(per_page)
                .offset(start)
            )
            if start < curated
            else ()
        )
        scores: dict[str, float] = {}
        if extra and len(ids) < per_page:
            scores = dict(suggested_ids(conn, tag, max(0, start - curated), per_page - len(ids)))
        papers = tuple(load_papers(conn, [*ids, *scores]))
        return TagPage(tag, page, pages, total, papers, (), curated, scores, extra)


def suggested_tags(archive: Archive, ids: Collection[str]) -> dict[str, list[Suggestion]]:
    """The tags the model suggests for each of these papers, best first (never the curator's)."""
    with archive.engine.connect() as conn:
        return suggested_for(conn, ids)


def closest_tags(archive: Archive, tag: str, limit: int = 5) -> list[TagCount]:
    """Tags that contain (or are contained in) the asked one first, then similar spellings."""
    counts = tag_counts(archive)
    by_name = {tc.tag: tc for tc in counts}
    containing = [tc.tag for tc in counts if tag in tc.tag or (len(tc.tag) >= 2 and tc.tag in tag)]
    similar = difflib.get_close_matches(tag, list(by_name), n=limit, cutoff=0.6)
    names = list(dict.fromkeys([*containing, *similar]))[:limit]
    return [by_name[name] for name in names]


def tags_matching(archive: Archive, fragment: str, limit: int) -> list[TagCount]:
    """Tags starting with ``fragment``, then the others containing it, most used first in each:
    what a chat's tag autocomplete offers. One scan of the small ``tags`` table, never of papers."""
    pattern = like_escape(fragment)
    starts = tags.c.tag.like(f"{pattern}%", escape="\\")
    stmt = (
        select(tags.c.tag, tags.c.papers, case((starts, 0), else_=1).label("not_prefix"))
        .where(tags.c.tag.like(f"%{pattern}%", escape="\\"))
        .order_by("not_prefix", tags.c.papers.desc(), tags.c.tag)
        .limit(limit)
    )
    with archive.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    # Ties sorted here too: SQLite and PostgreSQL collations order hyphens differently.
    return [TagCount(tag, n) for tag, n, _ in sorted(rows, key=lambda row: (row[2], -row[1], row[0]))]


def find_paper(archive: Archive, ref: str) -> Paper:
    """A paper by its id, or by a prefix of it that names exactly one paper (as git does)."""
    ref = clean_query_text(ref)
    if not ref or len(ref) > 200:
        raise QueryError("give a paper id, as shown by `paperboy tag` or `paperboy search`")
    with archive.engine.connect() as conn:
        found = load_papers(conn, [ref])
        if found:
            return found[0]
        prefix = like_escape(ref) + "%"
        ids = conn.scalars(
            select(papers.c.id).where(papers.c.id.like(prefix, escape="\\")).order_by(papers.c.id).limit(6)
        ).all()
        if len(ids) == 1:
            return load_papers(conn, ids)[0]
    if ids:
        raise NotFound(
            f"{ref!r} matches several papers: {', '.join(ids[:5])}{', ...' if len(ids) > 5 else ''}"
        )
    raise NotFound(f"no paper has the id {ref!r}")


def appearances(archive: Archive, paper_id: str) -> list[Appearance]:
    """Every document that wrote the paper up, earliest digest first."""
    stmt = (
        select(entries.c.source, sources.c.format, sources.c.date, entries.c.line)
        .join(sources, sources.c.name == entries.c.source)
        .where(entries.c.paper_id == paper_id)
        .order_by(sources.c.date.asc().nulls_last(), entries.c.source)
    )
    with archive.engine.connect() as conn:
        return [Appearance(*row) for row in conn.execute(stmt)]


def _day_papers(days: Collection[dt.date] | None = None, ids: Collection[str] | None = None) -> Subquery:
    """(day, paper_id) for every paper a day holds: the curator's digest of that day, and the
    undated papers publishing gave it from the queue. A UNION, so a paper is counted once a day.
    ``days``, ``ids``: only these (filtered inside, where the indexes are)."""
    digest = (
        select(sources.c.date.label("day"), entries.c.paper_id.label("paper_id"))
        .join(entries, entries.c.source == sources.c.name)
        .where(sources.c.date.is_not(None))
    )
    given = select(releases.c.day, releases.c.paper_id)
    if days is not None:
        digest = digest.where(sources.c.date.in_(sorted(days)))
        given = given.where(releases.c.day.in_(sorted(days)))
    if ids is not None:
        digest = digest.where(entries.c.paper_id.in_(sorted(ids)))
        given = given.where(releases.c.paper_id.in_(sorted(ids)))
    return union(digest, given).subquery("day_papers")


def _dates() -> Subquery:
    """The days of the archive, without their papers: what counting them needs."""
    digest = select(sources.c.date.label("day")).where(sources.c.date.is_not(None))
    return union(digest, select(releases.c.day)).subquery("dates")


def days(archive: Archive, only: Collection[dt.date] | None = None) -> list[Day]:
    """Each day of the archive with its number of papers, newest first: the days the curator
    wrote a digest for, and the days published from the queue (``only``: of these dates)."""
    held = _day_papers(days=only)
    stmt = select(held.c.day, func.count()).group_by(held.c.day).order_by(held.c.day.desc())
    with archive.engine.connect() as conn:
        return [Day(date, n) for date, n in conn.execute(stmt)]


def newest_days(archive: Archive, count: int) -> list[dt.date]:
    """The archive's ``count`` newest days, newest first, without counting their papers (which
    ``days`` does for every day: 0.2 s at 100,000 papers)."""
    dates = _dates()
    stmt = select(dates.c.day).order_by(dates.c.day.desc()).limit(count)
    with archive.engine.connect() as conn:
        return list(conn.scalars(stmt))


def days_showing(archive: Archive, ids: Collection[str]) -> set[dt.date]:
    """The days whose papers include any of ``ids``: the day pages that show them."""
    held = _day_papers(ids=ids)
    stmt = select(held.c.day).distinct()
    with archive.engine.connect() as conn:
        return set(conn.scalars(stmt)) if ids else set()


def nearby_days(archive: Archive, day: dt.date, count: int = 3) -> list[dt.date]:
    """The digest days closest to ``day``, nearest first: what to suggest for a day with none."""
    return sorted((d.date for d in days(archive)), key=lambda d: (abs((d - day).days), d))[:count]


def queue(archive: Archive) -> list[Paper]:
    """Undated papers waiting to be published, in the order they were written."""
    stmt = (
        select(entries.c.paper_id)
        .join(sources, sources.c.name == entries.c.source)
        .join(papers, papers.c.id == entries.c.paper_id)
        .where(sources.c.date.is_(None), papers.c.date.is_(None))
        .order_by(entries.c.source, entries.c.position)
    )
    with archive.engine.connect() as conn:
        ids = list(dict.fromkeys(conn.scalars(stmt)))
        return load_papers(conn, ids)


def digest_papers(archive: Archive, day: dt.date) -> list[Paper]:
    """The papers of the curator's digest for one day, in the order their documents list them."""
    with archive.engine.connect() as conn:
        return load_papers(conn, _digest_ids(conn, day))


def day_papers(archive: Archive, day: dt.date) -> list[Paper]:
    """Everything a day of the archive holds: its digest, then the papers publishing gave it
    from the queue (a day with no digest has only those). What readers see of that day."""
    with archive.engine.connect() as conn:
        return day_papers_in(conn, day)


def day_papers_in(conn: Connection, day: dt.date) -> list[Paper]:
    """``day_papers`` inside a transaction of the caller's."""
    given = conn.scalars(
        select(releases.c.paper_id).where(releases.c.day == day).order_by(releases.c.position)
    )
    return load_papers(conn, list(dict.fromkeys([*_digest_ids(conn, day), *given])))


def _digest_ids(conn: Connection, day: dt.date) -> list[str]:
    stmt = (
        select(entries.c.paper_id)
        .join(sources, sources.c.name == entries.c.source)
        .where(sources.c.date == day)
        .order_by(entries.c.source, entries.c.position)
    )
    return list(dict.fromkeys(conn.scalars(stmt)))


def latest_day(archive: Archive, upto: dt.date | None = None) -> tuple[dt.date, list[Paper]] | None:
    """The newest day a reader can look at, on or before ``upto``, with its papers.

    A published day answers with the papers it sent (publishing records them, and a day with
    no digest of its own sends papers from the queue); a newer digest day that nobody has
    published yet (no scheduler runs, or it has not reached that day) answers with its digest.
    """
    newest_publication = select(publications.c.day, publications.c.papers)
    newest_digest = select(func.max(sources.c.date))
    if upto is not None:
        newest_publication = newest_publication.where(publications.c.day <= upto)
        newest_digest = newest_digest.where(sources.c.date <= upto)
    with archive.engine.connect() as conn:
        published = conn.execute(newest_publication.order_by(publications.c.day.desc()).limit(1)).first()
        digest_day: dt.date | None = conn.execute(newest_digest).scalar()
        if published is not None and (digest_day is None or published.day >= digest_day):
            return published.day, load_papers(conn, json.loads(published.papers))
    return None if digest_day is None else (digest_day, digest_papers(archive, digest_day))


def latest_papers(archive: Archive, limit: int, tag: str | None = None) -> list[Paper]:
    """The newest papers a digest has featured (the queue excluded), optionally one tag's."""
    with archive.engine.connect() as conn:
        return load_papers(conn, [paper_id for paper_id, _ in latest_ids_in(conn, limit, tag)])


def latest_ids_in(conn: Connection, limit: int, tag: str | None = None) -> list[tuple[str, dt.date]]:
    """``latest_papers``' ids with their dates, without reading the papers."""
    if tag is None:
        stmt = select(papers.c.id, papers.c.date).where(papers.c.date.is_not(None))
        stmt = stmt.order_by(papers.c.date.desc(), papers.c.id.desc()).limit(limit)
    else:
        stmt = select(paper_tags.c.paper_id, paper_tags.c.date)
        stmt = stmt.where(paper_tags.c.tag == tag, paper_tags.c.date.is_not(None))
        stmt = stmt.order_by(paper_tags.c.date.desc(), paper_tags.c.paper_id.desc()).limit(limit)
    return [(paper_id, day) for paper_id, day in conn.execute(stmt)]


def stats(archive: Archive) -> Stats:
    with archive.engine.connect() as conn:
        return Stats(
            papers=conn.execute(select(func.count()).select_from(papers)).scalar_one(),
            digests=conn.execute(select(func.count()).select_from(_dates())).scalar_one(),
            tags=conn.execute(select(func.count()).select_from(tags)).scalar_one(),
            queued=conn.execute(select(func.count()).where(papers.c.date.is_(None))).scalar_one(),
        )


def load_papers(conn: Connection, ids: Sequence[str]) -> list[Paper]:
    """Papers by id, in the order asked, each merged from its entries; unknown ids are skipped."""
    if not ids:
        return []
    appearances: dict[str, list[Paper]] = {}
    accepted = accepted_tags(conn, ids)
    rows = conn.execute(
        select(entries, sources.c.date)
        .join(sources, sources.c.name == entries.c.source)
        .where(entries.c.paper_id.in_(ids))
    )
    for row in rows:
        appearances.setdefault(row.paper_id, []).append(entry_to_paper(row._mapping))
    # The paper's own date is canonical: it also knows the day a queued paper was released on.
    known = {
        row.id: (row.date, row.corrected)
        for row in conn.execute(
            select(papers.c.id, papers.c.date, papers.c.corrected).where(papers.c.id.in_(ids))
        )
    }
    counts = refreshed(conn, appearances)
    return [
        _dated(
            merge(appearances[i], refreshed_upvotes=counts.get(i)),
            *known.get(i, (None, None)),
            accepted.get(i),
        )
        for i in ids
        if i in appearances
    ]


def _dated(
    paper: Paper, date: dt.date | None, corrected: dt.datetime | None, accepted: list[str] | None = None
) -> Paper:
    """``paper`` with its first day, every day that featured it (a release day included), when
    a correction last changed it, and the suggested tags the curator accepted after its own."""
    featured = tuple(sorted({*paper.days, date})) if date else paper.days
    if corrected is not None and corrected.tzinfo is None:
        corrected = corrected.replace(tzinfo=dt.UTC)  # SQLite keeps no zone
    return replace(
        paper, date=date, days=featured, corrected=corrected, tags=with_accepted(paper.tags, accepted)
    )
