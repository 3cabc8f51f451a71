"""A command's answer (``bot.commands``) as Telegram messages: HTML from ``templates/telegram``,
each inside Telegram's 4,096 characters, and inline buttons where the answer pages.

Only the last message of a reply carries the buttons, so paging edits one message in place. A
page's papers each get a "similar" button (``≈ 2``: the page's second paper), whose answer comes
as a new message, what ``/similar ID`` answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.commands import (
    Help,
    LatestDigest,
    PaperDetail,
    PapersPage,
    SimilarPapers,
    Suggestions,
    TagList,
    similar_cursor,
)
from bot.commands.cursor import tag_cursor
from bot.commands.results import Answer
from bot.render.context import template_context, views_digest
from bot.render.environment import Templates
from bot.render.telegram import pack, render_telegram

NEWER, OLDER = "◀ Newer", "Older ▶"
#: The label of a paper's "similar" button: ``≈ 3`` for the page's third paper.
SIMILAR = "≈ {rank}"


@dataclass(frozen=True)
class Reply:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def render_answer(
    templates: Templates, answer: Answer, *, lang: str | None = None, base_url: str | None = None
) -> list[Reply]:
    """Every answer type has a template; the short ones share ``reply/text.html``."""
    if isinstance(answer, LatestDigest):
        return [Reply(message.text) for message in render_telegram(templates, answer.view)]
    context: dict[str, Any] = {"answer": answer, "lang": lang}
    if isinstance(answer, PapersPage):
        if answer.query and base_url:
            context["search_url"] = f"{base_url}/search?q={quote(answer.query)}"
        name = "telegram/reply/page.html"
    elif isinstance(answer, SimilarPapers):
        name = "telegram/reply/similar.html"
    elif isinstance(answer, TagList):
        name = "telegram/reply/tags.html"
    elif isinstance(answer, Help):
        name = "telegram/reply/help.html"
    elif isinstance(answer, PaperDetail):
        digest = views_digest(None, [answer.paper], base_url)
        context = template_context(digest, paper=answer.paper, **context)
        name = "telegram/reply/paper.html"
    else:
        name = "telegram/reply/text.html"
    texts = pack([templates.render(name, context).strip()])
    replies = [Reply(text) for text in texts]
    keyboard = _keyboard(answer)
    if keyboard is not None:
        replies[-1] = Reply(replies[-1].text, keyboard)
    return replies


def _keyboard(answer: Answer) -> InlineKeyboardMarkup | None:
    if isinstance(answer, PapersPage):
        row = [InlineKeyboardButton(NEWER, callback_data=answer.newer)] if answer.newer else []
        row += [InlineKeyboardButton(OLDER, callback_data=answer.older)] if answer.older else []
        rows = [*_similar_rows(answer), row] if row else _similar_rows(answer)
        return InlineKeyboardMarkup(rows) if rows else None
    if isinstance(answer, Suggestions) and answer.tags:
        buttons = [InlineKeyboardButton(f"#{t.tag}", callback_data=tag_cursor(t.tag, 1)) for t in answer.tags]
        return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])
    return None


def _similar_rows(page: PapersPage) -> list[list[InlineKeyboardButton]]:
    """A "similar" button per paper, numbered as the page numbers them, five to a row."""
    buttons = [
        InlineKeyboardButton(SIMILAR.format(rank=page.first + index), callback_data=data)
        for index, paper in enumerate(page.papers)
        if (data := similar_cursor(paper.id)) is not None
    ]
    return [buttons[i : i + 5] for i in range(0, len(buttons), 5)]
