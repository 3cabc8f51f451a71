"""RSS 2.0 and Atom 1.0 feeds (feedgen): the whole archive's newest papers, or one tag's.

Every date comes from the archive, never the clock, so identical archives give identical bytes
(the web server's ETags rely on it). A paper's id is ``urn:paperboy:paper:ID``, the same in
both formats and through any change of the site's address, so readers never see it twice.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
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
#: How feedgen (pretty-printed) opens and closes an entry, and ends a feed.
_ENTRY: dict[Kind, tuple[bytes, bytes]] = {
    "atom": (b"  <entry>\n", b"  </entry>\n"),
    "rss": (b"    <item>\n", b"    </item>\n"),
}
_CLOSING: dict[Kind, bytes] = {"atom": b"</feed>\n", "rss": b"  </channel>\n</rss>\n"}
#: An entry's id (Atom) or guid (RSS). Text in a feed has its '<' escaped, so only the element
#: itself can close with ``</id>`` or ``</guid>``.
_GUID = re.compile(rb">urn:paperboy:paper:([^<]*)</(?:id|guid)>")
#: The scheme (Atom) or domain (RSS) of a category the tag model suggested, not the curator
#: (PAPERBOY_FEED_SUGGESTED_TAGS): readers that show a category's scheme or label tell them apart.
SUGGESTED_SCHEME = "urn:paperboy:suggested-tag"
#: Each paper's suggested tags, best first, for the feeds that carry them.
Suggested = Mapping[str, Sequence[str]]


def feed_path(kind: Kind, tag: str | None = None) -> str:
    """Where a feed lives on the site: feed.xml / atom.xml, tags/vq.xml / tags/vq.atom."""
    if tag:
        return f"tags/{tag}.{'xml' if kind == 'rss' else 'atom'}"
    return "feed.xml" if kind == "rss" else "atom.xml"


def build_feed(
    templates: Templates,
    papers: Sequence[Paper],
    kind: Kind,
    *,
    site_url: str,
    tag: str | None = None,
    suggested: Suggested | None = None,
) -> bytes:
    """The feed of ``papers`` (newest first, already chosen), as XML bytes."""
    return build_feeds(templates, papers, site_url=site_url, tag=tag, kinds=(kind,), suggested=suggested)[
        kind
    ]


def build_feeds(
    templates: Templates,
    papers: Sequence[Paper],
    *,
    site_url: str,
    tag: str | None = None,
    kinds: Sequence[Kind] = KINDS,
    suggested: Suggested | None = None,
) -> dict[Kind, bytes]:
    """The same papers as RSS and as Atom; each item's content is rendered once for both.
    ``suggested``: the papers' suggested tags, as categories marked ``SUGGESTED_SCHEME``."""
    entries = Entries(templates, site_url, kinds, suggested)
    entries.render(papers)
    ranked = [(paper.id, paper.date) for paper in papers if paper.date][:ITEMS]
    return {kind: entries.feed(kind, ranked, tag) for kind in kinds}


class Entries:
    """Feed entries, each rendered once for every feed that holds it.

    An entry's XML does not depend on its feed (the main feed, a tag's), and feedgen writes each
    one as a block of lines of its own, so a feed is its header and its entries' blocks. The
    export renders a paper's entry once for all its tags' feeds; the site's update takes the
    entries of unchanged papers from the feeds it wrote before (``remember``) and renders only
    the changed ones, and the bytes come out the same either way.
    """

    def __init__(
        self,
        templates: Templates,
        site_url: str,
        kinds: Sequence[Kind] = KINDS,
        suggested: Suggested | None = None,
    ) -> None:
        self.templates = templates
        self.site_url = site_url
        self.suggested = suggested or {}
        self.blocks: dict[Kind, dict[str, bytes]] = {kind: {} for kind in kinds}

    def render(self, papers: Iterable[Paper]) -> None:
        """Render the entries of ``papers`` (the dated ones), replacing any remembered."""
        items = [_item(self.templates, paper, self.site_url) for paper in papers if paper.date]
        for kind, blocks in self.blocks.items():
            feed = _feed(items, kind, self.site_url, None, None, self.suggested)
            blocks.update(split_entries(feed, kind))

    def remember(self, kind: Kind, xml: bytes, *, unless: Collection[str] = ()) -> None:
        """Keep the entries of a feed written before, but those of the papers ``unless``."""
        if kind in self.blocks:
            for paper_id, block in split_entries(xml, kind).items():
                if paper_id not in unless:
                    self.blocks[kind].setdefault(paper_id, block)

    def missing(self, ids: Iterable[str]) -> set[str]:
        return {paper_id for paper_id in ids for blocks in self.blocks.values() if paper_id not in blocks}

    def feed(self, kind: Kind, ranked: Sequence[tuple[str, dt.date | None]], tag: str | None) -> bytes:
        """The feed of the papers ``ranked`` (id, date; newest first), whose entries are here."""
        dates = [day for _, day in ranked if day]
        head = _feed([], kind, self.site_url, tag, max(dates) if dates else None)
        closing = _CLOSING[kind]
        if not head.endswith(closing):  # feedgen changed how it writes a feed: say so, loudly
            raise RuntimeError(f"a {kind} feed from feedgen does not end with {closing!r}")
        blocks = self.blocks[kind]
        return head[: -len(closing)] + b"".join(blocks[paper_id] for paper_id, _ in ranked) + closing


def split_entries(xml: bytes, kind: Kind) -> dict[str, bytes]:
    """Each entry's block of lines in a feed feedgen wrote, by paper id."""
    opening, closing = _ENTRY[kind]
    found: dict[str, bytes] = {}
    position = xml.find(b"\n" + opening) + 1
    while position > 0 and xml.startswith(opening, position):
        end = xml.find(closing, position)
        if end < 0:
            break
        block = xml[position : end + len(closing)]
        guid = _GUID.search(block)
        if guid is not None:
            found[html.unescape(guid.group(1).decode("utf-8"))] = block
        position = end + len(closing)
    return found


def _item(templates: Templates, paper: Paper, site_url: str) -> tuple[PaperView, str]:
    view = paper_view(paper, site_url)
    context = template_context(views_digest(paper.date, [view], site_url), paper=view)
    return view, templates.render("feed/item.html", context)


def _feed(
    items: Sequence[tuple[PaperView, str]],
    kind: Kind,
    site_url: str,
    tag: str | None,
    newest: dt.date | None,
    suggested: Suggested | None = None,
) -> bytes:
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
    updated = _midnight(newest) if newest else EMPTY_ARCHIVE_DATE
    updated = max([updated, *(view.corrected for view, _ in items if view.corrected)])
    generator.updated(updated)
    generator.lastBuildDate(updated)
    for view, content in items:
        assert view.date is not None
        entry = generator.add_entry(order="append")
        entry.id(f"urn:paperboy:paper:{view.id}")
        entry.title(view.title)
        entry.link(href=view.url)
        entry.published(_midnight(view.date))
        # A correction: the same guid, a new <updated> (readers show the entry as changed).
        entry.updated(max(_midnight(view.date), view.corrected) if view.corrected else _midnight(view.date))
        entry.content(content, type="html")
        entry.summary(view.commentary or view.abstract)
        for name in view.tags:
            entry.category(term=name, label=name)
        for name in (suggested or {}).get(view.id, ()):
            entry.category(term=name, scheme=SUGGESTED_SCHEME, label=f"{name} (suggested)")
    xml: bytes = generator.rss_str(pretty=True) if kind == "rss" else generator.atom_str(pretty=True)
    return xml


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
