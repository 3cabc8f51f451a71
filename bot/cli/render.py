"""Rendering commands: ``render`` (one digest, one channel) and ``export-site``."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.archive import queries
from bot.archive.store import Archive
from bot.archive.text import normalize_tag
from bot.cli import cli
from bot.cli._dates import parse_day
from bot.cli.archive import json_option, open_settings_archive, pass_settings
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.errors import InputError

if TYPE_CHECKING:  # Jinja2 loads only for the commands that render: lookups start faster
    from bot.render.environment import Templates

CHANNELS = ("telegram", "discord", "email", "rss", "atom", "web")


def load_templates(settings: Settings) -> Templates:
    """Every template compiled now: a broken one stops the command before anything is sent."""
    from bot.render.environment import Templates

    return Templates(DEFAULT_TEMPLATES, settings.templates)


@cli.command()
@click.argument("day", metavar="DATE")
@click.option("--channel", type=click.Choice(CHANNELS), required=True, help="The output to render.")
@click.option("--tag", help="Only the papers with this tag (for feeds: that tag's feed).")
@json_option
@pass_settings
def render(settings: Settings, day: str, channel: str, tag: str | None, as_json: bool) -> None:
    """Render one day (DATE as YYYY-MM-DD, 'today' or 'latest') for one channel.

    Feeds cover the whole archive (newest papers first), so they ignore DATE.
    """
    templates = load_templates(settings)
    wanted = _tag(tag)
    with open_settings_archive(settings) as archive:
        if channel in ("rss", "atom"):
            _feed(settings, archive, templates, channel, wanted, as_json)
            return
        date = _day(archive, day, settings)
        papers = queries.day_papers(archive, date)
    from bot.render.context import digest_view

    digest = digest_view(date, papers, settings.base_url, wanted)
    if wanted and not digest.papers:
        raise InputError(f"no paper of {date} is tagged #{wanted}")
    if channel == "telegram":
        from bot.render.telegram import render_telegram

        messages = render_telegram(templates, digest)
        if as_json:
            _emit(
                {"messages": [{**asdict(m), "link_preview_options": {"is_disabled": True}} for m in messages]}
            )
        else:
            click.echo("\n\n----\n\n".join(m.text for m in messages))
    elif channel == "discord":
        from bot.render.discord import render_discord

        _emit({"messages": [asdict(m) for m in render_discord(templates, digest)]})
    elif channel == "email":
        from bot.render.email import build_message, render_email

        rendered = render_email(templates, digest)
        message = build_message(
            rendered,
            sender=settings.email_from,
            recipient="subscriber@example.invalid",
            date=dt.datetime.now(dt.UTC),
        )
        if as_json:
            _emit(
                {"subject": rendered.subject, "preheader": rendered.preheader, "message": message.as_string()}
            )
        else:
            click.echo(message.as_bytes().decode("ascii"), nl=False)  # transfer-encoded: ASCII only
    else:
        from bot.channels.web.site import day_page

        html = day_page(templates, digest)
        if as_json:
            _emit({"date": date.isoformat(), "path": digest.page, "html": html})
        else:
            click.echo(html)


def _feed(
    settings: Settings, archive: Archive, templates: Templates, kind: str, tag: str | None, as_json: bool
) -> None:
    from bot.channels.feeds import ITEMS, Kind, build_feed, feed_path

    which: Kind = "rss" if kind == "rss" else "atom"
    papers = queries.latest_papers(archive, ITEMS, tag=tag)
    suggested = None
    if settings.feed_suggested_tags:  # the model's tags, marked, only if the operator wants them
        found = queries.suggested_tags(archive, [p.id for p in papers])
        suggested = {paper: [s.tag for s in items] for paper, items in found.items()}
    feed = build_feed(templates, papers, which, site_url=settings.site_url, tag=tag, suggested=suggested)
    if as_json:
        _emit({"path": feed_path(which, tag), "items": len(papers), "xml": feed.decode("utf-8")})
    else:
        click.echo(feed.decode("utf-8"), nl=False)


@cli.command("export-site")
@click.argument("target", metavar="DIR", type=click.Path(path_type=Path))
@pass_settings
def export_site_command(settings: Settings, target: Path) -> None:
    """Write the web archive (pages, feeds, and the search index that lets search.html work on
    any static host) as static files into DIR, replacing its contents."""
    from bot.channels.web.export import export_site
    from bot.cli.discovery import features_folder

    templates = load_templates(settings)
    with open_settings_archive(settings) as archive:
        report = export_site(
            archive,
            templates,
            target,
            base_url=settings.base_url,
            site_url=settings.site_url,
            search_index=settings.search_index != "off",
            features=features_folder(settings),
            feed_suggested=settings.feed_suggested_tags,
        )
    click.echo(
        f"{target}: {report.days} days, {report.papers} papers, {report.tags} tags, {report.files} files"
    )


def _tag(raw: str | None) -> str | None:
    if raw is None:
        return None
    try:
        return normalize_tag(raw)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _day(archive: Archive, raw: str, settings: Settings) -> dt.date:
    if raw.strip().lower() == "latest":
        found = queries.days(archive)
        if not found:
            raise InputError("the archive has no digest yet: ingest a daily post first")
        return found[0].date
    day = parse_day(raw, settings, extra=" or 'latest'")
    if not queries.day_papers(archive, day):
        nearby = ", ".join(d.isoformat() for d in queries.nearby_days(archive, day))
        raise InputError(f"no digest on {day}" + (f"; the nearest days with one: {nearby}" if nearby else ""))
    return day


def _emit(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))
