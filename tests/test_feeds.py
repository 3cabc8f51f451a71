"""RSS and Atom feeds: read cleanly by feedparser, stable byte for byte, ids that never change."""

from __future__ import annotations

import feedparser
import pytest

from bot.archive import queries
from bot.archive.parsers import Document, parse_document
from bot.archive.store import Archive
from bot.channels.feeds import build_feed, feed_path
from bot.render.environment import Templates
from tests.hostile import hostile_papers

SITE = "https://paperboy.example"


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_the_main_feed(seeded: Archive, templates: Templates, kind: str) -> None:
    papers = queries.latest_papers(seeded, 50)
    parsed = feedparser.parse(build_feed(templates, papers, kind, site_url=SITE))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("rss20" if kind == "rss" else "atom10")
    assert len(parsed.entries) == 45  # every paper a digest featured; the five queued ones wait
    entry = next(e for e in parsed.entries if e.title.startswith("MARS"))
    assert entry.id == "urn:paperboy:paper:mars-mixture-of-auto-regressive-models-dbf751e1"
    assert entry.link == f"{SITE}/papers/mars-mixture-of-auto-regressive-models-dbf751e1.html"
    assert [t.term for t in entry.tags] == ["autoregressive-model", "text2img", "vq"]
    assert entry.published_parsed[:3] == (2024, 7, 11)
    assert "Autoregressive Text to Image 모델" in entry.content[0].value
    dates = [e.published_parsed[:3] for e in parsed.entries]
    assert dates == sorted(dates, reverse=True)
    self_link = next(link.href for link in parsed.feed.links if link.rel == "self")
    assert self_link == f"{SITE}/{feed_path(kind)}"  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_a_tag_feed(seeded: Archive, templates: Templates, kind: str) -> None:
    papers = queries.latest_papers(seeded, 50, tag="vq")
    parsed = feedparser.parse(build_feed(templates, papers, kind, site_url=SITE, tag="vq"))
    assert parsed.bozo == 0
    assert [e.title[:4] for e in parsed.entries] == ["MARS", "Scal"]
    assert parsed.feed.title == "Paperboy · #vq"


def test_feeds_are_stable_byte_for_byte(seeded: Archive, templates: Templates) -> None:
    def both() -> tuple[bytes, bytes]:
        papers = queries.latest_papers(seeded, 50)
        return tuple(build_feed(templates, papers, kind, site_url=SITE) for kind in ("rss", "atom"))  # type: ignore[return-value]

    first = both()
    assert both() == first  # nothing in them comes from the clock
    later = "2026년 1월 2일\nA Later Paper\n(A B)\nAbstract.\n코멘트\n#vq\n"
    seeded.ingest(parse_document(Document("later.txt", later)))
    rss = feedparser.parse(both()[0])
    old = {e.id for e in feedparser.parse(first[0]).entries}
    assert old <= {e.id for e in rss.entries}  # every earlier item keeps its guid
    assert rss.entries[0].title == "A Later Paper"
    assert rss.feed.updated_parsed[:3] == (2026, 1, 2)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_hostile_text_still_makes_a_valid_feed(templates: Templates, kind: str) -> None:
    parsed = feedparser.parse(build_feed(templates, hostile_papers(), kind, site_url=SITE))
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert len(parsed.entries) == 4
    assert parsed.entries[0].title.startswith('<script>alert("x")</script>')  # as text, escaped in the XML


def test_an_empty_archive_has_a_valid_feed_with_a_fixed_date(templates: Templates) -> None:
    parsed = feedparser.parse(build_feed(templates, [], "atom", site_url=SITE))
    assert parsed.bozo == 0 and parsed.entries == []
    assert parsed.feed.updated_parsed[:3] == (2000, 1, 1)  # a fixed date, not the clock's
