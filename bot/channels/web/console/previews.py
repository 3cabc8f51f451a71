"""A day as each channel sends it, rendered by the same functions the senders and
``paperboy render`` call, with the platforms' limits checked: a warning names the message and
the limit it passes (the renderers split and clip to stay inside them, so a warning means a
template override has outgrown a limit)."""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bot.archive import queries
from bot.archive.store import Archive
from bot.models import Paper
from bot.render.context import digest_view
from bot.render.discord import render_discord
from bot.render.email import render_email
from bot.render.environment import Templates
from bot.render.errors import TemplateProblem
from bot.render.telegram import render_telegram

TELEGRAM_TEXT = 4096  # characters after entity parsing, counted in UTF-16 units
DISCORD_CONTENT = 2000
DISCORD_EMBEDS = 10
DISCORD_EMBED_TOTAL = 6000
#: Gmail clips a message whose HTML passes about 102 KB, hiding the rest behind a link.
EMAIL_HTML = 102 * 1024
CHANNELS = ("telegram", "discord", "email", "web")


@dataclass
class Preview:
    day: dt.date
    channel: str
    papers: int
    #: What is shown: each message as its text or JSON, or the email's parts.
    parts: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    email_html: str = ""


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _visible(html_text: str) -> str:
    """Telegram counts the text left after its HTML entities are parsed."""
    import html
    import re

    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


def shown_papers(archive: Archive, day: dt.date) -> tuple[Paper, ...]:
    """A day's papers; a day not yet published shows what publishing it would take from the queue."""
    return tuple(queries.day_papers(archive, day) or queries.queue(archive)[:3])


class Previews:
    """Rendered previews, kept by what they are made of: the day, the channel and the day's
    papers as loaded on this visit (a correction or a re-ingest makes other papers, so another
    key). The console's templates are compiled once at start (no reloading), so they are the
    same for every key. Rendering a day of 100 papers takes a quarter of a second; loading
    them a few milliseconds. The newest ``size`` renderings are kept."""

    def __init__(self, archive: Archive, templates: Templates, base_url: str | None, size: int = 16) -> None:
        self.archive, self.templates, self.base_url, self.size = archive, templates, base_url, size
        self._kept: OrderedDict[tuple[object, ...], Preview | str] = OrderedDict()

    def preview(self, day: dt.date, channel: str) -> Preview:
        papers = shown_papers(self.archive, day)
        found = self._get(
            (day, channel, papers), lambda: render(self.templates, day, channel, papers, self.base_url)
        )
        assert isinstance(found, Preview)
        return found

    def web_page(self, day: dt.date) -> str:
        papers = shown_papers(self.archive, day)
        found = self._get(
            (day, "web page", papers), lambda: render_web(self.templates, day, papers, self.base_url)
        )
        assert isinstance(found, str)
        return found

    def _get(self, key: tuple[object, ...], make: Callable[[], Preview | str]) -> Preview | str:
        if key in self._kept:
            self._kept.move_to_end(key)
            return self._kept[key]
        made = self._kept[key] = make()
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        return made


def preview(
    archive: Archive, templates: Templates, day: dt.date, channel: str, base_url: str | None
) -> Preview:
    return render(templates, day, channel, shown_papers(archive, day), base_url)


def render(
    templates: Templates, day: dt.date, channel: str, papers: tuple[Paper, ...], base_url: str | None
) -> Preview:
    digest = digest_view(day, list(papers), base_url)
    shown = Preview(day, channel, len(papers))
    try:
        _render(shown, templates, digest)
    except TemplateProblem as exc:
        shown.warnings.append(f"the templates do not render: {exc}")
    return shown


def _render(shown: Preview, templates: Templates, digest: object) -> None:
    if shown.channel == "telegram":
        for number, message in enumerate(render_telegram(templates, digest), 1):  # type: ignore[arg-type]
            size = _utf16(_visible(message.text))
            shown.parts.append((f"Message {number} · {size:,} of {TELEGRAM_TEXT:,} characters", message.text))
            if size > TELEGRAM_TEXT:
                shown.warnings.append(
                    f"Telegram message {number} is {size:,} characters: Telegram takes {TELEGRAM_TEXT:,}"
                )
    elif shown.channel == "discord":
        for number, posted in enumerate(render_discord(templates, digest), 1):  # type: ignore[arg-type]
            total = sum(len(str(value)) for embed in posted.embeds for value in _texts(embed))
            label = (
                f"Message {number} · content {len(posted.content):,} of {DISCORD_CONTENT:,},"
                f" embeds {total:,} of {DISCORD_EMBED_TOTAL:,}"
            )
            shown.parts.append((label, json.dumps(asdict(posted), ensure_ascii=False, indent=2)))
            if len(posted.content) > DISCORD_CONTENT:
                shown.warnings.append(
                    f"Discord message {number}'s content is {len(posted.content):,} characters:"
                    f" Discord takes {DISCORD_CONTENT:,}"
                )
            if total > DISCORD_EMBED_TOTAL or len(posted.embeds) > DISCORD_EMBEDS:
                shown.warnings.append(
                    f"Discord message {number}'s embeds pass Discord's limits"
                    f" ({len(posted.embeds)} embeds, {total:,} characters)"
                )
    elif shown.channel == "email":
        rendered = render_email(templates, digest)  # type: ignore[arg-type]
        shown.parts += [
            ("Subject", rendered.subject),
            ("Preheader", rendered.preheader),
            ("Text part", rendered.text),
        ]
        shown.email_html = rendered.html
        size = len(rendered.html.encode())
        shown.parts.append((f"HTML part · {size:,} bytes", rendered.html))
        if size > EMAIL_HTML:
            shown.warnings.append(
                f"the email's HTML is {size:,} bytes: Gmail clips messages past {EMAIL_HTML:,}"
            )


def _texts(embed: dict[str, object]) -> list[object]:
    """The parts of an embed Discord counts toward its 6,000 characters."""
    found: list[object] = [embed.get("title", ""), embed.get("description", "")]
    for item in embed.get("fields", []) or []:  # type: ignore[attr-defined]
        found += [item.get("name", ""), item.get("value", "")]
    for key in ("footer", "author"):
        part = embed.get(key)
        if isinstance(part, dict):
            found.append(part.get("text") or part.get("name") or "")
    return found


def web_page(archive: Archive, templates: Templates, day: dt.date, base_url: str | None) -> str:
    return render_web(templates, day, shown_papers(archive, day), base_url)


def render_web(templates: Templates, day: dt.date, papers: tuple[Paper, ...], base_url: str | None) -> str:
    from bot.channels.web.site import day_page

    return day_page(templates, digest_view(day, list(papers), base_url))


@dataclass(frozen=True)
class TemplateCheck:
    what: str
    problem: str | None


def overridden(shipped: Path, override: Path | None) -> list[tuple[str, bool]]:
    """Each template in the override folder, and whether it replaces a shipped one (False: a
    file Paperboy does not read, such as a misspelt name)."""
    if override is None or not override.is_dir():
        return []
    names = sorted(str(p.relative_to(override)) for p in override.rglob("*") if p.is_file())
    return [(name, (shipped / name).is_file()) for name in names]


def check_templates(
    shipped: Path, override: Path | None, archive: Archive, day: dt.date | None, base_url: str | None
) -> list[TemplateCheck]:
    """The templates as they are on disk now, compiled, then each channel rendered with ``day``:
    a failure says FILE:LINE and what is wrong."""
    try:
        templates = Templates(shipped, override)
    except TemplateProblem as exc:
        return [TemplateCheck("compiling every template", str(exc))]
    checks = [TemplateCheck("compiling every template", None)]
    if day is None:
        return checks
    for channel in CHANNELS:
        if channel == "web":
            try:
                web_page(archive, templates, day, base_url)
                problem = None
            except TemplateProblem as exc:
                problem = str(exc)
        else:
            problems = preview(archive, templates, day, channel, base_url).warnings
            problem = next((w for w in problems if w.startswith("the templates")), None)
        checks.append(TemplateCheck(f"{channel}: {day}", problem))
    return checks
