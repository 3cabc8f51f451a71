"""Telegram messages (parse_mode HTML), each at most 4,096 characters after entity parsing.

Telegram counts the text a message shows, not its markup, and its entity offsets are UTF-16
code units; measuring that way is never looser than Telegram. A digest splits between papers;
a paper longer than one message splits at a paragraph, else a line, a sentence, a word, and
only as a last resort inside a word, with every open tag closed before the cut and reopened
after it, so each message is valid on its own.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

from bot.render._split import take, utf16_len
from bot.render.context import DigestView, PaperView, template_context
from bot.render.environment import Templates

LIMIT = 4096
SEPARATOR = "\n\n"

Token = tuple[str, str, list[tuple[str, str | None]]]  # (kind, tag name or text, attributes)


@dataclass(frozen=True)
class TelegramMessage:
    text: str
    parse_mode: str = "HTML"
    #: A digest links many papers; a preview of the first would crowd the message.
    link_preview: bool = False


def render_telegram(templates: Templates, digest: DigestView, limit: int = LIMIT) -> list[TelegramMessage]:
    header = templates.render("telegram/header.html", template_context(digest)).strip()
    blocks = [paper_block(templates, digest, paper) for paper in digest.papers]
    return [TelegramMessage(text) for text in pack([header, *blocks], limit)]


def paper_block(templates: Templates, digest: DigestView, paper: PaperView) -> str:
    """One paper as a digest shows it (also what the bot's inline mode shares)."""
    return templates.render("telegram/paper.html", template_context(digest, paper=paper)).strip()


def text_length(markup: str) -> int:
    """How long Telegram considers a message: its text after entity parsing, in UTF-16 units."""
    return sum(utf16_len(value) for kind, value, _ in tokenize(markup) if kind == "text")


def pack(blocks: Sequence[str], limit: int = LIMIT) -> list[str]:
    """Messages holding the blocks in order, whole where they fit, split where one cannot."""
    messages: list[str] = []
    current: list[str] = []
    used = 0
    for block in blocks:
        size = text_length(block)
        if current and used + len(SEPARATOR) + size <= limit:
            current.append(block)
            used += len(SEPARATOR) + size
            continue
        if size <= limit:  # a paper that fits a message is never cut: it starts the next one
            if current:
                messages.append(SEPARATOR.join(current))
            current, used = [block], size
            continue
        # Longer than any message: it starts in the room left here, then fills whole messages.
        room = limit - used - len(SEPARATOR) if current else limit
        first, *rest = split(block, limit, first_room=room)
        if current and text_length(first) <= room:
            messages.append(SEPARATOR.join([*current, first]))
        else:
            messages.extend([SEPARATOR.join(current)] if current else [])
            rest = [first, *rest]
        *whole, last = rest
        messages.extend(whole)
        current, used = [last], text_length(last)
    if current:
        messages.append(SEPARATOR.join(current))
    return messages


def split(markup: str, limit: int = LIMIT, first_room: int | None = None) -> list[str]:
    """Cut one block of Telegram HTML into messages of at most ``limit`` (the first of at most
    ``first_room``), tags kept balanced."""
    parts: list[str] = []
    out: list[str] = []
    open_tags: list[tuple[str, list[tuple[str, str | None]]]] = []
    used = 0 if first_room is None else limit - max(first_room, 0)

    def flush() -> None:
        nonlocal used
        parts.append(("".join(out) + "".join(f"</{name}>" for name, _ in reversed(open_tags))).strip())
        out[:] = [_start_tag(name, attrs) for name, attrs in open_tags]
        used = 0

    for kind, value, attrs in tokenize(markup):
        if kind == "start":
            open_tags.append((value, attrs))
            out.append(_start_tag(value, attrs))
        elif kind == "end":
            while open_tags and open_tags.pop()[0] != value:
                pass
            out.append(f"</{value}>")
        else:
            rest = value
            while rest:
                head, rest = take(rest, limit - used, may_cut_words=used == 0)
                if head:
                    out.append(html.escape(head, quote=False))
                    used += utf16_len(head)
                if rest:
                    flush()
    parts.append("".join(out).strip())
    return [part for part in parts if text_length(part)]


def _start_tag(name: str, attrs: list[tuple[str, str | None]]) -> str:
    rendered = "".join(
        f" {key}" if value is None else f' {key}="{html.escape(value, quote=True)}"' for key, value in attrs
    )
    return f"<{name}{rendered}>"


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag, []))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", data, []))


def tokenize(markup: str) -> list[Token]:
    parser = _Tokenizer()
    parser.feed(markup)
    parser.close()
    return parser.tokens
