"""The sources' answers read strictly: a real answer's structure (the fixtures) gives candidates;
anything else is one line saying what is wrong with it, never a guess."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.pull import arxiv, hf
from bot.pull.http import Source, SourceError
from tests.hf_standin import fixture

FIXTURES = Path(__file__).with_name("fixtures")
SOURCE = Source("arXiv", "https://export.arxiv.org", 30, "Paperboy/test")


def test_arxivs_feed_gives_its_papers_on_one_line_each() -> None:
    old, new = arxiv.parse_feed(SOURCE, (FIXTURES / "arxiv_query.xml").read_bytes())
    assert (new.id, new.arxiv_id, new.published) == ("arxiv-2406.11837", "2406.11837v1", dt.date(2024, 6, 17))
    assert new.title == "Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%"
    assert new.summary.startswith("In the realm of image quantization") and "\n" not in new.summary
    assert new.authors == ("Lei Zhu", "Fangyun Wei", "Yanye Lu", "Dong Chen")
    assert (old.id, old.arxiv_id) == ("arxiv-hep-th_9901001", "hep-th/9901001v1")


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "answered malformed XML (line 1, column"),
        (b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", "answered an HTML page"),
        (b"<rss version='2.0'><channel/></rss>", "the document is <rss>, not an Atom <feed>"),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>http://arxiv.org/abs/2406.11837v1</id>"
            b"<summary>S</summary></entry></feed>",
            "entry 1 (2406.11837v1) has no <title>",
        ),
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom'><entry><id>urn:x</id><title>T</title></entry></feed>",
            "entry 1 has an <id> that is not an arXiv paper's",
        ),
    ],
    ids=["cut-short", "html", "not-atom", "no-title", "not-an-arxiv-id"],
)
def test_an_answer_that_is_not_arxivs_feed_is_refused(body: bytes, said: str) -> None:
    with pytest.raises(SourceError) as caught:
        arxiv.parse_feed(SOURCE, body)
    assert str(caught.value).startswith("arXiv (https://export.arxiv.org) answered")
    assert said in str(caught.value)


def test_hugging_faces_listing_gives_its_papers() -> None:
    found = hf.parse_listing(SOURCE, fixture(), dt.date(2025, 12, 11))
    assert [(c.id, c.upvotes, c.published) for c in found] == [
        ("arxiv-2509.04664", 26, dt.date(2025, 9, 4)),
        ("arxiv-2508.02739", 44, dt.date(2025, 8, 2)),
        ("arxiv-2403.04652", 48, dt.date(2024, 3, 7)),
        ("arxiv-2307.14995", 17, dt.date(2023, 7, 27)),
    ]
    assert found[0].authors == ("Adam Tauman Kalai", "Ofir Nachum", "Santosh S. Vempala", "Edwin Zhang")
    assert {c.day for c in found} == {dt.date(2025, 12, 11)} and {c.source for c in found} == {"hf"}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda item: item.pop("paper"), "item 1 has no 'paper' object"),
        (
            lambda item: item["paper"].update(id="not-an-id"),
            "item 1 (not-an-id) has an id that is not an arXiv id",
        ),
        (lambda item: item["paper"].update(title=" "), "item 1 (2509.04664) has no 'title'"),
        (lambda item: item["paper"].pop("summary"), "item 1 (2509.04664) has no 'summary'"),
        (lambda item: item["paper"].update(authors="Ada"), "has no list of authors with names"),
        (lambda item: item["paper"]["authors"].append({"_id": "x"}), "has no list of authors with names"),
        (lambda item: item["paper"].update(upvotes="26"), "item 1 (2509.04664) has no upvote count"),
        (lambda item: item["paper"].update(upvotes=True), "item 1 (2509.04664) has no upvote count"),
        (lambda item: item["paper"].update(upvotes=-1), "item 1 (2509.04664) has no upvote count"),
    ],
)
def test_a_listing_missing_what_a_candidate_needs_is_refused(change: object, said: str) -> None:
    data = fixture()
    change(data[0])  # type: ignore[operator]
    with pytest.raises(
        SourceError, match="answered JSON of another shape than its Daily Papers API"
    ) as caught:
        hf.parse_listing(SOURCE, data, dt.date(2025, 12, 11))
    assert said in str(caught.value)
