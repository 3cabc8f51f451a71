"""Parsers, one module per incoming format, and the registry that picks one from the content.

Adding a format means one new module and one line in ``PARSERS``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.archive.parsers._base import (
    Document,
    ParseOptions,
    Parser,
    decode_document,
    read_document,
    text_document,
)
from bot.archive.parsers.abstracts import AbstractsParser
from bot.archive.parsers.daily_post import DailyPostParser
from bot.archive.parsers.hf_daily import HuggingFaceDailyParser
from bot.models import Digest

PARSERS: tuple[Parser, ...] = (DailyPostParser(), HuggingFaceDailyParser(), AbstractsParser())

__all__ = [
    "PARSERS",
    "Document",
    "ParseOptions",
    "decode_document",
    "detect",
    "parse_document",
    "parse_file",
    "read_document",
    "text_document",
]


def detect(doc: Document) -> Parser | None:
    return next((parser for parser in PARSERS if parser.sniff(doc)), None)


def parse_document(doc: Document, options: ParseOptions | None = None) -> Digest:
    parser = detect(doc)
    if parser is None:
        raise doc.error(
            1,
            "unknown format: expected a daily post (first line a date such as '2024년 7월 11일'),"
            " a Hugging Face Daily Papers listing, or 'Abstract:' runs",
        )
    digest = parser.parse(doc, options or ParseOptions())
    _refuse_repeats(doc, digest)
    return digest


def parse_file(path: Path, options: ParseOptions | None = None) -> Digest:
    return parse_document(read_document(path), options)


def _refuse_repeats(doc: Document, digest: Digest) -> None:
    """The same paper twice in one document is a copy-paste slip; say where both copies are."""
    counts = Counter(paper.id for paper in digest.entries)
    for paper in digest.entries:
        if counts[paper.id] > 1:
            first = next(p for p in digest.entries if p.id == paper.id)
            if first is not paper:
                raise doc.error(
                    paper.line,
                    f"{paper.title!r} appears twice in this document (first at line {first.line})",
                )
