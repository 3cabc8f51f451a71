"""/similar and a paper's "similar" button: the papers nearest one paper by its features.

The features (``bot/suggest``) are kept on disk beside the database; the bot keeps one
``SimilarIndex`` open for every lookup, which reopens the files when a refresh has written new
ones, so an answer costs a few column reads and never loads scikit-learn. A paper added since
the last refresh has no features yet: the answer says so instead of showing nothing.
"""

from __future__ import annotations

from bot.archive.queries import load_papers
from bot.archive.store import Archive
from bot.commands.arguments import Request, require, sentence
from bot.commands.results import Notice, RelatedPaper, SimilarPapers
from bot.errors import NotFound
from bot.render.context import paper_view
from bot.suggest.similar import SimilarIndex, similar

#: Papers a reply shows: a chat message, not a ranking.
SHOWN = 5
UNAVAILABLE = "Related papers are not available here: the service has no features folder."


def similar_papers(request: Request) -> SimilarPapers | Notice:
    """/similar ID (an id, or a prefix naming one paper, as /paper takes)."""
    ref = require(request, "a paper id")
    return related(request.archive, request.index, ref, base_url=request.base_url)


def related(
    archive: Archive, index: SimilarIndex | None, ref: str, *, base_url: str | None
) -> SimilarPapers | Notice:
    """The papers nearest ``ref``; a ``Notice`` when there is nothing to show, saying why."""
    if index is None:
        return Notice(UNAVAILABLE)
    try:
        found = similar(archive, index, ref, SHOWN)
    except NotFound as exc:
        raise NotFound(f"{sentence(str(exc))} /search and /tag show papers' ids.") from None
    title = _quoted(found.paper.title)
    if not found.analysed:
        return Notice(f"{title} is not analysed yet: related papers show once the features are refreshed.")
    if not found.similar:
        return Notice(f"No paper in the archive is close enough to {title}.")
    view = paper_view(found.paper, base_url)
    with archive.engine.connect() as conn:
        papers = load_papers(conn, [r.id for r in found.similar])
    links = {p.id: paper_view(p, base_url).link for p in papers}
    shown = tuple(RelatedPaper(r.id, r.title, r.score, links.get(r.id)) for r in found.similar)
    return SimilarPapers(view, shown)


def _quoted(title: str) -> str:
    return f"“{title}”" if len(title) <= 80 else f"“{title[:79]}…”"
