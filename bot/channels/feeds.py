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
from bot.render.context import digest_view, paper_view, template_context
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
    dated = [paper for paper in papers if paper.date]
    newest = _midnight(max(paper.date for paper in dated if paper.date)) if dated else EMPTY_ARCHIVE_DATE
    generator.updated(newest)
    generator.lastBuildDate(newest)
    for paper in dated[:ITEMS]:
        _add_entry(generator, templates, paper, site_url)
    xml: bytes = generator.rss_str(pretty=True) if kind == "rss" else generator.atom_str(pretty=True)
    return xml


def _add_entry(generator: FeedGenerator, templates: Templates, paper: Paper, site_url: str) -> None:
    view = paper_view(paper, site_url)
    context = template_context(digest_view(paper.date, [paper], site_url), paper=view)
    entry = generator.add_entry(order="append")
    entry.id(f"urn:paperboy:paper:{paper.id}")
    entry.title(view.title)
    entry.link(href=view.url)
    assert paper.date is not None
    entry.published(_midnight(paper.date))
    entry.updated(_midnight(paper.date))
    entry.content(templates.render("feed/item.html", context), type="html")
    entry.summary(view.commentary or view.abstract)
    for tag in paper.tags:
        entry.category(term=tag, label=tag)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
