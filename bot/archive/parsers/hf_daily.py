"""A Hugging Face "Daily Papers" page, copied as text.

Page chrome ("Get trending papers…", "Subscribe", …) runs until the page date (``Dec 11``),
which becomes the digest date. Then each paper is

    title
    abstract (one or more paragraphs)
    • N authors
    ·
    Oct 4, 2023 [upvotes]      or      Jul 31 [upvotes]

How missing years are inferred: Hugging Face writes the year only for dates outside the year
the page was viewed in, so every year written out is earlier than the page's own year. The
page year is therefore taken as one more than the latest year written on the page, the smallest
year consistent with it; a page that writes no year at all falls back to the current year.
``--year`` overrides the guess; years written out are always kept.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.archive import latex
from bot.archive.parsers._base import Document, ParseOptions, Parser
from bot.archive.text import paper_id
from bot.models import Digest, Paper

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
DATE = re.compile(
    r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>\d{1,2})(?:,\s*(?P<year>\d{4}))?(?:\s+(?P<upvotes>\d+))?"
)
AUTHORS = re.compile(r"(?:[•·*-]\s*)?(?P<count>\d+)\s+authors?", re.IGNORECASE)
SEPARATOR = "·"


@dataclass
class _RawDate:
    month: int
    day: int
    year: int | None
    upvotes: int | None
    line: int


@dataclass
class _RawEntry:
    title: str
    line: int
    abstract: list[str]
    author_count: int
    date: _RawDate


def _date(text: str, line: int) -> _RawDate | None:
    match = DATE.fullmatch(text)
    if match is None or match["month"].lower() not in MONTHS:
        return None
    return _RawDate(
        month=MONTHS[match["month"].lower()],
        day=int(match["day"]),
        year=int(match["year"]) if match["year"] else None,
        upvotes=int(match["upvotes"]) if match["upvotes"] else None,
        line=line,
    )


class HuggingFaceDailyParser(Parser):
    name = "hf-daily"

    def sniff(self, doc: Document) -> bool:
        lines = [line.strip() for line in doc.lines]
        return SEPARATOR in lines and any(AUTHORS.fullmatch(line) for line in lines)

    def parse(self, doc: Document, options: ParseOptions) -> Digest:
        content = [(n, text.strip()) for n, text in enumerate(doc.lines, start=1) if text.strip()]
        start = next(
            (k for k, (n, text) in enumerate(content) if (d := _date(text, n)) and d.upvotes is None),
            None,
        )
        if start is None:
            raise doc.error(1, "Hugging Face listing without its page date (a line such as 'Dec 11')")
        page = _date(content[start][1], content[start][0])
        assert page is not None
        raw: list[_RawEntry] = []
        k = start + 1
        while k < len(content):
            entry, k = _entry(doc, content, k)
            raw.append(entry)
        if not raw:
            raise doc.error(page.line, "the listing has a page date but no papers after it")

        year = _page_year(page, raw, options)
        day = _resolve(doc, page, year)
        entries = tuple(
            Paper(
                id=paper_id(title := latex.to_text(entry.title)),
                title=title,
                author_count=entry.author_count,
                abstract=latex.to_text("\n".join(entry.abstract)),
                published=_resolve(doc, entry.date, year),
                upvotes=entry.date.upvotes,
                source=doc.source,
                line=entry.line,
                date=day,
            )
            for entry in raw
        )
        return Digest(day, doc.source, self.name, entries)


def _entry(doc: Document, content: list[tuple[int, str]], k: int) -> tuple[_RawEntry, int]:
    line, title = content[k]
    if AUTHORS.fullmatch(title) or title == SEPARATOR:
        raise doc.error(line, f"expected a paper title, found {title!r}")
    k += 1
    if k >= len(content):
        raise doc.error(line, f"entry {title!r} is cut short: nothing follows its title")
    abstract: list[str] = []
    while k < len(content) and not AUTHORS.fullmatch(content[k][1]):
        abstract.append(content[k][1])
        k += 1
    if k >= len(content):
        raise doc.error(line, f"entry {title!r} is cut short: no '• N authors' line after its abstract")
    if not abstract:
        raise doc.error(content[k][0], f"entry {title!r} has no abstract")
    match = AUTHORS.fullmatch(content[k][1])
    assert match is not None
    author_count = int(match["count"])
    k += 1
    if k < len(content) and content[k][1] == SEPARATOR:
        k += 1
    if k >= len(content):
        raise doc.error(line, f"entry {title!r} is cut short: the file ends before its date")
    date = _date(content[k][1], content[k][0])
    if date is None:
        raise doc.error(
            content[k][0],
            f"expected the date of {title!r} (such as 'Oct 4, 2023' or 'Jul 31 12'), found {content[k][1]!r}",
        )
    return _RawEntry(title, line, abstract, author_count, date), k + 1


def _page_year(page: _RawDate, entries: list[_RawEntry], options: ParseOptions) -> int:
    if options.year is not None:
        return options.year
    if page.year is not None:
        return page.year
    written = [entry.date.year for entry in entries if entry.date.year is not None]
    return max(written) + 1 if written else options.today.year


def _resolve(doc: Document, raw: _RawDate, page_year: int) -> dt.date:
    year = raw.year if raw.year is not None else page_year
    try:
        return dt.date(year, raw.month, raw.day)
    except ValueError as exc:
        month = dt.date(2000, raw.month, 1).strftime("%b")
        raise doc.error(raw.line, f"impossible date '{month} {raw.day}, {year}': {exc}") from None
