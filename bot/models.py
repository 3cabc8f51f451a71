"""The archive's vocabulary: papers and the digests that feature them.

Pure data with no I/O, so every layer (parsers, store, renderers, channels) can share it
without importing each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: The incoming formats Paperboy understands, as named in the CLI's JSON.
FORMATS = ("daily-post", "hf-daily", "abstracts")


@dataclass(frozen=True, slots=True)
class Paper:
    """One paper as the archive knows it.

    ``date`` is the day a digest featured the paper (``None`` while it waits in the undated
    queue); ``published`` is the paper's own publication date when the source states one.
    ``source`` and ``line`` point at where the curator wrote it, for error messages and audits.
    """

    id: str
    title: str
    authors: tuple[str, ...] = ()
    author_count: int | None = None
    abstract: str = ""
    commentary: str = ""
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    published: dt.date | None = None
    upvotes: int | None = None
    source: str = ""
    line: int = 0
    date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Digest:
    """What one source document said: its date (``None`` for an undated queue) and entries in order."""

    date: dt.date | None
    source: str
    format: str
    entries: tuple[Paper, ...]


@dataclass(frozen=True, slots=True)
class TagCount:
    tag: str
    count: int


@dataclass(frozen=True, slots=True)
class Appearance:
    """Where a paper was written up: which source, on which digest day, at which line."""

    source: str
    format: str
    date: dt.date | None
    line: int
