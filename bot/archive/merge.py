"""How one paper's appearances in several sources combine into the paper the archive shows.

Deterministic (it depends on the appearances, never on the order files were ingested) and
lossless where it can be: tags, links and distinct commentaries are all kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.models import Paper


def merge(appearances: Sequence[Paper], *, refreshed_upvotes: int | None = None) -> Paper:
    """Combine appearances of one paper, each carrying its source's digest ``date``.

    The earliest digest speaks first (undated queue entries last); a later appearance fills in
    only what the earlier ones lack, except that the highest upvote count wins, the count last
    read from Hugging Face's API (``upvotes.py``) included.
    """
    if not appearances:
        raise ValueError("merge() needs at least one appearance")
    ordered = sorted(appearances, key=lambda p: (p.date is None, p.date or dt.date.min, p.source, p.line))
    first = ordered[0]
    with_authors = next((p for p in ordered if p.authors), None)
    upvotes = [p.upvotes for p in ordered if p.upvotes is not None]
    upvotes += [refreshed_upvotes] if refreshed_upvotes is not None else []
    return Paper(
        id=first.id,
        title=first.title,
        authors=with_authors.authors if with_authors else (),
        author_count=(
            with_authors.author_count
            if with_authors
            else next((p.author_count for p in ordered if p.author_count is not None), None)
        ),
        abstract=next((p.abstract for p in ordered if p.abstract), ""),
        commentary="\n\n".join(dict.fromkeys(p.commentary for p in ordered if p.commentary)),
        tags=tuple(dict.fromkeys(tag for p in ordered for tag in p.tags)),
        links=tuple(dict.fromkeys(link for p in ordered for link in p.links)),
        published=next((p.published for p in ordered if p.published), None),
        upvotes=max(upvotes) if upvotes else None,
        source=first.source,
        line=first.line,
        date=first.date,
        days=tuple(sorted({p.date for p in ordered if p.date is not None})),
    )
