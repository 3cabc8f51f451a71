"""Strict checks of Telegram and Discord output against the platforms' published rules.

Sources (../shared/PLATFORM.md): Telegram's formatting options (the complete tag list, the four
named entities, 4,096 characters after entity parsing, counted here in UTF-16 units as entity
offsets are) and Discord's embed limits. ``tests/test_platform_rules.py`` shows each check
rejects what the platform rejects, so a passing render test means something. The Discord stand-in
(``tests/discord_standin.py``) answers with ``discord_violations``, the same checks in Discord's terms.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
TELEGRAM_ATTRIBUTES = {
    "a": {"href"},
    "span": {"class"},
    "code": {"class"},
    "blockquote": {"expandable"},
    "tg-emoji": {"emoji-id"},
}
ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
#: The MessageEntity type each tag produces; <a>, <code> in <pre>, <blockquote expandable> are special.
ENTITY_TYPES = {
    **dict.fromkeys(("b", "strong"), "bold"),
    **dict.fromkeys(("i", "em"), "italic"),
    **dict.fromkeys(("u", "ins"), "underline"),
    **dict.fromkeys(("s", "strike", "del"), "strikethrough"),
    **dict.fromkeys(("span", "tg-spoiler"), "spoiler"),
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.problems: list[str] = []
        self.opened: list[tuple[int, dict[str, str | None]]] = []  # beside ``stack``: start, attributes
        self.entities: list[dict[str, Any]] = []
        self.units = 0  # UTF-16 units of text so far, as entity offsets count

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problems.append(f"unsupported tag <{tag}>")
            return
        for name, _ in attrs:
            if name not in TELEGRAM_ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name!r} on <{tag}>")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        if tag == "span" and dict(attrs).get("class") != "tg-spoiler":
            self.problems.append('<span> without class="tg-spoiler"')
        self.stack.append(tag)
        self.opened.append((self.units, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> does not close {self.stack[-1:] or 'anything'}")
        else:
            self.stack.pop()
            self._entity(tag, *self.opened.pop())

    def _entity(self, tag: str, start: int, attrs: dict[str, str | None]) -> None:
        entity: dict[str, Any] = {"type": ENTITY_TYPES.get(tag, "text_link"), "offset": start}
        if tag == "a":
            entity["url"] = attrs.get("href") or ""
        elif tag == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        elif tag == "tg-emoji":
            entity["custom_emoji_id"] = attrs.get("emoji-id") or ""
        elif tag == "code" and self.stack[-1:] == ["pre"]:  # <pre><code class="language-x">: one entity
            self.opened[-1][1]["language"] = (attrs.get("class") or "").removeprefix("language-")
            return
        elif tag == "pre" and attrs.get("language"):
            entity["language"] = attrs["language"]
        entity["length"] = self.units - start
        if entity["length"]:
            self.entities.append(entity)

    def _add(self, text: str) -> None:
        self.text.append(text)
        self.units += utf16(text)

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.problems.append(f"unescaped angle bracket in {data[:30]!r}")
        self._add(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"named entity &{name}; (Telegram knows only lt, gt, amp, quot)")
        self._add(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._add(html.unescape(f"&#{name};"))


@dataclass
class TelegramParse:
    """Markup as Telegram's HTML parse mode reads it."""

    text: str  # what a reader sees
    problems: list[str]  # markup errors only; no length or emptiness checks
    entities: list[dict[str, Any]]  # MessageEntity objects, offsets and lengths in UTF-16 units


def telegram_parse(markup: str) -> TelegramParse:
    parser = _TelegramParser()
    parser.feed(markup)
    parser.close()
    problems = list(parser.problems)
    if parser.stack:
        problems.append(f"unclosed tags {parser.stack}")
    for bare in re.finditer(r"&(?!(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);)", markup):
        problems.append(f"bare & at {bare.start()}")
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return TelegramParse("".join(parser.text), problems, entities)


def telegram_text(markup: str) -> str:
    """What a reader sees: the text after entity parsing."""
    return telegram_parse(markup).text


def telegram_problems(markup: str) -> list[str]:
    parsed = telegram_parse(markup)
    problems, text = parsed.problems, parsed.text
    if utf16(text) > 4096:
        problems.append(f"{utf16(text)} characters after entity parsing; the limit is 4096")
    if not text.strip():
        problems.append("empty message")
    return problems


DISCORD_LIMITS = {
    "title": 256,
    "description": 4096,
    "footer": 2048,
    "author": 256,
    "field_name": 256,
    "field_value": 1024,
}


@dataclass
class DiscordViolation:
    """One broken rule: where Discord's ``errors`` object puts it, its code and text, and ours."""

    path: tuple[str | int, ...]  # ("embeds", 0, "footer", "text"); () for the whole message
    code: str  # Discord's, e.g. BASE_TYPE_MAX_LENGTH; EMPTY_MESSAGE is error 50006, not a form error
    message: str  # Discord's wording, e.g. "Must be 4096 or fewer in length."
    problem: str  # ours, e.g. "embed 0: description has 4097 characters"


def _too_long(path: tuple[str | int, ...], limit: int, problem: str) -> DiscordViolation:
    return DiscordViolation(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.", problem)


#: Where each counted embed part lives in an embed object.
_EMBED_PARTS: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "description": ("description",),
    "footer": ("footer", "text"),
    "author": ("author", "name"),
}


def _dig(embed: dict[str, Any], path: tuple[str, ...]) -> str:
    outer: Any = embed
    for step in path[:-1]:
        outer = outer.get(step) or {}
    return str(outer.get(path[-1]) or "")


def discord_violations(message: dict[str, Any]) -> list[DiscordViolation]:
    """What Discord refuses in a message's content and embeds (shapes assumed: strings, lists, dicts).

    Lengths are UTF-16 units, the safe reading. A message with components is not empty.
    """
    found: list[DiscordViolation] = []
    content = message.get("content") or ""
    embeds = message.get("embeds") or []
    if utf16(content) > 2000:
        found.append(
            _too_long(("content",), 2000, f"content has {utf16(content)} characters; the limit is 2000")
        )
    if not content.strip() and not embeds and not message.get("components"):
        found.append(
            DiscordViolation(
                (), "EMPTY_MESSAGE", "Cannot send an empty message", "neither content nor embeds"
            )
        )
    if len(embeds) > 10:
        found.append(_too_long(("embeds",), 10, f"{len(embeds)} embeds; the limit is 10"))
    total = 0
    for number, embed in enumerate(embeds):
        texts = {key: _dig(embed, path) for key, path in _EMBED_PARTS.items()}
        fields = embed.get("fields") or []
        if len(fields) > 25:
            found.append(_too_long(("embeds", number, "fields"), 25, f"embed {number}: {len(fields)} fields"))
        for index, field in enumerate(fields):
            for key, name in (("field_name", "name"), ("field_value", "value")):
                value = field.get(name) or ""
                path = ("embeds", number, "fields", index, name)
                if not value.strip():
                    required = "This field is required"
                    found.append(
                        DiscordViolation(path, "BASE_TYPE_REQUIRED", required, f"embed {number}: empty {key}")
                    )
                total += utf16(value)
                if utf16(value) > DISCORD_LIMITS[key]:
                    problem = f"embed {number}: {key} has {utf16(value)} characters"
                    found.append(_too_long(path, DISCORD_LIMITS[key], problem))
        for key, value in texts.items():
            total += utf16(value)
            if utf16(value) > DISCORD_LIMITS[key]:
                problem = f"embed {number}: {key} has {utf16(value)} characters"
                found.append(_too_long(("embeds", number, *_EMBED_PARTS[key]), DISCORD_LIMITS[key], problem))
        url = embed.get("url")
        if url is not None and not re.match(r"https?://", url):
            problem = f"embed {number}: url {url!r} is not http(s)"
            found.append(
                DiscordViolation(
                    ("embeds", number, "url"), "URL_TYPE_INVALID_URL", "Not a well formed URL.", problem
                )
            )
        pictures = any((embed.get(kind) or {}).get("url") for kind in ("image", "thumbnail"))
        if not any(texts.values()) and not fields and not pictures:
            text = "Embeds need a title, description, field, author, footer, image or thumbnail"  # ours
            found.append(
                DiscordViolation(("embeds", number), "EMBED_EMPTY", text, f"embed {number}: empty embed")
            )
    if total > 6000:
        text, problem = (
            "Embed size exceeds maximum size of 6000",
            f"embeds hold {total} characters; the limit is 6000",
        )
        found.append(DiscordViolation(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", text, problem))
    return found


def discord_problems(message: dict[str, Any]) -> list[str]:
    return [violation.problem for violation in discord_violations(message)]


_MARKDOWN_ESCAPE = re.compile(r"\\([\\*_~`|\[\]>#-])")


def discord_visible(markdown: str) -> str:
    """Escaped markdown as a reader sees it: backslash escapes removed."""
    return _MARKDOWN_ESCAPE.sub(r"\1", markdown)
