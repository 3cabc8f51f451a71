"""``/candidates`` in the curator's chat: the candidates to choose from, and the draft a choice starts.

Platform-neutral, as the rest of the desk. The list is what ``paperboy candidates`` shows (newest
pull first, each with its upvotes and the tags the model suggests); under it a button per
candidate toggles it chosen, and a last button drafts the post with the chosen ones
(``picks.start_draft``), sent back to the curator as a file to complete and send again.

Nothing is kept between presses: which candidates are chosen is written in the buttons
themselves (``cand:+:ID`` is not chosen yet, ``cand:-:ID`` is), so the adapters read it back
from the message the press came from, and a list survives a restart. Candidate ids are short
(``arxiv-2406.11837``), well inside Telegram's 64 bytes of callback data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.desk.desk import Desk
from bot.desk.picks import Offered, Pick, offered, start_draft
from bot.errors import NotFound

log = logging.getLogger("paperboy.desk")

#: Candidates one list shows: a chat message, not the whole listing (``paperboy candidates``).
SHOWN = 10
#: Candidates one draft may hold: a day's post is a handful of papers.
MOST_CHOSEN = 10
DRAFT = "cand:draft"
CHOICE = re.compile(r"cand:(?P<state>[+-]):(?P<id>[a-z0-9][a-z0-9._-]{0,55})")
#: What adapters route presses by.
PATTERN = r"^cand:"
NONE_CHOSEN = "Choose one or more papers first (the numbered buttons), then press Draft."
NOTHING = "No candidates: `paperboy pull hf` or `paperboy pull arxiv ID` brings some."


@dataclass(frozen=True)
class Choice:
    """A candidate's toggle: its number in the list, and whether it is chosen."""

    number: int
    candidate_id: str
    chosen: bool = False

    @property
    def data(self) -> str:
        return f"cand:{'-' if self.chosen else '+'}:{self.candidate_id}"

    @property
    def label(self) -> str:
        return f"{'☑' if self.chosen else '☐'} {self.number}"


@dataclass(frozen=True)
class Listing:
    """The candidates a curator is shown, numbered from 1, and their toggles (none chosen)."""

    offered: tuple[Offered, ...]

    @property
    def choices(self) -> tuple[Choice, ...]:
        return tuple(Choice(n, o.candidate.id) for n, o in enumerate(self.offered, start=1) if _fits(o))


def _fits(item: Offered) -> bool:
    return CHOICE.fullmatch(f"cand:+:{item.candidate.id}") is not None


def listing(desk: Desk, *, limit: int = SHOWN) -> Listing:
    """The newest candidates with their suggested tags."""
    return Listing(tuple(offered(desk.archive, limit=limit, features=desk.features)))


def pressed(data: str, number: int) -> Choice | None:
    """The toggle ``data`` after a press (its state flipped), or None for anything else."""
    found = CHOICE.fullmatch(data)
    if found is None:
        return None
    return Choice(number, found["id"], chosen=found["state"] == "+")


def chosen(datas: Iterable[str]) -> list[str]:
    """The candidate ids the buttons of a list show chosen, in the list's order."""
    ids = [m["id"] for data in datas if (m := CHOICE.fullmatch(data)) and m["state"] == "-"]
    return list(dict.fromkeys(ids))


@dataclass(frozen=True)
class Drafted:
    """A press of Draft: the draft (None when there is none to make) and one line to say."""

    text: str
    pick: Pick | None = None


def draft(desk: Desk, ids: list[str], curator: str) -> Drafted:
    """The draft post of the chosen candidates, for the next day that has not gone out."""
    if not ids:
        return Drafted(NONE_CHOSEN)
    if len(ids) > MOST_CHOSEN:
        return Drafted(f"Choose at most {MOST_CHOSEN} papers for one post.")
    day = desk.next_day()
    try:
        pick = start_draft(desk.archive, ids, day, features=desk.features)
    except NotFound:
        return Drafted("Those candidates are gone (dismissed or pulled again): send /candidates again.")
    count = len(pick.chosen)
    text = (
        f"A post of {day} with {count} paper{'s' if count != 1 else ''}: write each commentary where"
        " it says, check the tags, and send the file back to me. Its preview then asks to publish."
    )
    log.info("%s drafted a post of %s from candidates %s", curator, day, ", ".join(ids))
    return Drafted(text, pick)
