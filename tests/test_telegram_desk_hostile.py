"""Broken and hostile posts sent to the Telegram bot by a curator: each gets a clear error (with
its line where there is one), nothing is stored, and an oversized file is never downloaded."""

from __future__ import annotations

from pathlib import Path

from bot.archive.store import open_archive
from bot.desk import drafts
from tests.desk_posts import NEW_DAY, NEW_DAY_TEXT, archive_without, one_paper_post, sources
from tests.test_telegram_desk import ADA, Room, play

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
HOSTILE_TITLE = '<b>Bold</b> & <script>alert("x")</script> *stars* _under_ </blockquote> &amp;'


def test_broken_posts_get_a_located_error_and_nothing_is_stored(tmp_path: Path) -> None:
    missing_authors = NEW_DAY_TEXT.replace("(Lucas Beyer,", "Lucas Beyer,", 1)
    posts = [
        ("file", PNG, "post.txt", "Line 3: binary content (a NUL byte), not a text post"),
        ("file", "2024년 8월 1일\n".encode() + b"caf\xe9\n", "post.txt", "Line 2: not UTF-8 text (byte 0xe9"),
        ("file", b"%PDF-1.7 ...", "paper.pdf", "'paper.pdf' is not a post: send it as a .txt or .md file"),
        ("file", b" \n\n\t\n", "empty.txt", "The post is empty"),
        ("text", NEW_DAY_TEXT.split("\n", 1)[1], None, "Line 1: unknown format: expected a daily post"),
        ("text", missing_authors, None, "Line 3: expected the authors in parentheses"),
        ("text", "2024년 8월 1일", None, "Line 1: the post has a date but no papers after it"),
        ("text", "2024년 2월 30일\nA title\n(A B)\nAbstract.\n#x", None, "Line 1: impossible date"),
    ]
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)
        before = sources(archive)

        async def scenario(room: Room) -> None:
            for kind, body, name, error in posts:
                if kind == "file":
                    assert isinstance(body, bytes)
                    room.api.user_sends_document(ADA, ADA, body, name)
                else:
                    assert isinstance(body, str)
                    room.api.user_says(ADA, ADA, body)
                answer, sample = await room.preview()
                assert answer.plain.startswith("❌ This post cannot be published"), answer.plain
                assert error in answer.plain and "Nothing was stored" in answer.plain
                assert answer.reply_markup is None and sample is None  # no buttons, no draft
            assert drafts.count(room.archive) == 0

        play(archive, tmp_path, scenario)
        assert sources(archive) == before


def test_an_oversized_file_is_refused_before_it_is_downloaded(tmp_path: Path) -> None:
    big = (NEW_DAY_TEXT * 600).encode()  # about 6 MB of otherwise good text
    assert len(big) > 5_000_000
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_sends_document(ADA, ADA, big, "huge.txt")
            answer, _ = await room.preview()
            assert "That file is 6." in answer.plain and "at most 1 MB" in answer.plain
            assert not [c for c in room.api.calls if c[0] == "getFile"]  # refused by its announced size
            # A file that does not announce its size: getFile's size refuses it, still unread.
            room.api.user_sends_document(ADA, ADA, big, "quiet.txt", announce_size=False)
            answer, _ = await room.preview()
            assert "at most 1 MB" in answer.plain
            assert [c[0] for c in room.api.calls].count("getFile") == 1
            assert room.api.downloads == []

        play(archive, tmp_path, scenario)
        assert drafts.count(archive) == 0


def test_markup_in_a_title_is_shown_as_text(tmp_path: Path) -> None:
    with open_archive(f"sqlite:///{tmp_path}/a.db") as archive:
        archive_without(archive)

        async def scenario(room: Room) -> None:
            room.api.user_says(ADA, ADA, one_paper_post(NEW_DAY, HOSTILE_TITLE))
            summary, sample = await room.preview()
            # Telegram took the HTML (the stand-in parses it as Telegram does) and shows the title
            # as written, with no bold, no script, no closed quote.
            assert f"1. {HOSTILE_TITLE} · #vq #codebook" in summary.plain
            assert [e["type"] for e in summary.entities] == ["bold", "code"]  # the heading, the file name
            assert sample is not None and HOSTILE_TITLE in sample.plain
            assert drafts.count(room.archive) == 1

        play(archive, tmp_path, scenario)
