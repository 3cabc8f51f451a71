"""The web archive's pages, each rendered from ``templates/web``. Links are relative (``root``
is the way back to the site's top), so an export works from any address or straight from disk.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.archive.queries import Day
from bot.models import TagCount
from bot.render.context import DigestView, PaperView, digest_view, template_context, views_digest
from bot.render.environment import Templates

TAG_PAGE_SIZE = 100


@dataclass(frozen=True)
class Listed:
    """A paper as a line on a tag page."""

    date: dt.date
    id: str
    title: str


def day_page(
    templates: Templates, digest: DigestView, *, newer: dt.date | None = None, older: dt.date | None = None
) -> str:
    return templates.render("web/day.html", template_context(digest, root="../", newer=newer, older=older))


def paper_page(templates: Templates, paper: PaperView, base_url: str | None) -> str:
    digest = views_digest(paper.date, [paper], base_url)
    return templates.render("web/paper.html", template_context(digest, root="../"))


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
    templates: Templates, tag: str, entries: Sequence[Listed], base_url: str | None
) -> list[tuple[str, str]]:
    """(file name, HTML) for each page of a tag's listing, newest first: vq.html, vq-2.html..."""
    pages = max(1, math.ceil(len(entries) / TAG_PAGE_SIZE))
    rendered = []
    for page in range(1, pages + 1):
        chunk = entries[(page - 1) * TAG_PAGE_SIZE : page * TAG_PAGE_SIZE]
        context = site_context(
            base_url, root="../", tag=tag, entries=chunk, page=page, pages=pages, total=len(entries)
        )
        name = f"{tag}.html" if page == 1 else f"{tag}-{page}.html"
        rendered.append((name, templates.render("web/tag.html", context)))
    return rendered


def search_page(templates: Templates, base_url: str | None) -> str:
    """The exported site's search.html: the form, and search.js to answer it in the browser
    (Paperboy's server renders the same template with its own results instead)."""
    context = site_context(base_url, root="", query="", results=[], error=None, static_search=True)
    return templates.render("web/search.html", context)


def site_context(base_url: str | None, **values: Any) -> dict[str, Any]:
    """Pages about the whole site rather than one digest (also the server's own pages): an empty
    digest, the same names."""
    return {**template_context(digest_view(None, [], base_url)), **values}
