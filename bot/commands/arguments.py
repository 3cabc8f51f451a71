"""What a command is given: untrusted chat text, made safe to look up before anything else runs.

Anyone in a chat can type anything after a command, and a button's data can be forged, so
every argument is cleaned here first:

- invisible characters go (zero-width spaces and joiners, word joiners, the byte-order mark,
  soft hyphens, Hangul fillers, bidi embeddings, overrides and isolates): pasted tags carry
  them, a filler would pass for a one-letter tag, and an RTL override could make a reply read
  differently from what it says;
- control characters (NUL, ESC, newlines) become spaces and runs of spaces become one; lone
  surrogates go (no database can store them);
- the text is NFC-normalised (the lookups also fold compatibility forms: ``＃ＶＱ`` is ``#vq``);
- the result is capped at ``MAX_ARGUMENT`` characters with a message that says the limit.

Markup (``<b>``, ``**``) and SQL-looking text stay as they are: they are data, every query
binds parameters, and the templates escape whatever they show.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from bot.archive.queries import MAX_PAGE
from bot.archive.store import Archive
from bot.archive.text import normalize_tag
from bot.errors import InputError, QueryError
from bot.suggest.similar import SimilarIndex

#: The longest argument a command takes (a search, a list of tags, a paper id).
MAX_ARGUMENT = 200
#: Papers per page when the adapter does not say: a chat message stays readable.
PAGE_SIZE = 5
MAX_PAGE_SIZE = 25
# Longer than any chat message: refused before any cleaning work is spent on it.
_HOPELESS = 20 * MAX_ARGUMENT

# Soft hyphen, bidi marks, zero-width characters, bidi embeddings/overrides/isolates, word
# joiners, BOM, variation selectors, and the Hangul fillers that render as nothing.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_UNSTORABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")
_PAGE = re.compile(r"[0-9]{1,9}")


def clean_argument(raw: str) -> str:
    """``raw`` without invisible or control characters, spaces folded; ``InputError`` if too long."""
    if len(raw) > _HOPELESS:
        raise InputError(too_long(len(raw)))
    text = unicodedata.normalize("NFC", _UNSTORABLE.sub("", raw))
    text = " ".join(_CONTROL.sub(" ", _INVISIBLE.sub("", text)).split())
    if len(text) > MAX_ARGUMENT:
        raise InputError(too_long(len(text)))
    return text


def too_long(length: int) -> str:
    return f"That is {length:,} characters long; a command takes at most {MAX_ARGUMENT}."


@dataclass(frozen=True)
class Request:
    """One command to answer: the archive, the cleaned argument and who asks from where.

    ``chat`` is the chat's subscription address (``telegram:-100123``, ``discord:CHANNEL_ID``),
    ``is_admin`` whether the caller may change that chat's subscription (only the platform can
    tell; a private chat's only member administers it). ``today`` bounds ``/latest`` so a post
    ingested ahead of its day stays unseen until then; ``now`` is when a new subscription
    starts (the clock's time when None; tests pin it). ``index``: the features related papers
    are found by, kept open by the bot (None: /similar says it is not available).
    """

    archive: Archive
    command: str
    args: str = ""
    chat: str | None = None
    is_admin: bool = False
    page_size: int = PAGE_SIZE
    base_url: str | None = None
    today: dt.date | None = None
    now: dt.datetime | None = None
    index: SimilarIndex | None = None


class MissingArgument(InputError):
    """A command that needs an argument got none: the answer is its usage."""


def require(request: Request, what: str) -> str:
    if not request.args:
        raise MissingArgument(f"/{request.command} needs {what}.")
    return request.args


def split_page(args: str) -> tuple[str, int]:
    """``vq 2`` -> ``("vq", 2)``: a trailing number after a tag is the page (tags have no spaces)."""
    head, _, last = args.rpartition(" ")
    if not head or not _PAGE.fullmatch(last):
        return args, 1
    return head, check_page(int(last))


def check_page(page: int) -> int:
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"Pages are numbered from 1 to {MAX_PAGE:,}.")
    return page


def tag_of(raw: str) -> str:
    """The tag ``raw`` names (``#VQ`` -> ``vq``), or a ``QueryError`` saying why it is none."""
    try:
        return normalize_tag(raw)
    except ValueError as exc:
        raise QueryError(sentence(str(exc))) from None


def sentence(message: str) -> str:
    """A lower layer's message (``no paper has the id 'x'``) as a chat reply: capitalised, ended."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
