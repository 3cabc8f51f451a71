"""From candidates to a post: what the curator is offered, and the draft a pick starts.

Platform-neutral, like the rest of the desk: ``paperboy candidates`` uses it, and so will the
chats' ``/candidates`` (a list, a pick, the draft sent back as text or a file to complete).

A pick does not write the post: the commentary is the curator's. It writes everything else in
the daily post's format (``bot/archive/parsers/daily_post.py``): the date line, then for each
paper its title, ``(authors)``, the abstract on one line, its own links (the arXiv page first,
so the archived paper gets the candidate's id, ``arxiv-2406.11837``), a placeholder line where
the commentary goes and the line of tags: the suggested ones, or a placeholder. The parser
refuses a post that still holds a placeholder, at its line, so a half-written draft cannot be
published by mistake; the curator writes in its place, or deletes a commentary placeholder to
post the paper without commentary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.archive import candidates
from bot.archive.candidates import Candidate
from bot.archive.parsers.daily_post import PLACEHOLDERS
from bot.archive.store import Archive
from bot.archive.text import has_hangul


def suggested_tags(
    archive: Archive, chosen: Sequence[Candidate], features: Path | None = None
) -> dict[str, tuple[str, ...]]:
    """The tags the model of the curator's vocabulary suggests for each candidate, by id.

    A candidate is not in the archive, so the model (``bot/suggest``, its files in ``features``)
    scores its title and summary as it would an untagged paper. Without the features (never
    refreshed, or ``features`` not given) no tags are suggested rather than guessed."""
    if features is None or not chosen:
        return {}
    from bot.suggest.tagger import tags_for

    found = tags_for(features, [(c.title, c.summary, "") for c in chosen])
    return {c.id: tags for c, tags in zip(chosen, found, strict=True) if tags}


@dataclass(frozen=True)
class Offered:
    """A candidate as the curator is shown it: with the tags suggested for it."""

    candidate: Candidate
    tags: tuple[str, ...] = ()


def offered(
    archive: Archive, *, dismissed: bool = False, limit: int | None = None, features: Path | None = None
) -> list[Offered]:
    """The candidates, newest pull first, each with its suggested tags."""
    found = candidates.listing(archive, dismissed=dismissed, limit=limit)
    tags = suggested_tags(archive, found, features)
    return [Offered(c, tags.get(c.id, ())) for c in found]


@dataclass(frozen=True)
class Pick:
    """The draft a pick starts: the post's ``text`` for ``day``, and the candidates it holds."""

    day: dt.date
    text: str
    chosen: tuple[Candidate, ...]

    @property
    def name(self) -> str:
        """A file name for it (a chat sends it as this file; ingesting it keeps no trace of it)."""
        return f"draft-{self.day.isoformat()}.txt"


def start_draft(archive: Archive, ids: Sequence[str], day: dt.date, *, features: Path | None = None) -> Pick:
    """The draft of a post of ``day`` with these candidates (``NotFound`` if one is not a
    candidate); they are marked ``drafted``."""
    chosen = candidates.get(archive, ids)
    text = draft_text(chosen, day, suggested_tags(archive, chosen, features))
    with archive.engine.begin() as conn:
        candidates.set_status(conn, [c.id for c in chosen], candidates.DRAFTED)
    return Pick(day, text, tuple(chosen))


def draft_text(chosen: Sequence[Candidate], day: dt.date, tags: Mapping[str, Sequence[str]]) -> str:
    """The daily post of ``day`` for these candidates, with placeholders for what is the curator's."""
    blocks = [f"{day.year}년 {day.month}월 {day.day}일"]
    for c in chosen:
        # A comma inside a name ("Smith, Jr.") would split it in two: the parser splits at commas.
        names = (" ".join(name.replace(",", " ").split()) for name in c.authors)
        lines = [_title(c.title), f"({', '.join(names)})"]
        if not c.authors:
            lines[1] = PLACEHOLDERS["authors"]
        lines.append(_abstract(c.summary))
        lines.extend(c.links)
        lines.append(PLACEHOLDERS["commentary"])
        lines.append(" ".join(f"#{tag}" for tag in tags.get(c.id, ())) or PLACEHOLDERS["tags"])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _title(title: str) -> str:
    """A title the parser reads as one: never a line of #tags or an (authors) line."""
    if title.startswith("#") or (title.startswith("(") and title.endswith(")")):
        return f"“{title}”"
    return title


def _abstract(summary: str) -> str:
    """The abstract on one line: with no commentary yet, the parser takes the first line after
    the authors as the abstract. Hangul would end it early (commentary starts there), and an
    empty one is a placeholder."""
    text = " ".join(summary.split())
    if not text or has_hangul(text):
        return PLACEHOLDERS["abstract"]
    return text
