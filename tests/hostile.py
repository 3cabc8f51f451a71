"""Hand-made papers that stress every channel: markup-like text, huge fields, odd characters."""

from __future__ import annotations

import datetime as dt
import re

from bot.archive.parsers import ParseOptions, parse_file
from bot.models import Digest, Paper
from tests.conftest import SEED_FILES, TODAY

DAY = dt.date(2024, 9, 1)
SENTENCE = (
    "이 논문은 <b>굵게</b> & *별표* _밑줄_ ~취소~ `코드` |파이프| > 인용 #해시 [링크](x) 를 다룹니다 🙂. "
)


def hostile_papers() -> list[Paper]:
    return [
        Paper(
            id="html-like-0001",
            title='<script>alert("x")</script> & <0.5% of *stars* _under_ `tick`',
            authors=("Ada <Lovelace>", "B & C"),
            author_count=2,
            abstract=(
                "We show a < b & c > d for <0.5% of inputs.\n\nA second paragraph with &amp; and &lt;tag&gt;."
            ),
            commentary="> not a quote\n# not a heading\n- not a list\n**not bold** [not](a link) @everyone",
            tags=("vq", "html"),
            links=("https://example.org/?a=1&b=<2>", "https://example.org/path_(with)_parens"),
            date=DAY,
        ),
        Paper(
            id="long-commentary-0002",
            title="A paper whose curator wrote at length",
            authors=("Writer",),
            author_count=1,
            abstract="Short abstract.",
            commentary=(SENTENCE * 70).strip() + "\n\n" + (SENTENCE * 20).strip(),  # over 6,000 characters
            tags=("long",),
            date=DAY,
        ),
        Paper(
            id="odd-characters-0003",
            title="Control\x00chars\x07 and a lone \ud800 surrogate, emoji 🧪📄 and 한국어",
            authors=("Ünïcödé Ñame",),
            author_count=1,
            abstract="Zero\u200bwidth, RTL \u202eoverride\u202c, NUL\x00, tab\tand 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math.",
            commentary="줄바꿈이\n있는 한국어 코멘트 🙂 그리고 이모지 👩‍👩‍👧‍👦 가족.",
            tags=("unicode", "한국어"),
            date=DAY,
        ),
        Paper(
            id="long-everything-0004",
            title="An extremely long title " * 15,
            authors=tuple(f"Author {n}" for n in range(80)),
            author_count=80,
            abstract="Abstract sentence number one goes on. " * 120,
            commentary="Unbroken" + "x" * 5000 + " end.",
            tags=tuple(f"tag-number-{n}" for n in range(60)),
            links=tuple(f"https://example.org/{n}/" + "p" * 90 for n in range(30)),
            upvotes=12345,
            date=DAY,
        ),
    ]


def forty_paper_day() -> list[Paper]:
    """Forty real papers from the seeds on one day."""
    seeds = [paper for path in SEED_FILES for paper in _parse(path).entries]
    return [seeds[n % len(seeds)] for n in range(40)]


def queued_papers() -> list[Paper]:
    """The undated abstracts, as a day's digest renders them once the scheduler picks them."""
    return list(_parse(next(p for p in SEED_FILES if p.name == "abstracts-queue.txt")).entries)


def seed_days() -> list[Digest]:
    return [digest for digest in map(_parse, SEED_FILES) if digest.date]


def _parse(path: object) -> Digest:
    return parse_file(path, ParseOptions(today=TODAY))  # type: ignore[arg-type]


def squash(text: str) -> str:
    """Whitespace folded, so text cut across messages still compares equal."""
    return re.sub(r"\s+", " ", text).strip()


def render_cases() -> list[tuple[str, dt.date, list[Paper]]]:
    """Every seed day, the hostile papers, a forty-paper day and the queue, as digests."""
    return [
        *((f"seed-{d.date}", d.date, list(d.entries)) for d in seed_days() if d.date),
        ("hostile", DAY, hostile_papers()),
        ("forty-papers", DAY, forty_paper_day()),
        ("queued", DAY, queued_papers()),
    ]
