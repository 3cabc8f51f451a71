"""The web archive's pages, each rendered from ``templates/web``. Links are relative (``root``
is the way back to the site's top), so an export works from any address or straight from disk.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

from bot.archive.queries import Day
from bot.models import TagCount
from bot.render.context import DigestView, PaperView, digest_view, template_context, views_digest
from bot.render.environment import Templates

TAG_PAGE_SIZE = 100


class Listed(NamedTuple):
    """A paper as a line on a tag page: its first day (ISO), its place among that day's papers
    (what orders a day's papers in the listing), its id and title. A tuple: a large tag's listing
    is read, sorted, compared and written often (update.py, state.py)."""

    date: str
    order: int
    id: str
    title: str


def listing_sorted(items: Iterable[Listed]) -> list[Listed]:
    """A tag's listing: newest day first, then in the day's order."""
    ordered = sorted(items, key=attrgetter("order"))
    ordered.sort(key=attrgetter("date"), reverse=True)  # stable: the day's order stays
    return ordered


def day_page(
    templates: Templates, digest: DigestView, *, newer: dt.date | None = None, older: dt.date | None = None
) -> str:
    return templates.render("web/day.html", template_context(digest, root="../", newer=newer, older=older))


def paper_page(
    templates: Templates,
    paper: PaperView,
    base_url: str | None,
    *,
    suggested: Sequence[str] = (),
    related: Sequence[tuple[str, str]] = (),
) -> str:
    """A paper's page: its card, the tags the model suggests for it (marked, apart from the
    curator's) and its related papers ((id, title), nearest first)."""
    digest = views_digest(paper.date, [paper], base_url)
    context = template_context(digest, root="../", suggested=suggested, related=related)
    return templates.render("web/paper.html", context)


def index_page(
    templates: Templates, days: Sequence[Day], top_tags: Sequence[TagCount], base_url: str | None
) -> str:
    context = site_context(base_url, root="", days=days, top_tags=top_tags)
    context["paper_total"] = sum(day.entries for day in days)
    return templates.render("web/index.html", context)


def tags_page(templates: Templates, counts: Sequence[TagCount], base_url: str | None) -> str:
    """The tag cloud: sizes grow with the log of a tag's count, from 1em to 2em."""
    top = max((tc.count for tc in counts), default=1)
    cloud = [
        {
            "tag": tc.tag,
            "count": tc.count,
            "size": round(1 + math.log(tc.count) / math.log(top), 2) if top > 1 else 1,
        }
        for tc in sorted(counts, key=lambda tc: tc.tag)
    ]
    return templates.render("web/tags.html", site_context(base_url, root="../", cloud=cloud))


def tag_pages(
    templates: Templates,
    tag: str,
    entries: Sequence[Listed],
    base_url: str | None,
    suggested: Sequence[Listed] = (),
) -> list[tuple[str, str]]:
    """(file name, HTML) for each page of a tag's listing: the curator's papers newest first,
    then those the model suggests the tag for, best first, marked (vq.html, vq-2.html...)."""
    listing = [(item, False) for item in entries] + [(item, True) for item in suggested]
    pages = tag_page_count(len(listing))
    rendered = []
    for page in range(1, pages + 1):
        chunk = listing[(page - 1) * TAG_PAGE_SIZE : page * TAG_PAGE_SIZE]
        context = site_context(
            base_url,
            root="../",
            tag=tag,
            entries=chunk,
            page=page,
            pages=pages,
            total=len(entries),
            suggested_total=len(suggested),
        )
        name = f"{tag}.html" if page == 1 else f"{tag}-{page}.html"
        rendered.append((name, templates.render("web/tag.html", context)))
    return rendered


def tag_page_count(papers: int) -> int:
    """How many listing pages a tag of ``papers`` has (one, even empty, as a page says so)."""
    return max(1, math.ceil(papers / TAG_PAGE_SIZE))


def search_page(templates: Templates, base_url: str | None) -> str:
    """The exported site's search.html: the form, and search.js to answer it in the browser
    (Paperboy's server renders the same template with its own results instead)."""
    context = site_context(base_url, root="", query="", results=[], error=None, static_search=True)
    return templates.render("web/search.html", context)


def site_context(base_url: str | None, **values: Any) -> dict[str, Any]:
    """Pages about the whole site rather than one digest (also the server's own pages): an empty
    digest, the same names."""
    return {**template_context(digest_view(None, [], base_url)), **values}
