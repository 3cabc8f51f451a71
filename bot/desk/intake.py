"""What a curator sends, made into a document the parsers read, or refused before it costs much.

A post is text: a file (``.txt`` or ``.md``) or a message. Anything else is refused by its name
or its size before a byte is downloaded (``MAX_POST_BYTES``: the largest real post, a Hugging
Face listing, is 47 KB; a megabyte is twenty of those), and a download that turns out longer
than announced is cut off at the cap (``fetch``), so a lying size costs nothing either.
"""

from __future__ import annotations

from pathlib import PurePosixPath

import aiohttp

from bot.archive.parsers import Document, decode_document, text_document
from bot.errors import InputError

#: The most a post may weigh: 1 MB.
MAX_POST_BYTES = 1_000_000
#: The file types a post may come as.
EXTENSIONS = (".txt", ".md")
#: How long a download may take in all.
FETCH_TIMEOUT = 30.0


class Refused(InputError):
    """A post that cannot be read at all: too big, not text, empty (no line to point at)."""


def check_file(name: str | None, size: int | None) -> None:
    """Refuse a file by its name and announced size, before downloading it."""
    suffix = PurePosixPath(name or "").suffix.lower()
    if suffix not in EXTENSIONS:
        shown = f"{name!r} is" if name else "That file is"
        raise Refused(
            f"{shown} not a post: send it as a .txt or .md file (plain text, UTF-8), or paste the text"
        )
    if size is not None and size > MAX_POST_BYTES:
        raise Refused(too_big(size))


def too_big(size: int | None) -> str:
    weighs = f"{size / 1e6:.1f} MB" if size is not None else "more than that"
    return f"That file is {weighs}; a post is at most {MAX_POST_BYTES / 1e6:g} MB of text."


async def fetch(url: str, *, limit: int = MAX_POST_BYTES, timeout: float = FETCH_TIMEOUT) -> bytes:
    """GET ``url``, refusing (``Refused``) a body longer than ``limit`` as soon as it is (its
    Content-Length, else the first chunk past the limit); a failed download says so."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url) as response,
        ):
            if response.status != 200:
                raise InputError(f"The file could not be downloaded (HTTP {response.status}); send it again.")
            if response.content_length is not None and response.content_length > limit:
                raise Refused(too_big(response.content_length))
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > limit:
                    raise Refused(too_big(None))
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise InputError(f"The file could not be downloaded ({type(exc).__name__}); send it again.") from None
    return bytes(data)


def from_bytes(data: bytes, name: str) -> Document:
    """A downloaded file as a document: UTF-8 text, or the located reason it is not."""
    if len(data) > MAX_POST_BYTES:
        raise Refused(too_big(len(data)))
    if not data.strip():
        raise Refused(EMPTY)
    return decode_document(data, name)


def from_text(text: str, name: str) -> Document:
    """Text typed or pasted in chat as a document."""
    if not text.strip():
        raise Refused(EMPTY)
    if len(text.encode()) > MAX_POST_BYTES:
        raise Refused(too_big(len(text.encode())))
    return text_document(text, name)


EMPTY = "The post is empty: send the day's post as text or as a .txt file."
