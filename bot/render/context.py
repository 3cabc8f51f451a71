"""What every template sees: the digest, its papers, tags and links, and the site's URLs.

The same context goes to every channel; templates decide the formatting. Text is cleaned once
here: control characters go and lone surrogates become U+FFFD, since no channel can carry them
(XML refuses them outright) and they are never meant as text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.archive.text import has_hangul
from bot.models import Paper, TagCount

AUTHORS_SHOWN = 5
_UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def clean(text: str) -> str:
    """Control characters dropped, lone surrogates as U+FFFD; most text has neither."""
    if not _UNSHOWABLE.search(text):
        return text
    return _UNSHOWABLE.sub(lambda m: "\ufffd" if "\ud800" <= m.group(0) <= "\udfff" else "", text)


def paragraphs(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in _PARAGRAPHS.split(text) if part.strip())


@dataclass(frozen=True)
class PaperView:
    id: str
    title: str
    authors: tuple[str, ...]
    author_count: int | None
    abstract: str
    commentary: str
    tags: tuple[str, ...]
    links: tuple[str, ...]
    date: dt.date | None
    published: dt.date | None
    upvotes: int | None
    #: Every day that featured the paper, first first.
    days: tuple[dt.date, ...]
    #: When a correction last changed it (None: never).
    corrected: dt.datetime | None
    #: Where the paper's page lives, relative to the site root (papers/ID.html).
    page: str
    #: The page's absolute URL when the site's address is known.
    url: str | None
    arxiv_url: str | None

    @property
    def abstract_paragraphs(self) -> tuple[str, ...]:
        return paragraphs(self.abstract)

    @property
    def commentary_paragraphs(self) -> tuple[str, ...]:
        return paragraphs(self.commentary)

    @property
    def commentary_lang(self) -> str | None:
        """``ko`` for commentary in Hangul: the pages are in English (titles, abstracts, the
        interface), and this tells readers' browsers and screen readers where Korean is."""
        return "ko" if has_hangul(self.commentary) else None

    @property
    def authors_shown(self) -> tuple[str, ...]:
        return self.authors[:AUTHORS_SHOWN]

    @property
    def authors_more(self) -> int:
        return max(0, (self.author_count or len(self.authors)) - len(self.authors_shown))

    @property
    def link(self) -> str | None:
        """Where a chat message sends a reader for the full text: the archive page, else arXiv."""
        return self.url or self.arxiv_url


@dataclass(frozen=True)
class DigestView:
    date: dt.date | None
    papers: tuple[PaperView, ...]
    #: The day's tags, most used first (a tag-filtered digest names its tag here too).
    tags: tuple[TagCount, ...]
    tag: str | None
    links: tuple[str, ...]
    #: Absolute URL of the web archive (None: pages link relatively, chats link to arXiv).
    base_url: str | None

    @property
    def count(self) -> int:
        return len(self.papers)

    @property
    def page(self) -> str | None:
        return f"days/{self.date.isoformat()}.html" if self.date else None

    @property
    def url(self) -> str | None:
        return f"{self.base_url}/{self.page}" if self.base_url and self.page else None


def paper_view(paper: Paper, base_url: str | None) -> PaperView:
    page = f"papers/{paper.id}.html"
    arxiv = paper.id.removeprefix("arxiv-").replace("_", "/") if paper.id.startswith("arxiv-") else None
    return PaperView(
        id=paper.id,
        title=clean(paper.title),
        authors=tuple(clean(name) for name in paper.authors),
        author_count=paper.author_count,
        abstract=clean(paper.abstract),
        commentary=clean(paper.commentary),
        tags=paper.tags,
        links=tuple(clean(link) for link in paper.links),
        date=paper.date,
        published=paper.published,
        upvotes=paper.upvotes,
        days=paper.days or ((paper.date,) if paper.date else ()),
        corrected=paper.corrected,
        page=page,
        url=f"{base_url}/{page}" if base_url else None,
        arxiv_url=f"https://arxiv.org/abs/{arxiv}" if arxiv else None,
    )


def digest_view(
    day: dt.date | None, papers: Sequence[Paper], base_url: str | None, tag: str | None = None
) -> DigestView:
    """A day's digest, optionally only the papers with ``tag`` (what a tag subscriber gets)."""
    chosen = [paper for paper in papers if tag is None or tag in paper.tags]
    return views_digest(day, [paper_view(paper, base_url) for paper in chosen], base_url, tag)


def views_digest(
    day: dt.date | None, views: Sequence[PaperView], base_url: str | None, tag: str | None = None
) -> DigestView:
    """A digest of papers already prepared (a page that shows one paper of a day reuses them)."""
    counts = Counter(t for view in views for t in view.tags)
    tags = tuple(TagCount(t, n) for t, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    links = tuple(dict.fromkeys(link for view in views for link in view.links))
    return DigestView(day, tuple(views), tags, tag, links, base_url)


def template_context(digest: DigestView, **extra: Any) -> dict[str, Any]:
    """The context every template gets: the same names on every channel."""
    return {
        "digest": digest,
        "papers": digest.papers,
        "tags": digest.tags,
        "links": digest.links,
        "base_url": digest.base_url,
        **extra,
    }
