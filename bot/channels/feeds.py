"""RSS 2.0 and Atom 1.0 feeds (feedgen): the whole archive's newest papers, or one tag's.

Every date comes from the archive, never the clock, so identical archives give identical bytes
(the web server's ETags rely on it). A paper's id is ``urn:paperboy:paper:ID``, the same in
both formats and through any change of the site's address, so readers never see it twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from feedgen.feed import FeedGenerator

from bot.models import Paper
from bot.render.context import PaperView, paper_view, template_context, views_digest
from bot.render.environment import Templates

Kind = Literal["rss", "atom"]
KINDS: tuple[Kind, ...] = ("rss", "atom")
ITEMS = 50
#: When an archive has no dated paper yet, its feeds still need a fixed date.
EMPTY_ARCHIVE_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def feed_path(kind: Kind, tag: str | None = None) -> str:
    """Where a feed lives on the site: feed.xml / atom.xml, tags/vq.xml / tags/vq.atom."""
    if tag:
        return f"tags/{tag}.{'xml' if kind == 'rss' else 'atom'}"
    return "feed.xml" if kind == "rss" else "atom.xml"


def build_feed(
    templates: Templates, papers: Sequence[Paper], kind: Kind, *, site_url: str, tag: str | None = None
) -> bytes:
    """The feed of ``papers`` (newest first, already chosen), as XML bytes."""
    return build_feeds(templates, papers, site_url=site_url, tag=tag, kinds=(kind,))[kind]


def build_feeds(
    templates: Templates,
    papers: Sequence[Paper],
    *,
    site_url: str,
    tag: str | None = None,
    kinds: Sequence[Kind] = KINDS,
) -> dict[Kind, bytes]:
    """The same papers as RSS and as Atom; each item's content is rendered once for both."""
    items = [_item(templates, paper, site_url) for paper in papers if paper.date][:ITEMS]
    return {kind: _feed(items, kind, site_url, tag) for kind in kinds}


def _item(templates: Templates, paper: Paper, site_url: str) -> tuple[PaperView, str]:
    view = paper_view(paper, site_url)
    context = template_context(views_digest(paper.date, [view], site_url), paper=view)
    return view, templates.render("feed/item.html", context)


def _feed(items: Sequence[tuple[PaperView, str]], kind: Kind, site_url: str, tag: str | None) -> bytes:
    generator = FeedGenerator()
    home = f"{site_url}/tags/{tag}.html" if tag else f"{site_url}/"
    generator.id(home)
    generator.title(f"Paperboy · #{tag}" if tag else "Paperboy")
    generator.author({"name": "Paperboy"})
    generator.description(
        f"Papers tagged #{tag}, with the curator's commentary"
        if tag
        else "Daily ML papers with the curator's commentary"
    )
    generator.language("ko")
    # feedgen writes the last link as RSS's <channel><link>: self first, the page last.
    generator.link(href=f"{site_url}/{feed_path(kind, tag)}", rel="self")
    generator.link(href=home, rel="alternate")
    newest = _midnight(max(view.date for view, _ in items if view.date)) if items else EMPTY_ARCHIVE_DATE
    generator.updated(newest)
    generator.lastBuildDate(newest)
    for view, content in items:
        assert view.date is not None
        entry = generator.add_entry(order="append")
        entry.id(f"urn:paperboy:paper:{view.id}")
        entry.title(view.title)
        entry.link(href=view.url)
        entry.published(_midnight(view.date))
        entry.updated(_midnight(view.date))
        entry.content(content, type="html")
        entry.summary(view.commentary or view.abstract)
        for name in view.tags:
            entry.category(term=name, label=name)
    xml: bytes = generator.rss_str(pretty=True) if kind == "rss" else generator.atom_str(pretty=True)
    return xml


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
