"""What every parser shares: the document it reads, its options, and its interface."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from bot.errors import ParseError
from bot.models import Digest


@dataclass(frozen=True)
class ParseOptions:
    #: Overrides the year a format leaves out (the Hugging Face listing's "Dec 11").
    year: int | None = None
    #: "Today", for the last-resort year guess; injected so tests don't depend on the clock.
    today: dt.date = field(default_factory=dt.date.today)


@dataclass(frozen=True)
class Document:
    """A decoded source file.

    ``source`` names it in the archive (the file name, so re-ingesting it from another folder
    replaces it); ``shown`` names it in error messages (the path as the user typed it).
    """

    source: str
    text: str
    shown: str = ""

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def error(self, line: int, message: str) -> ParseError:
        return ParseError(self.shown or self.source, line, message)


class Parser:
    """One incoming format. Subclasses set ``name`` and implement ``sniff`` and ``parse``."""

    name: ClassVar[str]

    def sniff(self, doc: Document) -> bool:
        """Whether the content looks like this format (never decided from the file name)."""
        raise NotImplementedError

    def parse(self, doc: Document, options: ParseOptions) -> Digest:
        """Read the whole document or raise ``ParseError`` at the first problem."""
        raise NotImplementedError


def read_document(path: Path) -> Document:
    """Decode a file as UTF-8 text, refusing what is not a text post with a located message."""
    name = str(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ParseError(name, 1, "is a folder, not a file") from None
    except OSError as exc:
        raise ParseError(name, 1, f"cannot be read: {exc.strerror or exc}") from None
    return decode_document(data, path.name, shown=name)


def decode_document(data: bytes, source: str, *, shown: str = "") -> Document:
    """``data`` (a file, an upload) as a post's text: UTF-8 (a BOM allowed), any line endings;
    binary content, another encoding or nothing at all refused with the line where it shows."""
    name = shown or source
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ParseError(name, line, "binary content (a NUL byte), not a text post")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(
            name, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    return text_document(text, source, shown=shown)


def text_document(text: str, source: str, *, shown: str = "") -> Document:
    """A post's text (a file's, or typed in chat) with its line endings made ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError(shown or source, 1, "the file is empty: there is nothing to ingest")
    return Document(source, text, shown=shown)


def first_content_line(lines: list[str]) -> int:
    """Index of the first non-blank line (the caller has ruled out an all-blank document)."""
    return next(i for i, line in enumerate(lines) if line.strip())
