"""What the web archive shows of the tag model, read in a few queries for the whole archive:
each tag's suggested papers, each paper's suggested tags, the papers that have a page, and the
tags the curator accepted (which change a paper's tags with no document changing).

Only what a page can show: suggestions of published papers (a queued paper has no page) for
tags that have a page (some published paper carries the tag as the curator's).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.archive.schema import paper_tags, papers, tag_suggestions
from bot.archive.store import Archive
from bot.archive.suggestions import ACCEPTED, SUGGESTED, not_curated


@dataclass
class Discovery:
    #: Each tag's suggested papers, best score first (ties by id).
    by_tag: dict[str, list[str]] = field(default_factory=dict)
    #: Each paper's suggested tags, best score first (ties by tag).
    by_paper: dict[str, list[str]] = field(default_factory=dict)
    #: The papers with a page (published on some day).
    published: set[str] = field(default_factory=set)
    #: The tags the curator accepted, per paper, sorted.
    accepted: dict[str, list[str]] = field(default_factory=dict)


def discovery(archive: Archive) -> Discovery:
    found = Discovery()
    with archive.engine.connect() as conn:
        found.published = set(conn.scalars(select(papers.c.id).where(papers.c.date.is_not(None))))
        paged = select(paper_tags.c.tag).join(papers, papers.c.id == paper_tags.c.paper_id)
        with_pages = set(conn.scalars(paged.where(papers.c.date.is_not(None)).distinct()))
        rows = conn.execute(
            select(tag_suggestions.c.paper_id, tag_suggestions.c.tag, tag_suggestions.c.score).where(
                tag_suggestions.c.status == SUGGESTED, not_curated()
            )
        ).all()
        accepted = conn.execute(
            select(tag_suggestions.c.paper_id, tag_suggestions.c.tag).where(
                tag_suggestions.c.status == ACCEPTED
            )
        ).all()
    shown = [
        (paper, tag, float(score))
        for paper, tag, score in rows
        if paper in found.published and tag in with_pages
    ]
    by_tag: dict[str, list[tuple[float, str]]] = defaultdict(list)
    by_paper: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for paper, tag, score in shown:
        by_tag[tag].append((-score, paper))
        by_paper[paper].append((-score, tag))
    found.by_tag = {tag: [p for _, p in sorted(items)] for tag, items in sorted(by_tag.items())}
    found.by_paper = {p: [t for _, t in sorted(items)] for p, items in sorted(by_paper.items())}
    grouped: dict[str, list[str]] = defaultdict(list)
    for paper, tag in accepted:
        grouped[paper].append(tag)
    found.accepted = {paper: sorted(tags) for paper, tags in sorted(grouped.items())}
    return found
