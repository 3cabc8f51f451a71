"""Cutting text to fit a platform's limit at the most natural place available."""

from __future__ import annotations

import re

# Cut points, preferred first: a paragraph break, a line break, the end of a sentence, a space.
BOUNDARIES = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?。…])\s+"),
    re.compile(r"\s+"),
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what Telegram's entity offsets count, and never less than
    the code points Discord counts, so a limit checked this way is safe on both."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def take(text: str, room: int, *, may_cut_words: bool) -> tuple[str, str]:
    """The longest head of ``text`` that fits in ``room``, cut at the best boundary available.

    Without a boundary that fits, a word is cut only if ``may_cut_words`` (the head would
    otherwise be empty, as at the start of a message); else nothing is taken.
    """
    if utf16_len(text) <= room:
        return text, ""
    for boundary in BOUNDARIES:
        cut = 0
        for match in boundary.finditer(text):
            if utf16_len(text[: match.start()]) > room:
                break
            if match.start() > 0:
                cut = match.end()
        if cut:
            return text[:cut], text[cut:]
    if not may_cut_words:
        return "", text
    end = 0
    while end < len(text) and utf16_len(text[: end + 1]) <= room:
        end += 1
    return text[:end], text[end:]


def chunks(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units, cut at the best boundaries."""
    pieces: list[str] = []
    rest = text
    while rest:
        head, rest = take(rest, limit, may_cut_words=True)
        if head.strip():
            pieces.append(head.strip())
    return pieces
