"""Page cursors: what a "newer"/"older" button carries back to the bot.

A cursor is the whole state of a page, so the bot keeps none (no table of open searches that
a restart would lose, nothing to expire). It must fit Telegram's ``callback_data`` (at most 64
bytes of UTF-8), which also fits Discord's ``custom_id`` (100 characters). The forms:

- ``tag:vq:2``: page 2 of ``#vq``. Tags have no ``:``, so the split is unambiguous.
- ``tag:긴태그이름~1a2b3c4d:2``: a tag too long to fit (tags reach 64 characters, Korean ones
  192 bytes) keeps the prefix that fits plus 8 hex digits of its SHA-1; reading it back finds
  the tag with that prefix and hash.
- ``search:codebook tokens:2``: page 2 of a search. The query is the cleaned text the user
  typed, so reading it back runs the same search. A query that does not fit gets no cursor:
  its answer is a single page that says how many more matches there are (see ``lookup``).
- ``similar:arxiv-2406.11837``: the papers related to one paper (a paper's "similar" button).
  Paper ids are at most 49 ASCII characters, so every one fits; ``similar_cursor`` still
  answers None for one that would not.

A cursor comes back from the client and can be forged or garbled; ``read_cursor`` refuses
anything it did not write with an ``InputError`` the dispatcher answers politely. A forged
but well-formed cursor can only ask for what the user could have typed.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from bot.archive.queries import MAX_PAGE
from bot.archive.text import normalize_tag
from bot.errors import InputError

MAX_CURSOR_BYTES = 64
#: What adapters route button presses by (a python-telegram-bot ``CallbackQueryHandler`` pattern).
CURSOR_PATTERN = r"^(tag|search):"
#: What a paper's "similar" button carries: ``similar:`` and the paper's id.
SIMILAR_PATTERN = r"^similar:"
SIMILAR = "similar:"
GARBLED = "That button no longer works. Send the command again."

_HASH_LENGTH = 8
_HASHED = re.compile(rf"(.*)~([0-9a-f]{{{_HASH_LENGTH}}})")
_PAGE = re.compile(r"[1-9][0-9]{0,8}")
# What the start of a stored tag can look like (it may end in "-" where it was cut).
_PREFIX = re.compile(r"[^\W_A-Z][\w-]*")
# What a paper id can look like (``arxiv-2406.11837``, ``arxiv-hep-th_9901001``, a slug and hash).
_PAPER_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")

Kind = Literal["tag", "search"]


@dataclass(frozen=True, slots=True)
class Cursor:
    kind: Kind
    #: The tag or the query; for a hashed tag, the prefix it starts with.
    key: str
    page: int
    #: For a tag too long to carry: 8 hex digits of the SHA-1 of its full name.
    digest: str | None = None

    def matches(self, tag: str) -> bool:
        """Whether ``tag`` is the one a hashed cursor stands for."""
        return tag.startswith(self.key) and tag_digest(tag) == self.digest


def tag_digest(tag: str) -> str:
    return hashlib.sha1(tag.encode()).hexdigest()[:_HASH_LENGTH]


def _size(text: str) -> int:
    return len(text.encode())


def tag_cursor(tag: str, page: int) -> str:
    """The cursor of page ``page`` of ``#tag`` (a normalised tag); always within 64 bytes."""
    whole = f"tag:{tag}:{page}"
    if _size(whole) <= MAX_CURSOR_BYTES:
        return whole
    room = MAX_CURSOR_BYTES - _size(f"tag:~{tag_digest(tag)}:{page}")
    prefix = ""
    for char in tag:
        if _size(prefix + char) > room:
            break
        prefix += char
    return f"tag:{prefix}~{tag_digest(tag)}:{page}"


def search_cursor(query: str, page: int) -> str | None:
    """The cursor of page ``page`` of a search, or None when the query is too long to carry."""
    cursor = f"search:{query}:{page}"
    return cursor if _size(cursor) <= MAX_CURSOR_BYTES else None


def similar_cursor(paper_id: str) -> str | None:
    """What a paper's "similar" button carries, or None for an id too long to carry."""
    cursor = SIMILAR + paper_id
    return cursor if _size(cursor) <= MAX_CURSOR_BYTES else None


def read_similar(data: str) -> str:
    """The paper id a "similar" button carries; an ``InputError`` for anything else."""
    if not isinstance(data, str) or _size(data) > MAX_CURSOR_BYTES or not data.startswith(SIMILAR):
        raise InputError(GARBLED)
    paper_id = data.removeprefix(SIMILAR)
    if not _PAPER_ID.fullmatch(paper_id):
        raise InputError(GARBLED)
    return paper_id


def read_cursor(data: str) -> Cursor:
    """The cursor ``data`` holds; an ``InputError`` for anything ``*_cursor`` did not write."""
    if not isinstance(data, str) or _size(data) > MAX_CURSOR_BYTES:
        raise InputError(GARBLED)
    kind, _, rest = data.partition(":")
    key, _, page_text = rest.rpartition(":")
    if kind not in ("tag", "search") or not key or not _PAGE.fullmatch(page_text):
        raise InputError(GARBLED)
    page = int(page_text)
    if page > MAX_PAGE:
        raise InputError(GARBLED)
    if kind == "search":
        return Cursor("search", key, page)
    hashed = _HASHED.fullmatch(key)
    if hashed:
        prefix, digest = hashed.groups()
        if not _PREFIX.fullmatch(prefix):
            raise InputError(GARBLED)
        return Cursor("tag", prefix, page, digest)
    if not _is_tag(key):
        raise InputError(GARBLED)
    return Cursor("tag", key, page)


def _is_tag(text: str) -> bool:
    """Whether ``text`` is a tag as stored (so as a cursor would carry it), not just close to one."""
    try:
        return normalize_tag(text) == text
    except ValueError:
        return False
