"""A correction's changes as a curator reads them: a line per paper, and per field what changed.

A commentary is a paragraph or three; printing it twice to show a new sentence would bury the
sentence. So long fields show only what differs, word by word (``+ “added words”``), short ones
(a title, the tags, the authors) show before and after.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.archive.corrections import FieldChange, PaperChange

#: Fields shown whole, before → after; the others show their differing words.
SHORT_FIELDS = ("title",)
#: At most this many differing stretches of a field are shown, each at most ``EXCERPT`` characters.
STRETCHES = 3
EXCERPT = 90


@dataclass(frozen=True)
class ChangeView:
    #: ``changed``, ``added`` or ``removed``.
    kind: str
    title: str
    #: One line per changed field: ``commentary: + “새 문장.”``.
    details: tuple[str, ...] = ()


def describe(changes: Sequence[PaperChange]) -> tuple[ChangeView, ...]:
    return tuple(ChangeView(c.kind, c.title, tuple(_field(f) for f in c.fields)) for c in changes)


def _field(change: FieldChange) -> str:
    if change.field in SHORT_FIELDS:
        return f"{change.field}: “{_cut(change.before)}” → “{_cut(change.after)}”"
    if change.field in ("tags", "authors", "links"):
        separator = " " if change.field == "tags" else ", " if change.field == "authors" else "\n"
        before, after = _items(change.before, separator), _items(change.after, separator)
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        parts = [f"+ {item}" for item in added] + [f"− {item}" for item in removed]
        return f"{change.field}: {', '.join(parts) if parts else 'reordered'}"
    return f"{change.field}: {'; '.join(_stretches(change.before, change.after))}"


def _items(text: str, separator: str) -> list[str]:
    return [item.strip() for item in text.split(separator) if item.strip()]


def _stretches(before: str, after: str) -> list[str]:
    """The differing stretches of two texts, word by word."""
    old, new = before.split(), after.split()
    found = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        gone, came = " ".join(old[i1:i2]), " ".join(new[j1:j2])
        if op == "insert":
            found.append(f"+ “{_cut(came)}”")
        elif op == "delete":
            found.append(f"− “{_cut(gone)}”")
        elif op == "replace":
            found.append(f"“{_cut(gone)}” → “{_cut(came)}”")
    if not found:  # only the spacing or line breaks differ
        return ["spacing"]
    more = len(found) - STRETCHES
    return found[:STRETCHES] + ([f"and {more} more"] if more > 0 else [])


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"
