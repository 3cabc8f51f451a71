"""The curator's daily post: a Korean date line, then entries of

    title
    (author, author, ...)
    English abstract, possibly followed by bare URL lines (the paper's own links)
    the curator's commentary (Korean, one or more paragraphs, may hold URLs)
    #tag #tag

The abstract ends where the first line with Hangul begins; the commentary ends at the line of
tags. Every entry must end in its line of tags: that is the only reliable boundary between one
entry's commentary and the next entry's title, so an entry without one is reported, not guessed.

A draft started from candidates (``bot/desk/picks.py``) marks what the curator still has to
write with placeholder lines (``PLACEHOLDERS``: a whole line in ``[[...]]``); a post that still
holds one is refused at its line, so a half-written draft is never stored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.archive import latex
from bot.archive.parsers._base import Document, ParseOptions, Parser, first_content_line
from bot.archive.text import BARE_URL_LINE, arxiv_id, has_hangul, normalize_tag, paper_id
from bot.models import Digest, Paper

DATE_LINE = re.compile(r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일")
TAGS_LINE = re.compile(r"#\S+(?:\s+#\S+)*")
AUTHORS_LINE = re.compile(r"\((.+)\)")
#: The lines a draft leaves for the curator to fill in, by what belongs there.
PLACEHOLDERS = {
    "commentary": "[[commentary: write yours in place of this line, or delete the line]]",
    "tags": "#[[tags]]",
    "authors": "([[authors]])",
    "abstract": "[[abstract]]",
}
PLACEHOLDER = re.compile(r"#?\(?\[\[(?P<what>[a-z]+)[^\[\]]*\]\]\)?")
# "(\nhttps://…\n)": a URL the editor broke onto a line of its own inside parentheses.
BROKEN_URL = re.compile(r"\(\s*\n\s*(https?://\S+)\s*\n\s*\)")


@dataclass
class _Line:
    number: int  # 1-based, as editors and error messages count
    text: str  # stripped


class DailyPostParser(Parser):
    name = "daily-post"

    def sniff(self, doc: Document) -> bool:
        lines = doc.lines
        return DATE_LINE.fullmatch(lines[first_content_line(lines)].strip()) is not None

    def parse(self, doc: Document, options: ParseOptions) -> Digest:
        lines = [_Line(i + 1, text.strip()) for i, text in enumerate(doc.lines)]
        start = first_content_line(doc.lines)
        day = _date(doc, lines[start])
        content = [line for line in lines[start + 1 :] if line.text]
        _no_placeholders(doc, content)
        blank_lines = {line.number for line in lines if not line.text}
        entries: list[Paper] = []
        i = 0
        while i < len(content):
            paper, i = _entry(doc, content, i, day, blank_lines)
            entries.append(paper)
        if not entries:
            raise doc.error(lines[start].number, "the post has a date but no papers after it")
        return Digest(day, doc.source, self.name, tuple(entries))


def _no_placeholders(doc: Document, content: list[_Line]) -> None:
    for line in content:
        match = PLACEHOLDER.fullmatch(line.text)
        if match:
            what = {"tags": "#tags"}.get(match["what"], match["what"])
            delete = ", or delete the line" if match["what"] == "commentary" else ""
            shown = line.text if len(line.text) <= 30 else f"[[{match['what']}: …]]"
            raise doc.error(
                line.number,
                f"the draft's placeholder {shown} is still here: write the {what} in its place{delete}",
            )


def _date(doc: Document, line: _Line) -> dt.date:
    match = DATE_LINE.fullmatch(line.text)
    assert match is not None  # sniff() checked it
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise doc.error(line.number, f"impossible date {line.text!r}: {exc}") from None


def _entry(
    doc: Document, content: list[_Line], i: int, day: dt.date, blank_lines: set[int]
) -> tuple[Paper, int]:
    """Read the entry starting at ``content[i]``; return it and the index after its tags line."""
    title_line = content[i]
    title = title_line.text
    if TAGS_LINE.fullmatch(title):
        raise doc.error(title_line.number, "a line of #tags with no paper before it")
    if _looks_like_authors(title):
        raise doc.error(title_line.number, "an authors line with no title before it")
    if i + 1 >= len(content):
        raise doc.error(title_line.number, f"entry {title!r} is cut short: nothing follows its title")
    authors_line = content[i + 1]
    match = AUTHORS_LINE.fullmatch(authors_line.text)
    if match is None:
        raise doc.error(
            authors_line.number,
            f"expected the authors in parentheses, such as '(Ada Lovelace, Alan Turing)',"
            f" after the title {title!r}",
        )
    authors = tuple(name.strip() for name in match.group(1).split(",") if name.strip())

    body: list[_Line] = []
    j = i + 2
    while j < len(content) and not TAGS_LINE.fullmatch(content[j].text):
        nxt = content[j + 1] if j + 1 < len(content) else None
        if body and nxt is not None and _looks_like_authors(nxt.text) and not has_hangul(content[j].text):
            raise doc.error(
                content[j].number,
                f"entry {title!r} (line {title_line.number}) has no line of #tags"
                f" before the next paper {content[j].text!r}",
            )
        body.append(content[j])
        j += 1
    if j >= len(content):
        raise doc.error(
            title_line.number,
            f"entry {title!r} is cut short: the file ends before its line of #tags",
        )
    tags_line = content[j]
    abstract, links, commentary = _split_body(body, blank_lines)
    if not abstract:
        raise doc.error(authors_line.number + 1, f"entry {title!r} has no abstract")
    tags = _tags(doc, tags_line)
    title = latex.to_text(title)
    paper = Paper(
        id=paper_id(title, arxiv=arxiv_id(links)),
        title=title,
        authors=authors,
        author_count=len(authors),
        abstract=latex.to_text(abstract),
        commentary=commentary,
        tags=tags,
        links=links,
        published=day,
        source=doc.source,
        line=title_line.number,
        date=day,
    )
    return paper, j + 1


def _looks_like_authors(text: str) -> bool:
    """A parenthesised list of names: no Hangul, not a parenthesised link."""
    match = AUTHORS_LINE.fullmatch(text)
    return match is not None and not has_hangul(text) and not match.group(1).lstrip().startswith("http")


def _split_body(body: list[_Line], blank_lines: set[int]) -> tuple[str, tuple[str, ...], str]:
    """Abstract (English), the paper's own links (bare URL lines after it), commentary (the rest)."""
    texts = [line.text for line in body]
    korean = next((k for k, text in enumerate(texts) if has_hangul(text)), None)
    if korean is None:
        # No Korean commentary to mark the boundary: the first paragraph is the abstract.
        end = 1
        while end < len(texts) and BARE_URL_LINE.fullmatch(texts[end]):
            end += 1
    else:
        end = korean
    head = texts[:end]
    links: list[str] = []
    while head and BARE_URL_LINE.fullmatch(head[-1]):
        links.insert(0, head.pop())
    links = list(dict.fromkeys(links))
    # Commentary paragraphs keep the blank lines the curator put between them.
    parts: list[str] = []
    for line in body[end:]:
        if parts and (line.number - 1) in blank_lines:
            parts.append("")
        parts.append(line.text)
    commentary = "\n".join(parts)
    if "(\n" in commentary:
        commentary = BROKEN_URL.sub(r"(\1)", commentary)
    return "\n".join(head), tuple(links), commentary


def _tags(doc: Document, line: _Line) -> tuple[str, ...]:
    tags: list[str] = []
    for token in line.text.split():
        try:
            tag = normalize_tag(token)
        except ValueError as exc:
            raise doc.error(line.number, str(exc)) from None
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)
