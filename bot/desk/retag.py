"""The tags the model offers in a curator's preview, and what accepting or rejecting one does.

For each paper of a post, the preview shows the tags the model of the curator's vocabulary
(``bot.suggest.tagger``) finds in its title, abstract and commentary and the curator did not
write. Each has two buttons:

- accept: the tag is written into the draft, on that paper's line of tags (a line is added
  where the paper has none), the draft is read again to be sure the paper now has it, and the
  preview is rebuilt from the new text;
- reject: the tag leaves the preview; if the paper is already in the archive with that tag
  stored as a suggestion, the suggestion is recorded rejected (``decisions.reject``) and never
  comes back.

A button's data is ``dtag:a|r:DRAFT:N:HASH`` (paper N of the post, 8 hex digits of the tag's
SHA-1), at most 40 characters whatever the tag's length. Nothing else is kept: which offers are
still shown is read back from the buttons of the message pressed (``shown``), so a rejected
offer stays gone across presses and restarts, while the draft itself holds every accepted tag.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.archive import decisions, queries
from bot.archive.store import Archive
from bot.desk.drafts import ID_PATTERN
from bot.errors import InputError, NotFound
from bot.models import Paper

#: Offers shown with buttons: a preview's keyboard is not the place for every guess.
MOST_OFFERED = 8
ACCEPT, REJECT = "a", "r"
BUTTON = re.compile(
    rf"dtag:(?P<verb>[ar]):(?P<draft>{ID_PATTERN}):(?P<entry>[0-9]{{1,3}}):(?P<digest>[0-9a-f]{{8}})"
)
PATTERN = r"^dtag:"
_TAGS_LINE = re.compile(r"\s*#[^\s#]+(?:\s+#[^\s#]+)*\s*")
NOT_OURS = "That button is not one of the preview's."


def offer(features: Path | None, papers: Sequence[Paper]) -> list[tuple[str, ...]]:
    """For each paper, the tags the model suggests that the curator did not write, best first."""
    if features is None or not papers:
        return [() for _ in papers]
    from bot.suggest.tagger import tags_for

    found = tags_for(features, [(p.title, p.abstract, p.commentary) for p in papers])
    return [tuple(t for t in tags if t not in p.tags) for p, tags in zip(papers, found, strict=True)]


def digest_of(tag: str) -> str:
    return hashlib.sha1(tag.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Offer:
    """Tag ``tag`` offered for paper ``entry`` (from 0) of a post."""

    entry: int
    tag: str

    def data(self, verb: str, draft_id: str) -> str:
        return f"dtag:{verb}:{draft_id}:{self.entry}:{digest_of(self.tag)}"

    def buttons(self, draft_id: str) -> list[tuple[str, str]]:
        """(label, data) of its accept and reject buttons."""
        number = self.entry + 1
        return [
            (f"✅ {number} #{self.tag}", self.data(ACCEPT, draft_id)),
            (f"✖ {number} #{self.tag}", self.data(REJECT, draft_id)),
        ]


def offers(entries: Sequence[tuple[str, ...]]) -> list[Offer]:
    """The offers, paper by paper."""
    return [Offer(n, tag) for n, tags in enumerate(entries) for tag in tags]


def at_most(offered: Sequence[tuple[str, ...]], most: int = MOST_OFFERED) -> list[tuple[str, ...]]:
    """``offered`` cut to the first ``most`` offers, paper by paper (each gets buttons)."""
    kept: list[tuple[str, ...]] = []
    room = most
    for tags in offered:
        kept.append(tuple(tags[: max(room, 0)]))
        room -= len(kept[-1])
    return kept


def still_shown(
    offered: Sequence[tuple[str, ...]], draft_id: str, shown: Collection[str]
) -> list[tuple[str, ...]]:
    """``offered`` less the offers whose buttons are no longer on the message (``shown``)."""
    return [
        tuple(tag for tag in tags if Offer(n, tag).data(ACCEPT, draft_id) in shown)
        for n, tags in enumerate(offered)
    ]


@dataclass(frozen=True)
class Press:
    verb: str
    draft_id: str
    entry: int
    digest: str


def read(data: str) -> Press:
    found = BUTTON.fullmatch(data)
    if found is None:
        raise InputError(NOT_OURS)
    return Press(found["verb"], found["draft"], int(found["entry"]), found["digest"])


def with_tag(text: str, papers: Sequence[Paper], entry: int, tag: str) -> str:
    """``text`` with ``#tag`` added to paper ``entry``'s line of tags, or on a line of its own at
    the end of the paper's block when it has none."""
    lines = text.splitlines()
    start = papers[entry].line - 1
    end = papers[entry + 1].line - 1 if entry + 1 < len(papers) else len(lines)
    block = range(start, min(end, len(lines)))
    for number in reversed(block):
        if _TAGS_LINE.fullmatch(lines[number]):
            lines[number] = f"{lines[number].rstrip()} #{tag}"
            return "\n".join(lines) + "\n"
    last = max((n for n in block if lines[n].strip()), default=start)
    lines.insert(last + 1, f"#{tag}")
    return "\n".join(lines) + "\n"


def find_offer(features: Path | None, papers: Sequence[Paper], press: Press) -> Offer:
    """The offer a press names, as the model offers it now."""
    if not 0 <= press.entry < len(papers):
        raise InputError(NOT_OURS)
    tags = offer(features, [papers[press.entry]])[0]
    for tag in tags:
        if digest_of(tag) == press.digest:
            return Offer(press.entry, tag)
    raise InputError("That tag is no longer offered for this paper.")


def reject_stored(archive: Archive, paper: Paper, tag: str) -> bool:
    """Record the rejection when the paper is archived with ``tag`` suggested; whether it was."""
    stored = queries.suggested_tags(archive, [paper.id]).get(paper.id, [])
    if not any(s.tag == tag for s in stored):
        return False
    try:
        decisions.reject(archive, paper.id, tag)
    except NotFound:
        return False
    return True
