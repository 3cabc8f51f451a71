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

    ``date`` is the first day a digest featured the paper (``None`` while it waits in the
    undated queue), ``days`` every such day; ``published`` is the paper's own publication date
    when the source states one.
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
    #: Every day that featured the paper, first first (a paper can be written up again later).
    days: tuple[dt.date, ...] = ()
    #: When a correction of a day that had gone out last changed it (None: never).
    corrected: dt.datetime | None = None


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


#: The kinds of subscription a target can be, and how each names its targets.
KINDS = ("telegram", "discord", "discord-webhook", "email")
#: The kinds each platform's name covers: a Discord channel and a Discord webhook are both Discord.
PLATFORMS = {"telegram": ("telegram",), "discord": ("discord", "discord-webhook"), "email": ("email",)}
#: ``pending``: an email address that has not opened its confirmation link yet.
STATUSES = ("pending", "active", "paused", "gone")


@dataclass(frozen=True, slots=True)
class Subscription:
    """A target on one platform that receives digests (optionally only papers with ``tags``)."""

    id: int
    kind: str
    target: str
    tags: tuple[str, ...]
    status: str
    created: dt.datetime
    last_error: str | None = None
    #: A Discord role id mentioned when a digest has this subscription's tags.
    mention: str | None = None
    #: Hard bounces in a row (email); reset by a delivery that is accepted.
    bounces: int = 0
    #: When the last double opt-in email went out (email sign-ups).
    confirm_sent: dt.datetime | None = None

    @property
    def address(self) -> str:
        """``KIND:TARGET``, how people and the CLI name a subscription."""
        return f"{self.kind}:{self.target}"

    @property
    def label(self) -> str:
        """The address as logs and chat replies show it: a webhook's secret token left out."""
        if self.kind == "discord-webhook":
            return f"{self.kind}:{self.target.rsplit('/', 1)[0]}/…"
        return self.address

    def wants(self, paper_tags: tuple[str, ...]) -> bool:
        return not self.tags or any(tag in self.tags for tag in paper_tags)
