"""The checks the Discord stand-in makes of a message: what it sends, not where.

Content and embed limits come from ``tests/platform_rules.py`` (``discord_violations``: one set of
checks for render tests and the stand-in); shapes, components, allowed mentions and flags follow
Discord's API reference (``../shared/PLATFORM.md`` section 2). The codes inside ``errors`` that the
reference does not document (components, flags) are the stand-in's best reading.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.discord_standin_rules import (
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    Form,
    Json,
    Path,
    bad,
)
from tests.platform_rules import discord_violations

EMBED_STRINGS = ("title", "type", "description", "url", "timestamp")
EMBED_OBJECTS = {"footer": "text", "author": "name", "image": "url", "thumbnail": "url", "video": "url"}
BUTTON_STYLES = range(1, 7)  # primary, secondary, success, danger, link, premium
SELECTS = (3, 5, 6, 7, 8)


def check_message(payload: Json, *, flags_allowed: int = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS) -> Json:
    """The message Discord would keep (content trimmed), or its 400: 50035 for a malformed or
    oversized one, 50006 for an empty one."""
    form = Form()
    content = form.string(payload.get("content"), ("content",))
    embeds = [
        embed for path, embed in form.objects(payload.get("embeds"), ("embeds",)) if _embed(form, path, embed)
    ]
    components = check_components(form, payload.get("components"))
    mentions = check_allowed_mentions(form, payload.get("allowed_mentions"))
    flags = form.integer(payload.get("flags"), ("flags",)) or 0
    if flags & ~flags_allowed:
        form.add(("flags",), "MESSAGE_FLAGS_INVALID", f"Flags {flags & ~flags_allowed} cannot be set here.")
    form.boolean(payload.get("tts"), ("tts",))
    form.done()
    message = {"content": (content or "").strip(), "embeds": embeds, "components": components}
    violations = discord_violations(message)
    form.problems = [(v.path, v.code, v.message) for v in violations if v.code != "EMPTY_MESSAGE"]
    form.done()
    if violations:
        raise bad(50006, "Cannot send an empty message")
    embeds = [{"type": "rich"} | embed for embed in embeds]
    return message | {"embeds": embeds, "flags": flags, "allowed_mentions": mentions}


def _embed(form: Form, path: Path, embed: Json) -> bool:
    """Type checks of one embed; True when the length checks can read it."""
    before = len(form.problems)
    for key in EMBED_STRINGS:
        form.string(embed.get(key), (*path, key))
    if embed.get("type", "rich") != "rich":
        form.add((*path, "type"), "EMBED_TYPE_INVALID", 'Only "rich" embeds can be sent.')
    if isinstance(embed.get("timestamp"), str):
        try:
            dt.datetime.fromisoformat(embed["timestamp"])
        except ValueError:
            form.add((*path, "timestamp"), "DATE_TIME_TYPE_PARSE", "Could not parse timestamp.")
    form.integer(embed.get("color"), (*path, "color"), 0, 0xFFFFFF)
    for key, required in EMBED_OBJECTS.items():
        part = embed.get(key)
        if part is not None and not isinstance(part, dict):
            form.add((*path, key), "MODEL_TYPE_CONVERT", "Must be an object.")
        elif part is not None:
            form.string(part.get(required), (*path, key, required), 1, None)
            for other in ("url", "icon_url", "proxy_icon_url"):
                if other != required:
                    form.string(part.get(other), (*path, key, other))
    for at, item in form.objects(embed.get("fields"), (*path, "fields")):
        form.string(item.get("name"), (*at, "name"))
        form.string(item.get("value"), (*at, "value"))
        form.boolean(item.get("inline"), (*at, "inline"))
    return len(form.problems) == before


def check_components(
    form: Form, rows: Any, path: Path = ("components",), *, modal: bool = False
) -> list[Json]:
    """Action rows (classic components): ≤5 rows of ≤5 buttons or one select menu, unique custom_ids;
    in a modal, rows of one text input."""
    seen: set[str] = set()
    found = form.objects(rows, path, 5)
    for at, row in found:
        children = form.objects(row.get("components"), (*at, "components"), 5)
        if row.get("type") != 1:
            form.add((*at, "type"), "COMPONENT_TYPE_INVALID", "Top-level components must be action rows (1).")
        elif not children:
            form.add((*at, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
        for where, child in children:
            kind, custom_id = child.get("type"), child.get("custom_id")
            if kind in SELECTS and len(children) > 1:
                form.add(where, "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "A select menu needs a row of its own.")
            if kind == 2:
                _button(form, where, child)
            elif kind == 3:
                for option_at, option in form.objects(child.get("options"), (*where, "options"), 25):
                    form.string(option.get("label"), (*option_at, "label"), 1, 100)
                    form.string(option.get("value"), (*option_at, "value"), 1, 100)
                if not child.get("options"):
                    form.add((*where, "options"), "BASE_TYPE_REQUIRED", "This field is required")
            elif modal and kind == 4:
                form.string(child.get("label"), (*where, "label"), 1, 45)
                if child.get("style") not in (1, 2):
                    form.add((*where, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
            elif kind not in SELECTS:
                form.add(
                    (*where, "type"),
                    "COMPONENT_TYPE_INVALID",
                    f"Component type {kind!r} is not allowed here.",
                )
            if kind in SELECTS:
                form.string(child.get("placeholder"), (*where, "placeholder"), 0, 150)
            if kind in SELECTS or (kind == 2 and child.get("style") not in (5, 6)) or (modal and kind == 4):
                form.string(custom_id, (*where, "custom_id"), 1, 100)
                if custom_id in seen:
                    form.add(
                        (*where, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Custom id is duplicated."
                    )
                seen.add(str(custom_id))
    return [row for _, row in found]


def _button(form: Form, where: Path, button: Json) -> None:
    style = button.get("style")
    if style not in BUTTON_STYLES:
        form.add((*where, "style"), "BASE_TYPE_CHOICES", f"Value must be one of {set(BUTTON_STYLES)}.")
    form.string(button.get("label"), (*where, "label"), 0, 80)
    if style == 5:
        url = button.get("url")
        if not isinstance(url, str) or not re.match(r"(https?|discord)://\S+$", url):
            form.add((*where, "url"), "URL_TYPE_INVALID_URL", "Not a well formed URL.")
        if "custom_id" in button:
            form.add(
                (*where, "custom_id"),
                "BUTTON_COMPONENT_CUSTOM_ID_FORBIDDEN",
                "Link buttons have no custom id.",
            )
    elif "url" in button:
        form.add((*where, "url"), "BUTTON_COMPONENT_URL_FORBIDDEN", "Only link buttons have a url.")
    if style != 6 and not button.get("label") and not button.get("emoji"):
        form.add(where, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button needs a label or an emoji.")


def check_allowed_mentions(form: Form, mentions: Any) -> Json | None:
    if mentions is None:
        return None
    if not isinstance(mentions, dict):
        form.add(("allowed_mentions",), "MODEL_TYPE_CONVERT", "Must be an object.")
        return None
    parse = form.array(mentions.get("parse"), ("allowed_mentions", "parse"))
    for index, kind in enumerate(parse):
        if kind not in ("users", "roles", "everyone"):
            form.add(
                ("allowed_mentions", "parse", index), "BASE_TYPE_CHOICES", f"Value {kind!r} is not valid."
            )
    for kind in ("users", "roles"):
        ids = form.array(mentions.get(kind), ("allowed_mentions", kind), 100)
        for index, value in enumerate(ids):
            form.snowflake(value, ("allowed_mentions", kind, index))
        if ids and kind in parse:
            form.add(
                ("allowed_mentions",),
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
            )
    form.boolean(mentions.get("replied_user"), ("allowed_mentions", "replied_user"))
    return mentions


def pings(content: str, allowed: Json | None) -> list[str]:
    """Who the message notifies: everything it mentions unless ``allowed_mentions`` narrows it."""
    parse = set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
    users = {str(u) for u in (allowed or {}).get("users", [])}
    roles = {str(r) for r in (allowed or {}).get("roles", [])}
    found = [
        f"@{m}" for m in dict.fromkeys(re.findall(r"@(everyone|here)\b", content)) if "everyone" in parse
    ]
    for user in dict.fromkeys(re.findall(r"<@!?(\d+)>", content)):
        if "users" in parse or user in users:
            found.append(f"<@{user}>")
    for role in dict.fromkeys(re.findall(r"<@&(\d+)>", content)):
        if "roles" in parse or role in roles:
            found.append(f"<@&{role}>")
    return found
