"""The read-only commands: /start, /help, /tag, /tags, /search, /latest, /paper, and tag completion.

Each takes a ``Request`` whose argument is already cleaned and returns an answer from
``results``; input a lookup refuses surfaces as ``InputError``/``NotFound``, which the dispatcher
turns into an ``Error`` reply. Papers go out as ``PaperView``, the same view the digest
templates render, so a tag page and a digest show a paper the same way.

Search paging: a search ranks its matches, so a page is a slice of one ranking. Each page runs
the search again for the best ``SEARCH_LIMIT`` matches (cheap: search bounds its own work) and
the cursor carries the query itself, so nothing is stored between button presses. A query too
long for the 64-byte cursor is answered with one page and a count of the matches left
(``PapersPage.remaining``), which tells the reader to narrow the search; in practice queries
are a few words and page normally. The ranking goes no deeper than ``SEARCH_LIMIT``: past the
tenth page a reader is better served by more specific words (``capped`` says there were more).
"""

from __future__ import annotations

import re
import unicodedata

from bot.archive import queries
from bot.archive import search as full_text
from bot.archive.store import Archive
from bot.archive.text import MAX_TAG_LENGTH
from bot.commands.arguments import Request, clean_argument, require, sentence, split_page, tag_of
from bot.commands.catalogue import COMMANDS
from bot.commands.cursor import Cursor, search_cursor, tag_cursor
from bot.commands.results import Help, LatestDigest, Notice, PaperDetail, PapersPage, Suggestions, TagList
from bot.errors import InputError, NotFound, QueryError
from bot.models import TagCount
from bot.render.context import digest_view, paper_view

#: How deep a search pages: ten pages of five.
SEARCH_LIMIT = 50
#: Tags /tags lists; the rest are counted (a chat message is not an index of thousands).
TAG_LIST_LIMIT = 100
#: Discord shows at most 25 autocomplete choices.
MAX_COMPLETIONS = 25
INTRO = (
    "Paperboy posts a daily digest of machine-learning papers with the curator's commentary."
    " Look papers up by tag or by words (Korean too), or subscribe this chat to the digest."
)
_TAG_FRAGMENT = re.compile(r"[\w-]+")


def show_help(request: Request) -> Help:
    """/start and /help: the same list; /start also greets."""
    return Help(INTRO, COMMANDS, greeting=request.command == "start")


def tag(request: Request) -> PapersPage | Suggestions:
    """/tag vq (also #VQ, and ``vq 2`` for page 2): the tag's papers, newest first."""
    raw, page = split_page(require(request, "a tag"))
    return tag_page(request.archive, tag_of(raw), page, size=request.page_size, base_url=request.base_url)


def tag_page(
    archive: Archive, tag: str, page: int, *, size: int, base_url: str | None
) -> PapersPage | Suggestions:
    """Page ``page`` of a normalised tag: the curator's papers, then the ones the model suggests
    the tag for (marked). A page past the end is the last page (the archive can shrink after a
    button was sent); a tag the curator never used answers the closest ones."""
    try:
        found = queries.papers_by_tag(archive, tag, page, size, with_suggested=True)
    except QueryError:
        if page == 1:
            raise
        first = queries.papers_by_tag(archive, tag, 1, size, with_suggested=True)
        last = first.pages
        found = first if last <= 1 else queries.papers_by_tag(archive, tag, last, size, with_suggested=True)
    if not found.total:
        return Suggestions(tag, found.suggestions)
    return PapersPage(
        title=f"#{tag}",
        papers=tuple(paper_view(paper, base_url) for paper in found.papers),
        page=found.page,
        pages=found.pages,
        total=found.total,
        per_page=size,
        older=tag_cursor(tag, found.page + 1) if found.page < found.pages else None,
        newer=tag_cursor(tag, found.page - 1) if found.page > 1 else None,
        tag=tag,
        curated=found.curated,
        suggested=frozenset(found.suggested),
    )


def resolve_tag(archive: Archive, cursor: Cursor) -> str:
    """The tag a cursor names; for a long tag's hashed cursor, the tag with that prefix and hash."""
    if cursor.digest is None:
        return cursor.key
    for count in queries.tags_matching(archive, cursor.key, limit=1_000):
        if cursor.matches(count.tag):
            return count.tag
    raise NotFound("That tag is no longer in the archive. Send /tags to see every tag.")


def tags(request: Request) -> TagList | Notice:
    """/tags: the most used tags with their counts."""
    counts = queries.tag_counts(request.archive)
    if not counts:
        return Notice("The archive has no tags yet.")
    return TagList(tuple(counts[:TAG_LIST_LIMIT]), len(counts))


def search(request: Request) -> PapersPage | Notice:
    """/search words: papers matching every word, best first."""
    query = require(request, "words to look for")
    return search_page(request.archive, query, 1, size=request.page_size, base_url=request.base_url)


def search_page(
    archive: Archive, query: str, page: int, *, size: int, base_url: str | None
) -> PapersPage | Notice:
    """Page ``page`` of the search for ``query`` (cleaned text); see the module docstring."""
    result = full_text.search(archive, query, limit=SEARCH_LIMIT + 1)
    ranked = result.papers[:SEARCH_LIMIT]
    if not ranked:
        return Notice(f'Nothing matches "{query}". Try fewer or other words.')
    pages = -(-len(ranked) // size)
    # The last page's cursor is the longest (most digits): if it fits, every page's does.
    if search_cursor(query, pages) is None:
        pages = 1
    page = min(page, pages)
    start = (page - 1) * size
    return PapersPage(
        title=f'Search "{query}"',
        papers=tuple(paper_view(paper, base_url) for paper in ranked[start : start + size]),
        page=page,
        pages=pages,
        total=len(ranked),
        per_page=size,
        older=search_cursor(query, page + 1) if page < pages else None,
        newer=search_cursor(query, page - 1) if page > 1 else None,
        query=query,
        capped=len(result.papers) > SEARCH_LIMIT,
    )


def latest(request: Request) -> LatestDigest | Notice:
    """/latest: the newest published (or, without a scheduler, ingested) day's digest."""
    found = queries.latest_day(request.archive, request.today)
    if found is None or not found[1]:  # none yet, or a published day whose papers were removed since
        return Notice("There is no digest yet.")
    day, papers = found
    return LatestDigest(digest_view(day, papers, request.base_url))


def paper(request: Request) -> PaperDetail:
    """/paper ID: one paper in full; an id prefix naming one paper will do, as in git."""
    ref = require(request, "a paper id")
    try:
        found = queries.find_paper(request.archive, ref)
    except NotFound as exc:
        raise NotFound(f"{sentence(str(exc))} /search and /tag show papers' ids.") from None
    seen = queries.appearances(request.archive, found.id)
    return PaperDetail(paper_view(found, request.base_url), tuple(seen))


def complete_tags(archive: Archive, prefix: str, limit: int = MAX_COMPLETIONS) -> list[TagCount]:
    """Tags for an autocomplete box: those starting with ``prefix`` (``#`` and case ignored)
    first, then those containing it, most used first, at most ``limit`` (25 at most).

    Called on every keystroke with whatever is typed so far, so it never raises for odd input:
    text no tag can contain completes to nothing.
    """
    try:
        text = clean_argument(prefix)
    except InputError:
        return []
    fragment = unicodedata.normalize("NFKC", text).strip().lstrip("#").lower()
    if fragment and (len(fragment) > MAX_TAG_LENGTH or not _TAG_FRAGMENT.fullmatch(fragment)):
        return []
    return queries.tags_matching(archive, fragment, max(1, min(limit, MAX_COMPLETIONS)))
