"""Posts for days that have gone out: each is a correction of its day, recorded as it is stored.

A day's published papers are in ``publications`` (what the day sent). A post for that day, by
any road (``paperboy ingest``, the inbox, a curator's chat), is stored in the same transaction
as its correction: its entries keep the ids of the papers they correct (``corrections.keep_ids``),
it supersedes the day's earlier posts of its format (their entries go, their rows and checksums
stay, so reading an old file again changes nothing), and what changed is written to
``corrections`` with the papers as they read before, for the messages already sent to be
edited (``scheduler/edits.py``, ``scheduler/editor.py``). A post that changes nothing records nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from sqlalchemy import Connection, insert, select, update

from bot.archive.corrections import (
    Correction,
    PaperChange,
    changes_from_json,
    changes_to_json,
    diff,
    keep_ids,
)
from bot.archive.ingest import IngestReport, write_digest
from bot.archive.queries import day_papers_in, load_papers
from bot.archive.rows import paper_to_json
from bot.archive.schema import corrections, papers, publications, sources
from bot.archive.store import Archive
from bot.archive.suggestions import accepted_tags, with_accepted
from bot.models import Digest, Paper


def write_post(conn: Connection, digest: Digest, *, now: dt.datetime | None = None) -> IngestReport:
    """Store ``digest`` (inside the caller's transaction); a correction if its day has gone out."""
    day, published = digest.date, _published(conn, digest.date)
    if published is None or day is None:
        return write_digest(conn, digest)
    digest = replace(digest, entries=tuple(keep_ids(published, digest.entries)))
    report = write_digest(conn, digest)
    if report.unchanged:
        return report
    _supersede(conn, digest)
    after = day_papers_in(conn, day)
    changes = diff(published, after)
    if not changes:
        return report
    row = {
        "day": day,
        "source": digest.source,
        "before": json.dumps([paper_to_json(p) for p in published], ensure_ascii=False),
        "changes": json.dumps(changes_to_json(changes), ensure_ascii=False),
        "created": now or dt.datetime.now(dt.UTC),
    }
    correction_id = conn.execute(insert(corrections).values(row).returning(corrections.c.id)).scalar_one()
    touched = [c.id for c in changes if c.kind != "removed"]
    if touched:  # their feed entries say so: readers see the paper updated, under the same guid
        conn.execute(update(papers).where(papers.c.id.in_(touched)).values(corrected=row["created"]))
    conn.execute(
        update(publications).where(publications.c.day == day).values(papers=json.dumps([p.id for p in after]))
    )
    return replace(report, correction=Correction(correction_id, day, digest.source, tuple(changes)))


def preview(archive: Archive, digest: Digest) -> tuple[Digest, list[PaperChange] | None]:
    """What storing ``digest`` would do, without storing it: the digest with the ids it would
    keep, and the changes it would make to its day (None: the day has not gone out)."""
    with archive.engine.connect() as conn:
        published = _published(conn, digest.date)
        if published is None:
            return digest, None
        kept = replace(digest, entries=tuple(keep_ids(published, digest.entries)))
        # As stored, each paper would keep the suggestions the curator accepted (suggestions.py).
        accepted = accepted_tags(conn, [paper.id for paper in kept.entries])
    stored = [replace(p, tags=with_accepted(p.tags, accepted.get(p.id))) for p in kept.entries]
    return kept, diff(published, stored)


def published_days(archive: Archive) -> set[dt.date]:
    """The days that have gone out."""
    with archive.engine.connect() as conn:
        return set(conn.scalars(select(publications.c.day)))


def corrections_of(archive: Archive, day: dt.date | None = None) -> list[tuple[Correction, dt.datetime]]:
    """Every correction (of ``day``), newest first, with when it was made."""
    stmt = select(corrections.c.id, corrections.c.day, corrections.c.source, corrections.c.changes)
    stmt = stmt.add_columns(corrections.c.created).order_by(corrections.c.id.desc())
    if day is not None:
        stmt = stmt.where(corrections.c.day == day)
    with archive.engine.connect() as conn:
        return [
            (Correction(cid, when, source, changes_from_json(json.loads(changes))), _utc(created))
            for cid, when, source, changes, created in conn.execute(stmt)
        ]


def _utc(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _published(conn: Connection, day: dt.date | None) -> list[Paper] | None:
    """The papers ``day`` sent, as they read now; None if the day has not gone out."""
    if day is None:
        return None
    recorded = conn.execute(select(publications.c.papers).where(publications.c.day == day)).scalar()
    return None if recorded is None else load_papers(conn, json.loads(recorded))


def _supersede(conn: Connection, digest: Digest) -> None:
    """The day's other posts of this format give way to ``digest``: the curator sent the day anew."""
    others = conn.scalars(
        select(sources.c.name).where(
            sources.c.date == digest.date,
            sources.c.format == digest.format,
            sources.c.name != digest.source,
            sources.c.superseded_by.is_(None),
        )
    ).all()
    for name in others:
        write_digest(conn, Digest(digest.date, name, digest.format, ()), keep_checksum=True)
        conn.execute(update(sources).where(sources.c.name == name).values(superseded_by=digest.source))
