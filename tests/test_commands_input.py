"""Untrusted input to the chat commands: every command answers hostile text clearly and never
raises; arguments are cleaned; cursors always fit; the catalogue fits both platforms."""

from __future__ import annotations

import re

import pytest

from bot.archive import queries
from bot.archive.queries import MAX_PAGE
from bot.archive.store import Archive
from bot.archive.text import MAX_TAG_LENGTH
from bot.commands import (
    COMMANDS,
    MAX_ARGUMENT,
    ChatSettings,
    Error,
    Help,
    LatestDigest,
    Notice,
    NotSubscribed,
    PaperDetail,
    PapersPage,
    Refused,
    Subscribed,
    Suggestions,
    TagList,
    Unsubscribed,
    answer,
    clean_argument,
    descriptions,
    turn_page,
)
from bot.commands.catalogue import BY_NAME
from bot.commands.cursor import MAX_CURSOR_BYTES, read_cursor, search_cursor, tag_cursor
from bot.errors import InputError
from tests.test_lookups import VQGAN_LC

CHAT = "telegram:-100123"
ANSWERS = (
    PapersPage,
    Suggestions,
    TagList,
    PaperDetail,
    LatestDigest,
    Help,
    Notice,
    Error,
    Refused,
    Subscribed,
    Unsubscribed,
    NotSubscribed,
    ChatSettings,
)
HOSTILE = {
    "empty": "",
    "only-spaces": "   \t ",
    "only-invisible": "\u200b\u200c\u200d\u2060\ufeff\u3164",
    "over-long": "vq " * 100,
    "huge": "가" * 50_000,
    "html": '<b>vq</b> <script>alert("x")</script>',
    "markdown": "**vq** _x_ `code` [a](javascript:alert(1)) @everyone",
    "sql": "'; DROP TABLE papers; --",
    "sql-or": '" OR 1=1 --',
    "emoji": "🙂🧪📄 👩‍👩‍👧‍👦",
    "zero-width-inside": "v\u200bq",
    "rtl-override": "\u202evq\u202c",
    "bidi-isolate": "\u2066vq\u2069",
    "nul": "vq\x00",
    "escape": "\x1b[31mvq",
    "lone-surrogate": "vq\ud800",
    "like-wildcards": "%_\\",
    "page-zero": "vq 0",
    "huge-page": "vq 99999999999",
    "fullwidth": "＃ＶＱ",
    "newlines": "vq\n\nllm",
    "arabic": "مرحبا",
}
# Characters no answer may carry back: the cleaning must have removed them.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_every_command_answers_hostile_text_clearly(seeded: Archive, text: str) -> None:
    for info in COMMANDS:
        reply = answer(seeded, info.name, text, chat=CHAT, is_admin=True)
        assert isinstance(reply, ANSWERS), (info.name, reply)
        assert reply.text.strip() and not UNSAFE.search(reply.text), (info.name, reply)
        if isinstance(reply, Error):
            assert len(reply.text) <= 400 and reply.usage in (None, info.usage), (info.name, reply)
    assert (queries.stats(seeded).papers, len(queries.tag_counts(seeded))) == (50, 18)


@pytest.mark.parametrize(
    ("command", "args", "expected"),
    [
        ("tag", "v\u200bq", "#vq"),
        ("tag", "\u202evq\u202c", "#vq"),
        ("tag", "\u2066#VQ\u2069", "#vq"),
        ("tag", "＃ＶＱ", "#vq"),
        ("tag", "vq\x00", "#vq"),
        ("tag", "\x1b[31mvq", "is not a tag"),
        ("tag", "'; DROP TABLE papers; --", "is not a tag"),
        ("tag", "<b>vq</b>", "is not a tag"),
        ("tag", "vq " * 100, "a command takes at most 200"),
        ("tag", "vq 0", "Pages are numbered from 1"),
        ("search", "가" * 50_000, "50,000 characters long"),
        ("search", "%_\\", "at least one word"),
        ("search", "<script>alert(1)</script>", 'Nothing matches "<script>alert(1)</script>"'),
        ("paper", "'; DROP TABLE papers; --", "No paper has the id"),
    ],
)
def test_what_hostile_text_answers(seeded: Archive, command: str, args: str, expected: str) -> None:
    reply = answer(seeded, command, args)
    shown = reply.title if isinstance(reply, PapersPage) else reply.text
    assert expected in shown


def test_invisible_characters_do_not_hide_a_search_term(seeded: Archive) -> None:
    reply = answer(seeded, "search", "\u200b코드\u200d북\ufeff")
    assert isinstance(reply, PapersPage) and reply.papers[0].title == VQGAN_LC and reply.query == "코드북"


@pytest.mark.parametrize("name", [info.name for info in COMMANDS if info.needs_argument])
@pytest.mark.parametrize("empty", ["", "   ", "\u200b", "\x00\n"])
def test_a_missing_argument_answers_the_usage(seeded: Archive, name: str, empty: str) -> None:
    reply = answer(seeded, name, empty)
    assert isinstance(reply, Error) and f"/{name} needs" in reply.text
    assert reply.usage == BY_NAME[name].usage and reply.usage.startswith(f"/{name} <")


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  vq  ", "vq"),
        ("v\u200bq", "vq"),
        ("\u202eabc\u202c", "abc"),
        ("\u2067abc\u2069", "abc"),
        ("a\x00b", "a b"),
        ("a\n\n\tb", "a b"),
        ("e\u0301", "\u00e9"),  # NFC
        ("\ufeffvq\u00ad", "vq"),
        ("vq\ud800", "vq"),
        ("\u3164", ""),
        ("코드북을", "코드북을"),
        ("<b>x</b> '; -- **y**", "<b>x</b> '; -- **y**"),  # markup and SQL are data
        ("🙂 🧪", "🙂 🧪"),
        ("a" + " " * 500 + "b", "a b"),  # spaces fold before the length is measured
        ("\u200b" * 1000 + "vq", "vq"),
        ("x" * MAX_ARGUMENT, "x" * MAX_ARGUMENT),
    ],
)
def test_clean_argument(raw: str, clean: str) -> None:
    assert clean_argument(raw) == clean


@pytest.mark.parametrize("raw", ["x" * (MAX_ARGUMENT + 1), "가 " * 150, "x" * 1_000_000])
def test_an_over_long_argument_is_refused_with_the_limit(raw: str) -> None:
    with pytest.raises(InputError, match=f"at most {MAX_ARGUMENT}"):
        clean_argument(raw)


@pytest.mark.parametrize(
    "tag",
    ["vq", "a" * MAX_TAG_LENGTH, "가" * MAX_TAG_LENGTH, "𝔲" * MAX_TAG_LENGTH, "a-" * 31 + "bc", "한국어-x_y"],
)
@pytest.mark.parametrize("page", [1, 2, 99, MAX_PAGE])
def test_tag_cursors_fit_64_bytes_and_read_back(tag: str, page: int) -> None:
    cursor = tag_cursor(tag, page)
    assert len(cursor.encode()) <= MAX_CURSOR_BYTES and len(cursor) <= 100  # Telegram, Discord
    found = read_cursor(cursor)
    assert (found.kind, found.page) == ("tag", page)
    assert found.key == tag if found.digest is None else found.matches(tag) and not found.matches(tag + "x")


def test_search_cursors_carry_the_query_while_it_fits() -> None:
    assert search_cursor("codebook 토큰", 3) == "search:codebook 토큰:3"
    found = read_cursor("search:a:b: c:12")  # a query may hold colons; the page is after the last
    assert (found.key, found.page) == ("a:b: c", 12)
    exactly = search_cursor("x" * 55, 2)
    assert exactly is not None and len(exactly) == MAX_CURSOR_BYTES
    assert search_cursor("x" * 56, 2) is None and search_cursor("x" * 55, 10) is None
    assert search_cursor("가" * 18, 2) is not None and search_cursor("가" * 19, 2) is None


def test_a_wrong_page_size_is_a_bug_not_a_reply(seeded: Archive) -> None:
    with pytest.raises(ValueError, match="page_size"):
        answer(seeded, "tag", "vq", page_size=0)
    with pytest.raises(ValueError, match="page_size"):
        turn_page(seeded, "tag:vq:1", page_size=500)


def test_the_catalogue_fits_telegram_and_discord() -> None:
    english, korean = descriptions(), descriptions("ko")
    assert [name for name, _ in english] == [name for name, _ in korean] == [c.name for c in COMMANDS]
    for (name, en), (_, ko) in zip(english, korean, strict=True):
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 1 <= len(en) <= 100 and 1 <= len(ko) <= 100 and en != ko
        assert re.search("[가-힣]", ko) and not re.search("[가-힣]", en)
    assert descriptions("ko-KR") == korean and descriptions("en-US") == english == descriptions(None)
    assert BY_NAME["tag"].usage == "/tag <tag>, as in /tag vq" and BY_NAME["tags"].usage == "/tags"
    assert [c.name for c in COMMANDS if c.admin_only] == ["subscribe", "unsubscribe"]
