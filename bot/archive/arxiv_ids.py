"""arXiv identifiers, as curators type them and as arXiv's API writes them.

Two schemes (arXiv's "Understanding the arXiv identifier"): since April 2007 ``YYMM.NNNN``, with
five digits from January 2015 (``2406.11837``); before, ``archive/YYMMNNN``, the archive
possibly with a subject class (``hep-th/9901001``, ``math.GT/0309136``). Either may carry a
version (``v2``). A paper's id in the archive is ``arxiv-`` and the identifier without its
version (``bot.archive.text.paper_id``), so a pulled candidate and the post written from it
name the same paper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.archive.text import arxiv_id, paper_id

_NEW = re.compile(r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<number>\d{4,5})(?:v(?P<version>[1-9]\d{0,3}))?")
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?)/(?P<yy>\d{2})(?P<mm>\d{2})(?P<number>\d{3})"
    r"(?:v(?P<version>[1-9]\d{0,3}))?"
)
#: What a curator may paste around an identifier: ``arXiv:``, or the address of its page or PDF.
_WRAPPING = re.compile(
    r"^(?:arxiv:|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?:abs|pdf|html)/)(?P<id>.+?)(?:\.pdf)?/?$",
    re.IGNORECASE,
)
FORMS = "a new-style id such as 2406.11837 (or 2406.11837v2) or an old-style one such as hep-th/9901001"


@dataclass(frozen=True)
class ArxivId:
    """An identifier: ``base`` as arXiv writes it (``2406.11837``, ``math.GT/0309136``) and the
    version asked for (None: the latest)."""

    base: str
    version: int | None = None

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"

    @property
    def paper_id(self) -> str:
        """The id the archive gives a paper that links this identifier (``arxiv-2406.11837``)."""
        return paper_id("", arxiv=arxiv_id([self.abs_url]))

    @property
    def abs_url(self) -> str:
        """The paper's page at arXiv (its latest version, or the one asked for)."""
        return f"https://arxiv.org/abs/{self}"


def parse_arxiv_id(raw: str) -> ArxivId:
    """``raw`` as an identifier, or ``ValueError`` saying what an identifier looks like."""
    text = raw.strip()
    wrapped = _WRAPPING.match(text)
    if wrapped:
        text = wrapped["id"]
    new, old = _NEW.fullmatch(text), _OLD.fullmatch(text)
    match = new or old
    shown = repr(raw.strip()[:60])
    if match is None:
        raise ValueError(f"{shown} is not an arXiv id: give {FORMS}")
    problem = ""
    if not 1 <= int(match["mm"]) <= 12:
        problem = f"{match['mm']} is not a month"
    elif new:
        yymm = int(new["yy"] + new["mm"])
        if yymm < 704:
            problem = "new-style ids begin in April 2007 (0704)"
        elif (len(new["number"]) == 5) != (yymm >= 1501):
            problem = "it has 4 digits after the dot before 2015 (1501), 5 from then on"
    elif old and not (int(old["yy"]) >= 91 or int(old["yy"] + old["mm"]) <= 703):
        problem = "old-style ids run from 1991 to March 2007"
    if problem:
        raise ValueError(f"{shown} is not an arXiv id ({problem}): give {FORMS}")
    base = text[: match.start("version") - 1] if match["version"] else text
    return ArxivId(base, int(match["version"]) if match["version"] else None)


def candidate_key(raw: str) -> str:
    """A candidate or paper named by a curator: its id as is (``arxiv-2406.11837``), or an arXiv
    identifier in any form ``parse_arxiv_id`` reads, as that id."""
    text = raw.strip()
    if text.lower().startswith("arxiv-"):
        return text.lower()
    return parse_arxiv_id(text).paper_id
