"""Tag suggestions as the archive keeps them: the model's tags, apart from the curator's.

``tag_suggestions`` holds one row per (paper, tag) the model is confident of (``bot/suggest``
computes them), with a ``status``:

- ``suggested``: shown, always marked as a suggestion, never counted as the curator's tag;
- ``rejected``: the curator said no; the row stays, so the model never suggests it again (and
  it trains the tag's classifier as a paper that is not the tag);
- ``accepted``: the curator said yes, and the tag **is the curator's** from then on. The
  curator's tags come from what documents said (``entries``), which a re-ingest rewrites, so
  the decision is kept here and merged wherever the curator's tags are: into ``paper_tags``
  (and the ``tags`` counts) at the decision and at every ingest of the paper
  (``ingest.write_digest``), and into each paper's ``tags`` when it is read
  (``queries.load_papers``), after the tags the documents gave it. So it shows on tag pages,
  in digests, feeds and subscriptions' filters like any tag the curator wrote.

A suggested row never names a tag the curator gave the paper: the refresh does not write one,
and an ingest that gives a paper a tag drops its suggestion (``drop_curated``).

Database only (no numpy, no scikit-learn): ``paperboy tag`` reads suggestions without loading
the model.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, exists, func, select, tuple_

from bot.archive._sql import insert_for
from bot.archive.schema import entries, paper_tags, service_state, tag_suggestions

SUGGESTED, ACCEPTED, REJECTED = "suggested", "accepted", "rejected"
CHUNK = 500
TOKEN_KEY = "suggest_archive"


@dataclass(frozen=True)
class Suggestion:
    tag: str
    score: float


def accepted_tags(conn: Connection, ids: Collection[str]) -> dict[str, list[str]]:
    """The tags the curator accepted for each of these papers, in the order they were accepted."""
    found: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(tag_suggestions.c.paper_id, tag_suggestions.c.tag)
            .where(tag_suggestions.c.paper_id.in_(chunk), tag_suggestions.c.status == ACCEPTED)
            .order_by(tag_suggestions.c.updated, tag_suggestions.c.tag)
        )
        for paper_id, tag in conn.execute(stmt):
            found.setdefault(paper_id, []).append(tag)
    return found


def with_accepted(tags: tuple[str, ...], accepted: list[str] | None) -> tuple[str, ...]:
    """A paper's tags from its documents, then those the curator accepted."""
    return tuple(dict.fromkeys((*tags, *(accepted or ())))) if accepted else tags


def not_curated() -> Any:
    curated = select(paper_tags.c.paper_id).where(
        paper_tags.c.paper_id == tag_suggestions.c.paper_id, paper_tags.c.tag == tag_suggestions.c.tag
    )
    return ~exists(curated)


def suggested_total(conn: Connection, tag: str) -> int:
    """How many papers the model suggests ``tag`` for."""
    stmt = select(func.count()).where(tag_suggestions.c.tag == tag, tag_suggestions.c.status == SUGGESTED)
    return int(conn.execute(stmt).scalar_one())


def suggested_ids(conn: Connection, tag: str, offset: int, limit: int) -> list[tuple[str, float]]:
    """Papers suggested ``tag``, best score first, a slice of them."""
    stmt = (
        select(tag_suggestions.c.paper_id, tag_suggestions.c.score)
        .where(tag_suggestions.c.tag == tag, tag_suggestions.c.status == SUGGESTED, not_curated())
        .order_by(tag_suggestions.c.score.desc(), tag_suggestions.c.paper_id)
        .limit(limit)
        .offset(offset)
    )
    return [(paper_id, float(score)) for paper_id, score in conn.execute(stmt)]


def suggested_for(conn: Connection, ids: Collection[str]) -> dict[str, list[Suggestion]]:
    """Each paper's suggested tags (not the accepted or rejected ones), best score first."""
    found: dict[str, list[Suggestion]] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(tag_suggestions.c.paper_id, tag_suggestions.c.tag, tag_suggestions.c.score)
            .where(tag_suggestions.c.paper_id.in_(chunk), tag_suggestions.c.status == SUGGESTED)
            .where(not_curated())
            .order_by(tag_suggestions.c.paper_id, tag_suggestions.c.score.desc(), tag_suggestions.c.tag)
        )
        for paper_id, tag, score in conn.execute(stmt):
            found.setdefault(paper_id, []).append(Suggestion(tag, float(score)))
    return found


def drop_curated(conn: Connection, ids: Collection[str]) -> None:
    """Suggestions of a tag these papers now carry as the curator's go (an ingest tagged them)."""
    for chunk in _chunks(ids):
        curated = select(paper_tags.c.paper_id).where(
            paper_tags.c.paper_id == tag_suggestions.c.paper_id, paper_tags.c.tag == tag_suggestions.c.tag
        )
        conn.execute(
            delete(tag_suggestions).where(
                tag_suggestions.c.paper_id.in_(chunk),
                tag_suggestions.c.status == SUGGESTED,
                exists(curated),
            )
        )


# --- What the refresh (bot/suggest/refresh.py) reads and writes ---


def archive_token(conn: Connection) -> str:
    """A random name this database keeps for itself: the features on disk say which database
    they were built from, and a database made anew at the same address is not mistaken for it."""
    stored = conn.execute(select(service_state.c.value).where(service_state.c.key == TOKEN_KEY)).scalar()
    if stored is not None:
        return str(stored)
    stmt = insert_for(conn, service_state).values(key=TOKEN_KEY, value=uuid.uuid4().hex)
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
    return str(
        conn.execute(select(service_state.c.value).where(service_state.c.key == TOKEN_KEY)).scalar_one()
    )


def probe(conn: Connection) -> list[Any]:
    """A small mark of everything the suggestions depend on: entries (any change to a document
    rewrites its entries under new keys, or removes some) and the curator's decisions."""
    entry_mark = conn.execute(select(func.count(), func.max(entries.c.pk))).one()
    decided = tag_suggestions.c.status != SUGGESTED
    decision_mark = conn.execute(
        select(func.count(), func.max(tag_suggestions.c.updated)).where(decided)
    ).one()
    last = decision_mark[1]
    return [entry_mark[0], entry_mark[1], decision_mark[0], last.isoformat() if last else None]


def decided(conn: Connection, status: str) -> dict[str, list[str]]:
    """The papers of each tag's accepted or rejected suggestions."""
    found: dict[str, list[str]] = {}
    stmt = select(tag_suggestions.c.tag, tag_suggestions.c.paper_id).where(tag_suggestions.c.status == status)
    for tag, paper_id in conn.execute(stmt):
        found.setdefault(tag, []).append(paper_id)
    return found


def replace(
    conn: Connection,
    by_tag: Mapping[str, Mapping[str, float]],
    by_paper: Mapping[str, Mapping[str, float]],
    *,
    now: dt.datetime,
) -> int:
    """Make the ``suggested`` rows say what the model now says, where it was asked again:
    ``by_tag`` gives every paper suggested each of these tags (a tag with none loses them all),
    ``by_paper`` every tag suggested to each of these papers. Rows the curator decided stay as
    they are; a row that stays suggested is updated in place, not deleted and written again (a
    decision being taken on it meanwhile waits for it, then finds it). Returns rows written."""
    wanted: dict[tuple[str, str], float] = {}
    stale: set[tuple[str, str]] = set()
    for tag, scores in by_tag.items():
        wanted.update({(paper_id, tag): score for paper_id, score in scores.items()})
        stmt = select(tag_suggestions.c.paper_id).where(
            tag_suggestions.c.tag == tag, tag_suggestions.c.status == SUGGESTED
        )
        stale.update((paper_id, tag) for paper_id in conn.scalars(stmt))
    for chunk in _chunks(by_paper):
        for paper_id in chunk:
            wanted.update({(paper_id, tag): score for tag, score in by_paper[paper_id].items()})
        stmt = select(tag_suggestions.c.paper_id, tag_suggestions.c.tag).where(
            tag_suggestions.c.paper_id.in_(chunk), tag_suggestions.c.status == SUGGESTED
        )
        stale.update((paper_id, tag) for paper_id, tag in conn.execute(stmt))
    for pairs in _chunks(stale - wanted.keys()):
        key = tuple_(tag_suggestions.c.paper_id, tag_suggestions.c.tag)
        conn.execute(delete(tag_suggestions).where(key.in_(pairs), tag_suggestions.c.status == SUGGESTED))
    rows = [
        {"paper_id": paper_id, "tag": tag, "score": score, "status": SUGGESTED, "updated": now}
        for (paper_id, tag), score in sorted(wanted.items())
    ]
    for start in range(0, len(rows), 5 * CHUNK):
        stmt = insert_for(conn, tag_suggestions)
        stmt = stmt.on_conflict_do_update(
            index_elements=["paper_id", "tag"],
            set_={"score": stmt.excluded.score, "updated": stmt.excluded.updated},
            where=tag_suggestions.c.status == SUGGESTED,
        )
        conn.execute(stmt, rows[start : start + 5 * CHUNK])
    drop_curated(conn, by_paper.keys() | {paper_id for paper_id, _ in wanted})
    return len(rows)


def _chunks(items: Iterable[Any]) -> Iterator[list[Any]]:
    ordered = sorted(items)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]
