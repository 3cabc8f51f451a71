"""Discord messages: a header as content, then one embed per paper, inside Discord's limits.

Limits (discord-api-docs, "Embed Limits"): content 2,000; 10 embeds a message; title 256,
description 4,096, 25 fields of name 256 and value 1,024, footer 2,048; 6,000 characters across
a message's embeds. Lengths are measured in UTF-16 units, never less than what Discord counts.

Nothing is lost: a title too long for the title is repeated whole in the description; a
commentary too long for one embed continues in the next ones; tags and links go into as many
fields as they need; only the abstract may be folded, and then the embed links to the full text.
Embed titles, field names and footers are plain text on Discord; descriptions and field values
are markdown, escaped by the ``.md`` templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.render._split import chunks, take, utf16_len
from bot.render.context import DigestView, PaperView, template_context
from bot.render.environment import Templates

CONTENT = 2000
EMBEDS = 10
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
MESSAGE_TOTAL = 6000
#: Description per embed, leaving room for the title, fields and footer under MESSAGE_TOTAL.
DESCRIPTION_ROOM = 3000
#: The most one embed may hold, so that any single embed fits a message on its own.
EMBED_ROOM = 5000
COLOR = 0x2B6CB0


@dataclass
class DiscordMessage:
    content: str
    embeds: list[dict[str, Any]] = field(default_factory=list)


def render_discord(templates: Templates, digest: DigestView) -> list[DiscordMessage]:
    content = templates.render("discord/content.md", template_context(digest)).strip()
    content = take(content, CONTENT, may_cut_words=True)[0]
    embeds = [embed for paper in digest.papers for embed in paper_embeds(templates, digest, paper)]
    return pack(content, embeds)


def embed_size(embed: dict[str, Any]) -> int:
    """What counts toward the 6,000 per message: title, description, footer, author, fields."""
    texts = [embed.get("title", ""), embed.get("description", ""), embed.get("footer", {}).get("text", "")]
    texts.append(embed.get("author", {}).get("name", ""))
    texts += [part for f in embed.get("fields", []) for part in (f["name"], f["value"])]
    return sum(utf16_len(text) for text in texts)


def pack(content: str, embeds: list[dict[str, Any]]) -> list[DiscordMessage]:
    messages = [DiscordMessage(content)]
    used = 0
    for embed in embeds:
        size = embed_size(embed)
        current = messages[-1]
        if len(current.embeds) >= EMBEDS or used + size > MESSAGE_TOTAL:
            messages.append(DiscordMessage(""))
            current, used = messages[-1], 0
        current.embeds.append(embed)
        used += size
    return messages


def paper_embeds(templates: Templates, digest: DigestView, paper: PaperView) -> list[dict[str, Any]]:
    """The paper's embed, followed by continuation embeds for whatever did not fit."""
    title = _clip(paper.title, TITLE)
    context = template_context(digest, paper=paper, repeat_title=title != paper.title)
    descriptions = _descriptions(templates, context, paper)
    fields = _fields(templates, context)
    first: dict[str, Any] = {"title": title, "description": descriptions[0], "color": COLOR}
    if paper.link:
        first["url"] = paper.link
    if paper.date:
        first["timestamp"] = f"{paper.date.isoformat()}T00:00:00+00:00"
    footer = _clip(templates.render("discord/footer.txt", context).strip(), FOOTER)
    if footer:
        first["footer"] = {"text": footer}
    embeds = [first]
    # Continuations carry no url: Discord merges embeds that share one.
    embeds += [_continuation(paper, text) for text in descriptions[1:]]
    for item in fields:
        target = embeds[-1]
        if len(target.get("fields", [])) >= FIELDS or embed_size(target) + _field_size(item) > EMBED_ROOM:
            target = _continuation(paper, None)
            embeds.append(target)
        target.setdefault("fields", []).append(item)
    return embeds


def _descriptions(templates: Templates, context: dict[str, Any], paper: PaperView) -> list[str]:
    def render(abstract: str, folded: bool) -> str:
        values = {**context, "abstract": abstract, "abstract_folded": folded}
        return templates.render("discord/description.md", values).strip()

    whole = render(paper.abstract, folded=False)
    if utf16_len(whole) <= DESCRIPTION_ROOM or not paper.link:
        return chunks(whole, DESCRIPTION_ROOM) or [whole]
    # Fold the abstract to what fits beside the commentary; the embed links to the full text.
    room = DESCRIPTION_ROOM - utf16_len(render("", folded=True)) - 20
    kept = take(paper.abstract, room, may_cut_words=False)[0].rstrip() if room > 200 else ""
    folded = render(kept, folded=True)
    return chunks(folded, DESCRIPTION_ROOM) or [folded]


def _fields(templates: Templates, context: dict[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for name, template in (("Tags", "discord/tags.md"), ("Links", "discord/links.md")):
        value = templates.render(template, context).strip()
        pieces = chunks(value, FIELD_VALUE)
        for number, piece in enumerate(pieces, start=1):
            label = name if len(pieces) == 1 else f"{name} ({number}/{len(pieces)})"
            fields.append({"name": label, "value": piece, "inline": False})
    return fields


def _continuation(paper: PaperView, description: str | None) -> dict[str, Any]:
    embed: dict[str, Any] = {"title": _clip(f"{paper.title} (continued)", TITLE), "color": COLOR}
    if description:
        embed["description"] = description
    return embed


def _field_size(item: dict[str, Any]) -> int:
    return utf16_len(item["name"]) + utf16_len(item["value"])


def _clip(text: str, limit: int) -> str:
    if utf16_len(text) <= limit:
        return text
    return take(text, limit - 1, may_cut_words=True)[0].rstrip() + "…"
