"""Posts a curator sends in the desk tests, made from the seeds: a new day, its correction (a
title typo fixed, a commentary sentence added, a tag added), hostile files, Telegram's splits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from bot.archive import queries
from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.store import Archive
from tests.conftest import SEEDS, TODAY

DAY = dt.date(2024, 7, 11)
SEED = SEEDS / "daily-2024-07-11.txt"
TEXT = SEED.read_text()
NEW_DAY = dt.date(2024, 8, 1)
#: The seed's post, written for another day: a day the archive does not have yet.
NEW_DAY_TEXT = TEXT.replace("2024년 7월 11일", "2024년 8월 1일", 1)
TYPO_TITLE = "PaliGemma: A versatile 3B VLM for transfer"
ADDED_SENTENCE = "다음 주에 코드도 공개된다고 합니다."


def with_typo(text: str) -> str:
    """The post as first sent: a typo in the first title."""
    return text.replace(TYPO_TITLE, TYPO_TITLE.replace("versatile", "versatle"), 1)


def corrected(text: str) -> str:
    """The post fixed: the typo gone, a sentence added to the first commentary, a tag added."""
    lines = text.split("\n")
    first_tags = next(n for n, line in enumerate(lines) if line.startswith("#"))
    lines[first_tags - 1] += " " + ADDED_SENTENCE
    lines[first_tags] += " #open-weights"
    return "\n".join(lines)


def one_paper_post(day: dt.date, title: str = "A Small Paper About Codebooks") -> str:
    """A short post (well under Telegram's 4,096 characters): one paper."""
    return (
        f"{day.year}년 {day.month}월 {day.day}일\n"
        f"{title}\n"
        "(Ada Lovelace, Alan Turing)\n"
        "We study codebooks for vector quantization and find that bigger ones help.\n"
        "코드북이 클수록 좋다는 결론입니다.\n"
        "#vq #codebook\n"
    )


def split_like_telegram(text: str, limit: int = 4096) -> list[str]:
    """Cut ``text`` as Telegram's apps cut a long message: pieces of at most ``limit`` characters,
    at a line break, which is dropped (the server trims each message)."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        pieces.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    return [*pieces, rest]


def archive_without(archive: Archive, skip: Path = SEED) -> Archive:
    """The seeds but one post in ``archive``."""
    for path in sorted(SEEDS.iterdir()):
        if path != skip:
            archive.ingest(parse_file(path, ParseOptions(today=TODAY)))
    return archive


def sources(archive: Archive) -> list[str]:
    """Every document the archive holds (its posts), by name."""
    from sqlalchemy import select

    from bot.archive.schema import sources as table

    with archive.engine.connect() as conn:
        return sorted(conn.scalars(select(table.c.name)))


def days(archive: Archive) -> list[dt.date]:
    return [day.date for day in queries.days(archive)]
