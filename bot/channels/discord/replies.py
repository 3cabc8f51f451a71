"""A command's answer (``bot.commands``) as Discord messages: content and embeds from
``templates/discord/reply/`` inside Discord's limits, and the buttons a page carries.

- A page of /tag or /search is one message (buttons edit it in place), so its papers are short
  cards, one embed each, at most ``PAGE_EMBEDS``, each given an equal share of the 6,000
  characters a message's embeds may hold. A tag's suggested papers follow the curator's, their
  cards marked ☆ and "Suggested". Each paper has a "similar" button (``≈ 2``) that posts what
  ``/similar ID`` answers.
- /paper and /latest show papers as the digest does (``bot.render.discord``), in as many
  messages as that takes.
- Errors, refusals, notices, help and subscription replies are plain content, shown only to
  whoever asked (``is_private``).

This module builds data, not discord.py objects: ``views`` turns ``Button`` into components.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from bot.commands import (
    Answer,
    Help,
    LatestDigest,
    Notice,
    PaperDetail,
    PapersPage,
    SimilarPapers,
    Suggestions,
    TagList,
    similar_cursor,
)
from bot.commands.cursor import tag_cursor
from bot.commands.results import ChatSettings, Error, NotSubscribed, Refused, Subscribed, Unsubscribed
from bot.render._split import chunks, take, utf16_len
from bot.render.context import PaperView, views_digest
from bot.render.discord import (
    COLOR,
    CONTENT,
    DESCRIPTION,
    DESCRIPTION_ROOM,
    EMBEDS,
    MESSAGE_TOTAL,
    TITLE,
    pack,
    paper_embeds,
    render_discord,
)
from bot.render.environment import Templates

#: A page is one message: one embed per paper, and Discord allows ten a message.
PAGE_EMBEDS = EMBEDS
#: Discord shows at most 25 buttons on a message (5 rows of 5).
MAX_BUTTONS = 25
PREVIOUS, NEXT = "◀ Previous", "Next ▶"
#: The label of a paper's "similar" button: ``≈ 3`` for the page's third paper.
SIMILAR = "≈ {rank}"
PER_ROW = 5
#: Answers only the asker sees: mistakes, refusals, "nothing found", and a channel's settings.
PRIVATE = (Error, Refused, Notice, Help, Suggestions, Subscribed, Unsubscribed, NotSubscribed, ChatSettings)
#: What a subscription's target is, as replies name it.
Where = Literal["channel", "thread", "forum"]


@dataclass(frozen=True)
class Button:
    """A button carrying a cursor: ``page`` turns the page it is on, ``open`` posts a new one.
    ``cursor`` None is a greyed-out placeholder (the first page has no Previous)."""

    label: str
    action: Literal["page", "open"]
    cursor: str | None
    #: The row it goes on (0-4); None: after the one before it, five to a row.
    row: int | None = None


@dataclass(frozen=True)
class Reply:
    """One Discord message of an answer."""

    content: str = ""
    embeds: tuple[dict[str, Any], ...] = ()
    buttons: tuple[Button, ...] = ()


def is_private(answer: Answer) -> bool:
    return isinstance(answer, PRIVATE)


def render_answer(
    templates: Templates,
    answer: Answer,
    *,
    lang: str | None = None,
    base_url: str | None = None,
    where: Where = "channel",
) -> list[Reply]:
    """Every answer as one or more messages; only the first of a page's carries buttons."""
    if isinstance(answer, LatestDigest):
        return [Reply(m.content, tuple(m.embeds)) for m in render_discord(templates, answer.view)]
    if isinstance(answer, PapersPage):
        return [page_reply(templates, answer, base_url)]
    if isinstance(answer, SimilarPapers):
        body = templates.render("discord/reply/similar.md", {"answer": answer}).strip()
        title = shorten(f"Like: {answer.paper.title}", TITLE)
        embed: dict[str, Any] = {"title": title, "description": clip(body, DESCRIPTION_ROOM), "color": COLOR}
        if answer.paper.link:
            embed["url"] = answer.paper.link
        return [Reply("", (embed,))]
    if isinstance(answer, PaperDetail):
        digest = views_digest(None, [answer.paper], base_url)
        content = _render(templates, "discord/reply/paper.md", {"answer": answer})
        return _packed(content, paper_embeds(templates, digest, answer.paper))
    if isinstance(answer, TagList):
        context: dict[str, Any] = {"answer": answer}
        body = templates.render("discord/reply/tags.md", context).strip()
        embeds = [{"description": piece, "color": COLOR} for piece in chunks(body, DESCRIPTION_ROOM)]
        return _packed(_render(templates, "discord/reply/tags_header.md", context), embeds)
    if isinstance(answer, Help):
        return [Reply(_render(templates, "discord/reply/help.md", {"answer": answer, "lang": lang}))]
    context = {"answer": answer, "kind": type(answer).__name__, "where": where}
    reply = Reply(_render(templates, "discord/reply/text.md", context))
    if isinstance(answer, Suggestions) and answer.tags:
        shown = answer.tags[:MAX_BUTTONS]
        buttons = tuple(Button(f"#{t.tag}", "open", tag_cursor(t.tag, 1)) for t in shown)
        return [Reply(reply.content, (), buttons)]
    return [reply]


def page_reply(templates: Templates, page: PapersPage, base_url: str | None) -> Reply:
    """A page as one message: a heading, a card per paper, Previous/Next when there are pages."""
    if len(page.papers) > PAGE_EMBEDS:
        raise ValueError(f"a Discord page shows at most {PAGE_EMBEDS} papers, not {len(page.papers)}")
    context: dict[str, Any] = {"answer": page, "search_url": None}
    if page.query and base_url:
        context["search_url"] = f"{base_url}/search?q={quote(page.query)}"
    share = MESSAGE_TOTAL // max(1, len(page.papers))
    embeds = tuple(
        card(templates, paper, page.first + index, share, page.tag if page.is_suggested(paper) else None)
        for index, paper in enumerate(page.papers)
    )
    buttons = [
        Button(SIMILAR.format(rank=page.first + index), "open", cursor, row=index // PER_ROW)
        for index, paper in enumerate(page.papers)
        if (cursor := similar_cursor(paper.id)) is not None
    ]
    if page.pages > 1:
        last = -(-len(page.papers) // PER_ROW)  # the row after the papers' buttons
        buttons += [Button(PREVIOUS, "page", page.newer, last), Button(NEXT, "page", page.older, last)]
    return Reply(_render(templates, "discord/reply/page.md", context), embeds, tuple(buttons))


def card(
    templates: Templates, paper: PaperView, rank: int, room: int, suggested: str | None = None
) -> dict[str, Any]:
    """A paper on a page: its numbered, linked title and a few lines, within ``room`` characters;
    ``suggested``: the tag the model suggests it for (the card says so first)."""
    number = f"{rank}. " if suggested is None else f"{rank}. ☆ "
    title = number + shorten(paper.title, min(TITLE, room // 3) - len(number))
    description = templates.render("discord/reply/card.md", {"paper": paper, "suggested": suggested}).strip()
    embed: dict[str, Any] = {
        "title": title,
        "description": clip(description, min(DESCRIPTION, room - utf16_len(title))),
        "color": COLOR,
    }
    if paper.link:
        embed["url"] = paper.link
    return embed


def shorten(title: str, limit: int) -> str:
    """A title within ``limit`` UTF-16 units, cut after a whole word where one ends late enough
    (a title's first "v2." is no place to stop, as it would be in a paragraph)."""
    if utf16_len(title) <= limit:
        return title
    cut = title
    while utf16_len(cut) > limit - 1:
        cut = cut[: len(cut) - max(1, (utf16_len(cut) - (limit - 1)) // 2)]
    words = cut.rsplit(" ", 1)[0]
    return (words if len(words) > len(cut) // 2 else cut).rstrip() + "…"


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-16 units (what Discord counts, at most), cut with an ellipsis."""
    if utf16_len(text) <= limit:
        return text
    return take(text, limit - 1, may_cut_words=True)[0].rstrip() + "…"


def _render(templates: Templates, name: str, context: dict[str, Any]) -> str:
    return clip(templates.render(name, context).strip(), CONTENT)


def _packed(content: str, embeds: list[dict[str, Any]]) -> list[Reply]:
    return [Reply(m.content, tuple(m.embeds)) for m in pack(content, embeds)]
