"""What a correction of a published day changed, paper by paper, and which paper each corrected
entry is.

A curator who fixes a typo in a title makes a new id (ids of papers without an arXiv link are a
slug and a hash of the title), and a new id would give the paper a new page, a new feed guid and
a "new" paper in every reader's feed. So an entry of the corrected post that stands where a
published paper stood, shares a link with it or reads nearly the same is that paper, and keeps
its id. Pure functions over papers: storing a correction is the caller's business.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

from bot.models import Paper

#: The fields a correction can change, as ``corrections list`` and the preview name them.
FIELDS = ("title", "authors", "abstract", "commentary", "tags", "links")
#: Below this score an entry of the corrected post is a new paper, not a corrected one.
SAME_PAPER = 0.6
#: What standing at the same place in the post adds to the score of a pair.
SAME_PLACE = 0.15
#: How much of an abstract is compared: enough to recognise it, cheap for a long listing.
ABSTRACT_CHARS = 600


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class PaperChange:
    """One paper of the day: ``added``, ``removed`` or ``changed`` (with what changed)."""

    kind: str
    id: str
    title: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Correction:
    """A post that corrected a day which had gone out: the archive's record of it."""

    id: int
    day: dt.date
    source: str
    changes: tuple[PaperChange, ...]

    def summary(self) -> str:
        """ "2 changed, 1 added": the one line a log or a command prints."""
        counts = Counter(change.kind for change in self.changes)
        return ", ".join(f"{counts[kind]} {kind}" for kind in ("changed", "added", "removed") if counts[kind])


def changes_to_json(changes: Sequence[PaperChange]) -> list[dict[str, Any]]:
    return [
        {
            "kind": c.kind,
            "id": c.id,
            "title": c.title,
            "fields": [{"field": f.field, "before": f.before, "after": f.after} for f in c.fields],
        }
        for c in changes
    ]


def changes_from_json(data: Sequence[Mapping[str, Any]]) -> tuple[PaperChange, ...]:
    return tuple(
        PaperChange(c["kind"], c["id"], c["title"], tuple(FieldChange(**f) for f in c["fields"]))
        for c in data
    )


def keep_ids(published: Sequence[Paper], corrected: Sequence[Paper]) -> list[Paper]:
    """``corrected`` with every entry that corrects a published paper carrying that paper's id."""
    pairs = match(published, corrected)
    return [
        replace(paper, id=published[pairs[n]].id) if n in pairs else paper
        for n, paper in enumerate(corrected)
    ]


def match(published: Sequence[Paper], corrected: Sequence[Paper]) -> dict[int, int]:
    """Which published paper (by index) each corrected entry (by index) corrects.

    The same id first, then a shared link (an arXiv page, a project page), then the best remaining
    pairs by how alike their titles (or, failing that, abstracts) read, with a bonus for standing
    at the same place in the post. Each paper is matched at most once.
    """
    pairs: dict[int, int] = {}
    taken: set[int] = set()

    def pair(new: int, old: int) -> None:
        pairs[new] = old
        taken.add(old)

    by_id = {paper.id: n for n, paper in enumerate(published)}
    for n, paper in enumerate(corrected):
        old = by_id.get(paper.id)
        if old is not None and old not in taken:
            pair(n, old)
    for n, paper in enumerate(corrected):
        if n in pairs or not paper.links:
            continue
        old = next(
            (m for m, was in enumerate(published) if m not in taken and set(was.links) & set(paper.links)),
            None,
        )
        if old is not None:
            pair(n, old)
    scored = sorted(
        (
            (_likeness(was, paper) + (SAME_PLACE if m == n else 0.0), n, m)
            for n, paper in enumerate(corrected)
            if n not in pairs
            for m, was in enumerate(published)
            if m not in taken
        ),
        reverse=True,
    )
    for score, n, m in scored:
        if score < SAME_PAPER:
            break
        if n not in pairs and m not in taken:
            pair(n, m)
    return pairs


def diff(published: Sequence[Paper], corrected: Sequence[Paper]) -> list[PaperChange]:
    """Paper by paper, what ``corrected`` (ids already kept) changes of ``published``: the
    corrected day's order, then the papers it no longer has."""
    before = {paper.id: paper for paper in published}
    changes = []
    for paper in corrected:
        was = before.get(paper.id)
        if was is None:
            changes.append(PaperChange("added", paper.id, paper.title))
            continue
        fields = tuple(
            FieldChange(name, _shown(was, name), _shown(paper, name))
            for name in FIELDS
            if _shown(was, name) != _shown(paper, name)
        )
        if fields:
            changes.append(PaperChange("changed", paper.id, paper.title, fields))
    kept = {paper.id for paper in corrected}
    changes += [PaperChange("removed", p.id, p.title) for p in published if p.id not in kept]
    return changes


def _shown(paper: Paper, name: str) -> str:
    value = getattr(paper, name)
    if name == "tags":
        return " ".join(f"#{tag}" for tag in value)
    if name in ("authors", "links"):
        return ", ".join(value) if name == "authors" else "\n".join(value)
    return str(value)


def _likeness(a: Paper, b: Paper) -> float:
    """How alike two entries read, 0 to 1: their titles, else the start of their abstracts."""
    title = _ratio(a.title.casefold(), b.title.casefold())
    if title >= SAME_PAPER or not (a.abstract and b.abstract):
        return title
    return max(title, _ratio(a.abstract[:ABSTRACT_CHARS], b.abstract[:ABSTRACT_CHARS]))


def _ratio(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if (
        matcher.real_quick_ratio() < SAME_PAPER - SAME_PLACE
        or matcher.quick_ratio() < SAME_PAPER - SAME_PLACE
    ):
        return 0.0  # cannot reach the bar even with the place's bonus: skip the costly part
    return matcher.ratio()
