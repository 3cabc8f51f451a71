"""The chat commands' lookups over the seeded archive, on SQLite and PostgreSQL: /tag and its
page cursors, /tags, /search, /latest, /paper, /help, and tag completion."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.archive import queries
from bot.archive.parsers import Document, parse_document
from bot.archive.schema import publications
from bot.archive.search import search
from bot.archive.store import Archive
from bot.commands import (
    COMMANDS,
    HANDLERS,
    Answer,
    Error,
    Help,
    LatestDigest,
    Notice,
    PaperDetail,
    PapersPage,
    Suggestions,
    TagList,
    answer,
    complete_tags,
    turn_page,
)
from bot.commands.cursor import GARBLED, MAX_CURSOR_BYTES
from tests.test_lookups import MARS, VQGAN_LC


def page_of(reply: Answer) -> PapersPage:
    assert isinstance(reply, PapersPage), reply
    return reply


def titles(reply: Answer) -> list[str]:
    return [paper.title for paper in page_of(reply).papers]


def ingest_days(archive: Archive, tag: str, days: int, per_day: int) -> None:
    """``days`` daily posts of ``per_day`` papers each, every one tagged ``tag``."""
    for day in range(1, days + 1):
        text = f"2024년 5월 {day}일\n" + "".join(
            f"Paper {day}-{n} about bulk {tag}\n(A B)\nAbstract {n}.\n코멘트\n#{tag}\n"
            for n in range(per_day)
        )
        archive.ingest(parse_document(Document(f"day{day}-{tag[:8]}.txt", text)))


def walk(archive: Archive, first: PapersPage, size: int) -> list[PapersPage]:
    """Every page from ``first`` on, following the "older" cursors as a reader pressing buttons."""
    pages = [first]
    while pages[-1].older:
        assert len(pages[-1].older.encode()) <= MAX_CURSOR_BYTES
        pages.append(page_of(turn_page(archive, pages[-1].older, page_size=size)))
    return pages


@pytest.mark.parametrize(("command", "args"), [("tag", "vq"), ("/tag", "#VQ"), ("/Tag@PaperboyBot", "  Vq ")])
def test_tag_answers_the_two_vq_papers_newest_first(seeded: Archive, command: str, args: str) -> None:
    reply = page_of(answer(seeded, command, args))
    assert titles(reply) == [MARS, VQGAN_LC]  # 2024-07-11 before 2024-06-18
    assert (reply.tag, reply.total, reply.page, reply.pages, reply.title) == ("vq", 2, 1, 1, "#vq")
    assert (reply.older, reply.newer, reply.remaining) == (None, None, 0)
    assert reply.papers[0].arxiv_url is None and reply.papers[0].page.startswith("papers/")


def test_tag_pages_round_trip_through_their_cursors(seeded: Archive) -> None:
    first = page_of(answer(seeded, "tag", "vq", page_size=1))
    assert (first.pages, first.older, first.newer) == (2, "tag:vq:2", None)
    second = page_of(turn_page(seeded, first.older or "", page_size=1))
    assert titles(second) == [VQGAN_LC] and (second.page, second.older, second.newer) == (2, None, "tag:vq:1")
    assert titles(turn_page(seeded, second.newer or "", page_size=1)) == [MARS]
    assert titles(answer(seeded, "tag", "#vq 2", page_size=1)) == [VQGAN_LC]  # a page typed after the tag


def test_following_older_cursors_visits_every_paper_once_newest_first(archive: Archive) -> None:
    ingest_days(archive, "bulk", days=3, per_day=9)
    pages = walk(archive, page_of(answer(archive, "tag", "bulk", page_size=5)), 5)
    assert [p.page for p in pages] == [1, 2, 3, 4, 5, 6] and [len(p.papers) for p in pages][-1] == 2
    papers = [paper for p in pages for paper in p.papers]
    assert len({paper.id for paper in papers}) == 27
    assert [p.date for p in papers] == sorted((p.date for p in papers), key=lambda d: d or dt.date.min)[::-1]
    assert pages[3].first == 16 and pages[3].remaining == 12 - 5
    back = page_of(turn_page(archive, pages[-1].newer or "", page_size=5))
    assert back == pages[-2]


def test_a_page_past_the_end_answers_the_last_page(seeded: Archive) -> None:
    for reply in (turn_page(seeded, "tag:vq:99999", page_size=1), answer(seeded, "tag", "vq 7", page_size=1)):
        assert (page_of(reply).page, titles(reply)) == (2, [VQGAN_LC])
    assert page_of(turn_page(seeded, "tag:vq:5")).page == 1


@pytest.mark.parametrize(
    "tag",
    [
        "a-very-long-tag-" + "x" * 48,  # 64 characters, the longest a tag can be
        "아주-긴-한국어-태그-" + "가" * 30,  # 41 characters, 117 bytes
        "vision-language-" + "y" * 32 + "-" + "z" * 10,  # cut right after the hyphen at 49
    ],
)
def test_a_tag_too_long_for_a_cursor_pages_by_its_hash(archive: Archive, tag: str) -> None:
    ingest_days(archive, tag, days=2, per_day=1)
    first = page_of(answer(archive, "tag", tag, page_size=1))
    assert first.older is not None and "~" in first.older
    assert len(first.older.encode()) <= MAX_CURSOR_BYTES
    second = page_of(turn_page(archive, first.older, page_size=1))
    assert (second.tag, second.page, second.papers[0].date) == (tag, 2, dt.date(2024, 5, 1))
    assert second.newer is not None and page_of(turn_page(archive, second.newer, page_size=1)).page == 1
    wrong = first.older.replace(first.older.split("~")[1][:8], "00000000")
    assert isinstance(turn_page(archive, wrong), Error)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "tag",
        "tag:vq",
        "tag:vq:",
        "tag:vq:0",
        "tag:vq:01",
        "tag:vq:-1",
        "tag:vq:1.5",
        "tag:vq:9999999999",
        "tag::1",
        "tag:VQ:1",
        "tag:#vq:1",
        "tag:<b>vq</b>:1",
        "tag:vq:1:2",
        "tag:vq~zzzzzzzz:1",
        "tag:~12345678:1",
        "search::1",
        "page:vq:1",
        "tag:vq:1\x00",
        "tag:" + "v" * 61 + ":1",
        "x" * 100,
        "\u202etag:vq:1",
        "tag:'; DROP TABLE papers; --:1",
    ],
)
def test_a_garbled_or_forged_cursor_answers_an_error(seeded: Archive, cursor: str) -> None:
    reply = turn_page(seeded, cursor)
    assert isinstance(reply, Error) and reply.text == GARBLED
    assert queries.stats(seeded).papers == 50


def test_a_forged_search_cursor_is_just_a_search(seeded: Archive) -> None:
    assert titles(turn_page(seeded, "search:코드북:1")) == [VQGAN_LC]
    reply = turn_page(seeded, "search:?!:1")
    assert isinstance(reply, Error) and "at least one word" in reply.text


def test_an_unknown_tag_answers_the_closest_tags(seeded: Archive) -> None:
    reply = answer(seeded, "tag", "difusion")
    assert isinstance(reply, Suggestions)
    assert reply.asked == "difusion" and reply.tags[0].tag == "diffusion" and "#diffusion" in reply.text
    nothing = answer(seeded, "tag", "zzzzqqq")
    assert isinstance(nothing, Suggestions) and nothing.tags == () and "/tags" in nothing.text


def test_tags_lists_every_tag_with_its_count_most_used_first(seeded: Archive) -> None:
    reply = answer(seeded, "tags", "")
    assert isinstance(reply, TagList)
    assert (reply.tags[0].tag, reply.tags[0].count, reply.total, reply.more) == ("vision-language", 4, 18, 0)
    assert {t.tag: t.count for t in reply.tags}["vq"] == 2
    assert [t.count for t in reply.tags] == sorted((t.count for t in reply.tags), reverse=True)


def test_tags_on_an_empty_archive_is_a_notice(archive: Archive) -> None:
    assert answer(archive, "tags", "") == Notice("The archive has no tags yet.")


@pytest.mark.parametrize(("words", "first"), [("코드북", VQGAN_LC), ("PaliGemma의", "PaliGemma")])
def test_search_finds_korean_commentary(seeded: Archive, words: str, first: str) -> None:
    reply = page_of(answer(seeded, "search", words))
    assert reply.papers[0].title.startswith(first) and reply.query == words and reply.tag is None


def test_search_pages_follow_one_ranking(seeded: Archive) -> None:
    ranking = [paper.id for paper in search(seeded, "transformer", limit=50).papers]
    first = page_of(answer(seeded, "search", "transformer", page_size=2))
    assert first.total == len(ranking) >= 5 and first.older == "search:transformer:2"
    pages = walk(seeded, first, 2)
    assert [paper.id for page in pages for paper in page.papers] == ranking
    assert not pages[-1].capped and pages[-1].remaining == 0


def test_a_search_too_long_for_a_cursor_is_one_page_with_a_count(seeded: Archive) -> None:
    words = " ".join(["transformer"] * 6)  # the same matches as "transformer", 71 characters
    reply = page_of(answer(seeded, "search", words, page_size=2))
    assert (reply.pages, reply.older, len(reply.papers)) == (1, None, 2)
    assert reply.remaining == reply.total - 2 > 0


def test_search_pages_reach_fifty_matches_and_say_there_are_more(archive: Archive) -> None:
    ingest_days(archive, "bulk", days=6, per_day=10)
    pages = walk(archive, page_of(answer(archive, "search", "bulk", page_size=5)), 5)
    assert len(pages) == 10 and pages[0].capped and pages[0].total == 50
    assert "50+ papers" in pages[0].text
    assert page_of(turn_page(archive, "search:bulk:11", page_size=5)).page == 10


def test_search_with_no_match_is_a_notice(seeded: Archive) -> None:
    reply = answer(seeded, "search", "zzzqqqxxx")
    assert isinstance(reply, Notice) and "zzzqqqxxx" in reply.text


def test_latest_is_the_newest_digest_up_to_today(seeded: Archive) -> None:
    reply = answer(seeded, "latest", "", base_url="https://paperboy.example")
    assert isinstance(reply, LatestDigest)
    assert (reply.view.date, reply.view.count) == (dt.date(2025, 12, 11), 27)
    assert reply.view.papers[0].url is not None and reply.view.papers[0].url.startswith("https://paperboy.")
    earlier = answer(seeded, "latest", "", today=dt.date(2025, 1, 1))
    assert isinstance(earlier, LatestDigest) and (earlier.view.date, earlier.view.count) == (
        dt.date(2024, 7, 11),
        6,
    )
    assert isinstance(answer(seeded, "latest", "", today=dt.date(2024, 1, 1)), Notice)


def test_latest_prefers_what_publishing_sent(seeded: Archive) -> None:
    """A day published from the queue has no digest of its own: /latest shows what went out."""
    queued = [paper.id for paper in queries.queue(seeded)[:2]]
    row = {"day": dt.date(2025, 12, 12), "papers": json.dumps(queued), "created": dt.datetime.now(dt.UTC)}
    with seeded.engine.begin() as conn:
        conn.execute(publications.insert().values(row))
    reply = answer(seeded, "latest", "")
    assert isinstance(reply, LatestDigest) and reply.view.date == dt.date(2025, 12, 12)
    assert [paper.id for paper in reply.view.papers] == queued
    older = answer(seeded, "latest", "", today=dt.date(2025, 12, 11))
    assert isinstance(older, LatestDigest) and older.view.count == 27


def test_paper_shows_one_paper_and_where_it_appeared(seeded: Archive) -> None:
    mars_id = page_of(answer(seeded, "tag", "vq")).papers[0].id
    reply = answer(seeded, "paper", mars_id)
    assert isinstance(reply, PaperDetail) and reply.paper.title == MARS
    assert [a.source for a in reply.appearances] == ["daily-2024-07-11.txt"]
    assert isinstance(answer(seeded, "paper", "mars-mix"), PaperDetail)  # a unique prefix


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("no-such-paper", "No paper has the id 'no-such-paper'"),
        ("s", "matches several papers"),
        ("", "needs"),
    ],
)
def test_paper_that_cannot_be_shown_answers_why(seeded: Archive, ref: str, message: str) -> None:
    reply = answer(seeded, "paper", ref)
    assert isinstance(reply, Error) and message in reply.text


def test_help_and_start_list_every_command(seeded: Archive) -> None:
    help_reply, start = answer(seeded, "help"), answer(seeded, "/start")
    assert isinstance(help_reply, Help) and isinstance(start, Help)
    assert (help_reply.greeting, start.greeting) == (False, True)
    assert [c.name for c in help_reply.commands] == [
        "start", "help", "tag", "tags", "search", "latest", "paper", "similar", "subscribe", "unsubscribe",
        "settings",
    ]  # fmt: skip
    assert "/tag <tag>: Papers with a tag" in help_reply.text
    assert set(HANDLERS) == {c.name for c in COMMANDS}


@pytest.mark.parametrize(
    ("typed", "hint"), [("tga", "Did you mean /tag?"), ("/serch", "/search"), ("xyzzy", None)]
)
def test_an_unknown_command_lists_the_commands(seeded: Archive, typed: str, hint: str | None) -> None:
    reply = answer(seeded, typed, "vq")
    assert isinstance(reply, Error) and reply.usage and "/subscribe" in reply.usage
    assert ("Did you mean" in reply.text) == (hint is not None)
    assert hint is None or hint in reply.text


def test_complete_tags_puts_prefix_matches_first_most_used_first(seeded: Archive) -> None:
    found = [t.tag for t in complete_tags(seeded, "t")]
    prefixed = [tag for tag in found if tag.startswith("t")]
    assert found[: len(prefixed)] == prefixed and set(prefixed) == {
        "transformer",
        "text-to-image",
        "text2img",
    }
    assert prefixed[0] == "transformer"  # 2 papers, the others 1
    assert "autoregressive-model" in found[len(prefixed) :] and all("t" in tag for tag in found)
    assert [t.tag for t in complete_tags(seeded, "#VI")] == ["vision-language"]
    assert [t.tag for t in complete_tags(seeded, "")] == [t.tag for t in queries.tag_counts(seeded)]


def test_complete_tags_returns_at_most_25(archive: Archive) -> None:
    for n in range(30):
        ingest_days(archive, f"x{n:02d}", days=1 + n % 3, per_day=1)
    found = complete_tags(archive, "X")
    assert len(found) == 25 and {t.count for t in found[:10]} == {3}
    assert (
        len(complete_tags(archive, "x", limit=5)) == 5 and len(complete_tags(archive, "x", limit=500)) == 25
    )


@pytest.mark.parametrize("typed", ["<b>", "a b", "%", "_", "'; DROP", "x" * 65, "x" * 5000, "🙂"])
def test_complete_tags_completes_nonsense_to_nothing(seeded: Archive, typed: str) -> None:
    assert complete_tags(seeded, typed) == []
