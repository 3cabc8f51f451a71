"""The Jinja2 environments over ``templates/``, with a deployment's overrides taking precedence.

A template's extension decides how its output is escaped, so no template has to remember:
``.html``/``.xml`` are HTML-autoescaped (with a ``linkify`` filter that makes the curator's
URLs links, ``bot.render.links``), ``.md`` (Discord) escapes markdown in every value it
prints, ``.txt``/``.css``/``.js`` print text as it is. Every template is compiled when
``Templates`` is built, so a broken one fails with its file and line before anything is
rendered or sent.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from markupsafe import Markup

from bot.render.errors import TemplateProblem
from bot.render.links import linkify

ESCAPING = {
    ".html": "html",
    ".xml": "html",
    ".md": "markdown",
    ".txt": "text",
    ".css": "text",
    ".js": "text",
}

# Discord markdown: emphasis, code, strike and spoilers anywhere; masked links' brackets; and
# quotes, headings and list items where they open a line.
_INLINE = re.compile(r"([\\*_~`|\[\]])")
_LINE_OPENER = re.compile(r"(?m)^([ \t]*)([>#-])")
# What Discord's client links: http(s):// up to whitespace or '<' (discord.py's escape_markdown
# keeps the same span whole), so no backslash lands inside a URL the reader clicks.
_URL = re.compile(r"https?://[^\s<]+")


def escape_markdown(text: str) -> str:
    """Backslash-escape Discord markdown in ``text``, leaving URLs whole, as discord.py's
    ``utils.escape_markdown`` does (rendering may not import discord: only its channel does)."""
    parts: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        parts.append(_INLINE.sub(r"\\\1", text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_INLINE.sub(r"\\\1", text[last:]))
    return _LINE_OPENER.sub(r"\1\\\2", "".join(parts))


def _markdown_finalize(value: Any) -> Any:
    if isinstance(value, Markup):  # already markdown, e.g. a macro's output
        return value
    return escape_markdown(str(value))


class Templates:
    """The templates a deployment renders with: ``override`` first, then the shipped ones."""

    def __init__(self, shipped: Path, override: Path | None = None) -> None:
        self.folders = [folder for folder in (override, shipped) if folder is not None]
        for folder in self.folders:
            if not folder.is_dir():
                raise TemplateProblem(str(folder), 1, "the templates folder does not exist")
        loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in self.folders])
        common: dict[str, Any] = {
            "loader": loader,
            "undefined": StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "auto_reload": False,
        }
        html = Environment(autoescape=True, **common)
        html.filters["linkify"] = linkify
        self._environments = {
            "html": html,
            "markdown": Environment(autoescape=False, finalize=_markdown_finalize, **common),
            "text": Environment(autoescape=False, **common),
        }
        self.compile_all()

    def names(self) -> list[str]:
        return sorted({name for env in self._environments.values() for name in env.list_templates()})

    def compile_all(self) -> None:
        for name in self.names():
            kind = ESCAPING.get(Path(name).suffix)
            if kind is None:
                continue  # not a template (a README, an image)
            try:
                self._environments[kind].get_template(name)
            except TemplateSyntaxError as exc:
                raise TemplateProblem(exc.filename or name, exc.lineno, exc.message or str(exc)) from None

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """Render one template; any failure names the template file and line."""
        environment = self._environments[ESCAPING[Path(name).suffix]]
        try:
            return environment.get_template(name).render(context)
        except TemplateNotFound:
            raise TemplateProblem(
                name, 1, f"no template {name!r} in {', '.join(map(str, self.folders))}"
            ) from None
        except (TemplateError, TypeError, ValueError, AttributeError, KeyError) as exc:
            path, line = self._locate(exc, name)
            raise TemplateProblem(path, line, f"{type(exc).__name__}: {exc}") from None

    def exists(self, name: str) -> bool:
        return name in self.names()

    def _locate(self, exc: BaseException, name: str) -> tuple[str, int]:
        """The innermost template frame of a rendering failure (Jinja maps frames to lines)."""
        roots = [str(folder.resolve()) for folder in self.folders]
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if any(str(Path(frame.filename).resolve()).startswith(root) for root in roots):
                return frame.filename, frame.lineno or 1
        return name, 1
