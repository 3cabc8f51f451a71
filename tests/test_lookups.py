"""Tag, search and listing lookups over the seeded archive, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from bot.archive import queries
from bot.archive.parsers import Document, parse_document
from bot.archive.search import search
from bot.archive.store import Archive
from bot.errors import NotFound, QueryError
from tests.test_parse_daily_post import EXPECTED as DAILY

MARS = "MARS: Mixture of Auto-Regressive Models for Fine-grained Text-to-image Synthesis"
VQGAN_LC = "Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of 99%"


def titles(papers: tuple[queries.Paper, ...] | list[queries.Paper]) -> list[str]:
    return [p.title for p in papers]


@pytest.mark.parametrize("spelling", ["vq", "#vq", "#VQ", "VQ", " vq "])
def test_tag_vq_answers_mars_then_vqgan_lc(seeded: Archive, spelling: str) -> None:
    page = queries.papers_by_tag(seeded, spelling)
    assert (page.tag, page.total, page.pages) == ("vq", 2, 1)
    assert titles(page.papers) == [MARS, VQGAN_LC]  # 2024-07-11 before 2024-06-18
    assert page.suggestions == ()


def test_tag_counts_match_the_posts(seeded: Archive) -> None:
    expected = Counter(tag for _, entries in DAILY.values() for *_, tags in entries for tag in tags)
    counts = queries.tag_counts(seeded)
    assert {tc.tag: tc.count for tc in counts} == dict(expected)
    assert [tc.count for tc in counts] == sorted((tc.count for tc in counts), reverse=True)
    assert (counts[0].tag, counts[0].count) == ("vision-language", 4)


@pytest.mark.parametrize(
    ("asked", "first_suggestion"),
    [
        ("vision", "vision-language"),
        ("difusion", "diffusion"),
        ("transformers", "transformer"),
        ("autoregressive", "autoregressive-model"),
    ],
)
def test_an_unknown_tag_answers_the_closest_tags(seeded: Archive, asked: str, first_suggestion: str) -> None:
    page = queries.papers_by_tag(seeded, asked)
    assert page.total == 0 and page.papers == ()
    assert page.suggestions[0].tag == first_suggestion


def test_an_unknown_tag_with_nothing_close(seeded: Archive) -> None:
    assert queries.papers_by_tag(seeded, "zzzzqqq").suggestions == ()


@pytest.mark.parametrize("bad", ["<b>vq</b>", "", "#", "a b", "x" * 100, "'; DROP TABLE papers; --"])
def test_a_tag_that_cannot_be_a_tag_is_refused(seeded: Archive, bad: str) -> None:
    with pytest.raises(QueryError, match="tag"):
        queries.papers_by_tag(seeded, bad)


def test_tag_pages_are_newest_first(archive: Archive) -> None:
    for day in range(1, 4):
        text = f"2024년 5월 {day}일\n" + "".join(
            f"Paper {day}-{n}\n(A B)\nAbstract {n}.\n코멘트\n#bulk\n" for n in range(9)
        )
        archive.ingest(parse_document(Document(f"day{day}.txt", text)))
    first = queries.papers_by_tag(archive, "bulk", page=1)
    assert (first.total, first.pages, len(first.papers)) == (27, 3, 10)
    last = queries.papers_by_tag(archive, "bulk", page=3)
    assert len(last.papers) == 7
    every = [p for page in (1, 2, 3) for p in queries.papers_by_tag(archive, "bulk", page=page).papers]
    assert len({p.id for p in every}) == 27
    assert [p.date for p in every] == sorted((p.date for p in every), reverse=True)
    assert every[0].date == dt.date(2024, 5, 3) and every[-1].date == dt.date(2024, 5, 1)
    with pytest.raises(QueryError, match="no page 4"):
        queries.papers_by_tag(archive, "bulk", page=4)
    with pytest.raises(QueryError, match="page must be"):
        queries.papers_by_tag(archive, "bulk", page=0)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("코드북", VQGAN_LC),  # commentary says 코드북을: a particle attached to the word
        ("codebook", VQGAN_LC),
        ("드북", VQGAN_LC),  # the middle of a word
        ("Kaiming He", "Autoregressive Image Generation without Vector Quantization"),
        ("μP", "u-μP"),
        ("DARL Latent", "Autoregressive Image Generation without Vector Quantization"),  # DARL과, Latent를
        ("Latent를", "Autoregressive Image Generation without Vector Quantization"),
        ("PaliGemma의", "PaliGemma: A versatile 3B VLM for transfer"),
        ("Quiet-STaR", "Quiet-STaR: Language Models Can Teach Themselves to Think Before Speaking"),
    ],
)
def test_search_finds_the_paper(seeded: Archive, query: str, first: str) -> None:
    assert search(seeded, query).papers[0].title == first


def test_search_needs_every_word(seeded: Archive) -> None:
    assert titles(search(seeded, "코드북 VQGAN").papers) == [VQGAN_LC]
    assert search(seeded, "코드북 PaliGemma").papers == ()


def test_search_ranks_title_matches_first(seeded: Archive) -> None:
    in_title = ["transformer" in title.lower() for title in titles(search(seeded, "Transformer").papers)]
    assert in_title.count(True) >= 3 and in_title.count(False) >= 3
    assert in_title == sorted(in_title, reverse=True)  # every title match before any other match


@pytest.mark.parametrize(
    "hostile",
    [
        '"; DROP TABLE papers; --',
        "NEAR(a b)",
        "title:vq",
        "vq*",
        "a OR b AND NOT c",
        "100%",
        "_",
        "\\",
        "<script>alert(1)</script>",
        "🙂 vq",
        "v\u200bq",
        "a\x00b",
        "\x1b[31mred",
        "vq\x7f",
    ],
)
def test_search_treats_any_text_as_words(seeded: Archive, hostile: str) -> None:
    try:
        result = search(seeded, hostile)
    except QueryError as exc:
        assert "search" in str(exc)
        return
    assert isinstance(result.papers, tuple)
    assert queries.stats(seeded).papers == 50


def test_search_input_limits(seeded: Archive) -> None:
    with pytest.raises(QueryError, match="at least one word"):
        search(seeded, "  ?! ")
    with pytest.raises(QueryError, match="under 200"):
        search(seeded, "a" * 201)
    with pytest.raises(QueryError, match="at most 12 words"):
        search(seeded, " ".join(f"w{i}" for i in range(13)))
    assert search(seeded, "v\u200bq").terms == ("vq",)


def test_find_paper_by_id_and_prefix(seeded: Archive) -> None:
    mars = queries.papers_by_tag(seeded, "text2img").papers[0]
    assert queries.find_paper(seeded, mars.id) == mars
    assert queries.find_paper(seeded, "mars-mix").id == mars.id
    with pytest.raises(NotFound, match="several papers"):
        queries.find_paper(seeded, "s")
    with pytest.raises(NotFound, match="no paper has the id"):
        queries.find_paper(seeded, "nope%")


def test_days_queue_and_a_days_papers(seeded: Archive) -> None:
    assert [(d.date, d.entries) for d in queries.days(seeded)] == [
        (dt.date(2025, 12, 11), 27),
        (dt.date(2024, 7, 11), 6),
        (dt.date(2024, 6, 18), 9),
        (dt.date(2024, 3, 15), 3),
    ]
    assert titles(queries.queue(seeded)) == [
        "u-μP",
        "Divergent Token metrics (DTMs)",
        "MultiFusion",
        "M-VADER",
        "MAGMA",
    ]
    assert titles(queries.digest_papers(seeded, dt.date(2024, 7, 11))) == [
        title for title, *_ in DAILY["daily-2024-07-11.txt"][1]
    ]
    assert queries.digest_papers(seeded, dt.date(2024, 7, 12)) == []
