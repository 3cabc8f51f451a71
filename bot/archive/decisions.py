"""The curator's word on a suggested tag: accept it (it becomes the curator's tag) or reject it
(it is never suggested again). See ``suggestions.py`` for what each status means.

One transaction per decision, and a decision is taken on the row as it stands (an UPDATE that
names the status it changes), so two curators pressing buttons at once, or a refresh rewriting
the suggestions meanwhile, never leave half a decision: the loser is told to look again.
Changing one's mind is allowed: a rejected suggestion can be accepted, and rejecting an accepted
one takes the tag back off the paper (unless a document the curator wrote gives it too).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from bot.archive.ingest import count_tags
from bot.archive.queries import find_paper
from bot.archive.schema import entries, paper_tags, papers, tag_suggestions
from bot.archive.store import Archive
from bot.archive.suggestions import ACCEPTED, REJECTED
from bot.archive.text import normalize_tag
from bot.errors import NotFound, PaperboyError, QueryError


@dataclass(frozen=True)
class Decision:
    paper_id: str
    title: str
    tag: str
    #: ``accepted`` or ``rejected``: the suggestion's status now.
    status: str
    #: False when it already had that status (nothing was written).
    changed: bool


def accept(archive: Archive, ref: str, raw_tag: str, *, now: dt.datetime | None = None) -> Decision:
    """The suggested ``raw_tag`` becomes the curator's tag of the paper ``ref`` (an id or a prefix)."""
    return _decide(archive, ref, raw_tag, ACCEPTED, now or dt.datetime.now(dt.UTC))


def reject(archive: Archive, ref: str, raw_tag: str, *, now: dt.datetime | None = None) -> Decision:
    """The paper ``ref`` is not ``raw_tag``: the suggestion is kept as rejected, never made again."""
    return _decide(archive, ref, raw_tag, REJECTED, now or dt.datetime.now(dt.UTC))


def _decide(archive: Archive, ref: str, raw_tag: str, status: str, now: dt.datetime) -> Decision:
    try:
        tag = normalize_tag(raw_tag)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    paper = find_paper(archive, ref)
    pair = (tag_suggestions.c.paper_id == paper.id, tag_suggestions.c.tag == tag)
    with archive.engine.begin() as conn:
        before = conn.execute(select(tag_suggestions.c.status).where(*pair)).scalar()
        if before is None:
            if _curated(conn, paper.id, tag):
                raise QueryError(
                    f"#{tag} is already the curator's tag of {paper.id}: there is nothing to decide"
                )
            raise NotFound(
                f"#{tag} is not suggested for {paper.id}; `paperboy show {paper.id}` lists the tags"
                " suggested for it"
            )
        if before == status:
            return Decision(paper.id, paper.title, tag, status, changed=False)
        done = conn.execute(
            update(tag_suggestions)
            .where(*pair, tag_suggestions.c.status == before)
            .values(status=status, updated=now)
        ).rowcount
        if done != 1:  # another decision, or a refresh, changed it meanwhile: nothing was done
            raise PaperboyError(f"the suggestion of #{tag} for {paper.id} changed meanwhile; look again")
        if status == ACCEPTED:
            _add_tag(conn, paper.id, tag)
        elif before == ACCEPTED and not _written(conn, paper.id, tag):
            _remove_tag(conn, paper.id, tag)
    return Decision(paper.id, paper.title, tag, status, changed=True)


def _curated(conn: Connection, paper_id: str, tag: str) -> bool:
    stmt = select(paper_tags.c.tag).where(paper_tags.c.paper_id == paper_id, paper_tags.c.tag == tag)
    return conn.execute(stmt).first() is not None


def _written(conn: Connection, paper_id: str, tag: str) -> bool:
    """Whether a document the curator wrote gives the paper ``tag``."""
    return any(
        tag in json.loads(tags)
        for tags in conn.scalars(select(entries.c.tags).where(entries.c.paper_id == paper_id))
    )


def _add_tag(conn: Connection, paper_id: str, tag: str) -> None:
    if _curated(conn, paper_id, tag):
        return
    day = conn.execute(select(papers.c.date).where(papers.c.id == paper_id)).scalar()
    last = conn.execute(
        select(func.max(paper_tags.c.position)).where(paper_tags.c.paper_id == paper_id)
    ).scalar()
    position = 0 if last is None else last + 1
    conn.execute(insert(paper_tags).values(paper_id=paper_id, tag=tag, date=day, position=position))
    count_tags(conn, Counter({tag: 1}))


def _remove_tag(conn: Connection, paper_id: str, tag: str) -> None:
    gone = conn.execute(
        delete(paper_tags).where(paper_tags.c.paper_id == paper_id, paper_tags.c.tag == tag)
    ).rowcount
    if gone:
        count_tags(conn, Counter({tag: -1}))
