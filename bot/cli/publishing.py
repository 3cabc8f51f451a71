"""Publishing commands: ``publish``, ``deliveries list|retry``."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import click

from bot.cli import cli
from bot.cli._dates import parse_day
from bot.cli._output import emit
from bot.cli._report import (
    explain_audience,
    iso_time,
    local,
    plural,
    publish_json,
    site_phrase,
    waiting_for_a_time,
)
from bot.cli.archive import json_option, open_settings_archive, pass_settings
from bot.config import Settings
from bot.errors import ConfigError

PUBLISH_CHANNELS = ("telegram", "discord", "email", "web")
T = TypeVar("T")


def worker_name() -> str:
    """Who claims deliveries: host and process, so a restart can tell its own stale claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def publisher_for(settings: Settings, archive: Any) -> Any:
    from bot.channels.registry import available
    from bot.cli._logging import notice
    from bot.cli._progress import progress
    from scheduler.publish import Publisher

    channels, off = available(settings)
    for kind, reason in off.items():
        notice(f"paperboy: {kind} is off: {reason}")
    publisher = Publisher(archive, settings, channels, worker=worker_name(), off=off)
    publisher.fanout.progress = functools.partial(progress, desc="sending", unit="msg")
    return publisher


def sending(publisher: Any, work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` in a fresh event loop, then close the publisher's channels in it: their HTTP
    sessions and SMTP connections belong to that loop, and left open they warn on exit."""

    async def go() -> T:
        try:
            return await work()
        finally:
            await close_channels(publisher.channels)

    return asyncio.run(go())


async def close_channels(channels: Mapping[str, Any]) -> None:
    for kind, channel in channels.items():
        try:
            await channel.close()
        except Exception as exc:  # closing is best effort; the work itself is done
            click.echo(f"paperboy: closing the {kind} channel: {exc}", err=True)


def check_site_search(settings: Settings) -> None:
    """Publishing rebuilds the web archive, and with PAPERBOY_SEARCH_INDEX=always its search
    index: a broken Pagefind install then stops the command when it starts, before a day is
    recorded or anything is sent."""
    if settings.search_index == "always":
        from bot.channels.web.static_search import check_pagefind

        check_pagefind()


def settle(publisher: Any, fanout: Any) -> None:
    """Say what the ledger did besides sending: a dead process's claims queued again. A channel
    that a wrong setting stopped (a token or login refused at send time) ends the command like a
    wrong setting at start, exit 2, its deliveries still pending: nothing was failed for it."""
    if fanout is None:
        return
    if fanout.recovered:
        click.echo(
            f"paperboy: {fanout.recovered} deliveries a stopped process had claimed were queued again",
            err=True,
        )
    for kind, problem in fanout.stopped.items():
        waiting = publisher.ledger.pending_count([kind])
        raise ConfigError(f"{kind} stopped: {problem}; its {waiting} deliveries wait in the ledger")
    for kind, problem in (fanout.edits.stopped if fanout.edits else {}).items():
        raise ConfigError(f"{kind} stopped: {problem}; its corrections wait in the ledger")


@cli.command()
@click.argument("day", metavar="DATE")
@click.option(
    "--channel",
    "kinds",
    multiple=True,
    type=click.Choice(PUBLISH_CHANNELS),
    help="Only this channel (discord: its channels and webhooks; web: the site and feeds).",
)
@click.option("--dry-run", is_flag=True, help="Say what would go out; change nothing.")
@click.option(
    "--backfill", is_flag=True, help="Also send the day to subscribers who joined after its publish time."
)
@click.option(
    "--email-correction",
    is_flag=True,
    help="Email subscribers of a corrected day a short message of what changed (once a correction).",
)
@json_option
@pass_settings
def publish(
    settings: Settings,
    day: str,
    kinds: tuple[str, ...],
    dry_run: bool,
    backfill: bool,
    email_correction: bool,
    as_json: bool,
) -> None:
    """Publish one day's digest now (DATE as YYYY-MM-DD or 'today'), as the scheduler does.

    The day's digest, else the next papers from the undated queue. Publishing the same day again
    sends nothing new. A subscriber gets a day only if it subscribed before that day's publish
    time; --backfill sends it to those who joined later too (once each).
    """
    date = parse_day(day, settings)
    if not dry_run and (not kinds or "web" in kinds):
        check_site_search(settings)
    with open_settings_archive(settings) as archive:
        publisher = publisher_for(settings, archive)
        if email_correction and not dry_run:
            told = publisher.edits.open_email(date)
            click.echo(f"{date}: a correction email for {plural(told, 'subscriber')}", err=as_json)
        report = sending(
            publisher,
            lambda: publisher.publish(date, kinds=list(kinds) or None, dry_run=dry_run, backfill=backfill),
        )
        settle(publisher, report.fanout)
        waiting = publisher.ledger.pending_count()
        later, next_due = publisher.ledger.scheduled()
    if as_json:
        emit(publish_json(report, publisher.off, waiting, backfill) | {"next_due": iso_time(next_due)})
        return
    if report.source == "nothing":
        click.echo(f"{date}: nothing to publish (no digest that day and the queue is empty)")
        return
    what = "would go" if dry_run else "went"
    click.echo(
        f"{date}: {plural(report.papers, 'paper')} ({report.source}) {what} to"
        f" {plural(report.audience, 'subscriber')}"
        + (site_phrase(report.site_update) if report.site and not dry_run else "")
    )
    if report.site_error:
        click.echo(
            f"paperboy: the web archive was not updated: {report.site_error}; the deliveries go out"
            " regardless, and `paperboy export-site` or the next publish brings it up to date",
            err=True,
        )
    if report.index_error:
        click.echo(
            f"paperboy: the site's search index was not rebuilt: {report.index_error}; the pages are"
            " up to date, and the next publish or `paperboy export-site` builds it",
            err=True,
        )
    for line in explain_audience(report, publisher.off, settings, date, kinds):
        click.echo(line)
    fanout = report.fanout
    if fanout and (fanout.sent or fanout.failed or fanout.gone):
        click.echo(f"sent {fanout.sent}, failed {fanout.failed}, gone {fanout.gone}")
    edits = fanout.edits if fanout else None
    if edits and (edits.corrected or edits.failed or edits.deferred):
        corrected = plural(edits.corrected, "delivery", "deliveries")
        click.echo(
            f"corrected {corrected} ({plural(edits.messages, 'message')} edited, sent or deleted;"
            " an email counts one),"
            f" failed {edits.failed}" + (f", {edits.deferred} to retry later" if edits.deferred else "")
        )
    if later and next_due and not dry_run:
        when = local(next_due, settings)
        count = plural(later, "delivery", "deliveries")
        click.echo(f"{count} {waiting_for_a_time(settings, later)}; the next may go at {when}")
    if waiting > later and not dry_run:
        count = plural(waiting - later, "delivery", "deliveries")
        verb = "waits" if waiting - later == 1 else "wait"
        click.echo(f"{count} in the ledger {verb} for a channel that is off or for a retry")


@cli.group()
def deliveries() -> None:
    """The delivery ledger: what went where, and why something did not."""


@deliveries.command("list")
@click.option("--status", type=click.Choice(["pending", "sending", "sent", "failed", "gone"]))
@click.option("--date", "day")
@json_option
@pass_settings
def list_deliveries(settings: Settings, status: str | None, day: str | None, as_json: bool) -> None:
    """Deliveries, newest day first (optionally only one status or one day)."""
    from scheduler.edits import EditLedger
    from scheduler.ledger import Ledger

    with open_settings_archive(settings) as archive:
        rows = Ledger(archive, worker_name()).listing(
            status=status, day=parse_day(day, settings) if day else None
        )
        edits = EditLedger(archive, worker_name()).of_deliveries([row.id for row in rows])
    if as_json:
        emit(
            {
                "deliveries": [
                    {
                        "id": row.id,
                        "date": row.day.isoformat(),
                        "target": row.subscription.address,
                        "kind": row.subscription.kind,
                        "status": row.status,
                        "attempts": row.attempts,
                        "last_error": row.last_error,
                        "message_ids": list(row.message_ids),
                        "sent_at": row.sent_at.isoformat() if row.sent_at else None,
                        "not_before": row.not_before.isoformat() if row.not_before else None,
                        "edits": edits.get(row.id, []),
                    }
                    for row in rows
                ]
            }
        )
        return
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        error = f"  {row.last_error}" if row.last_error else ""
        shown = row.status
        if shown == "pending" and row.not_before and row.not_before > now:
            shown = f"waiting until {local(row.not_before, settings)}"
        click.echo(f"{row.day}  {row.subscription.label:<40} {shown:<8} tries {row.attempts}{error}")
        for edit in edits.get(row.id, []):
            problem = f"  {edit['last_error']}" if edit["last_error"] else ""
            click.echo(
                f"{'':12}corrected by #{edit['correction']}: {edit['status']},"
                f" {plural(edit['messages'], 'message')} changed{problem}"
            )
    if not rows:
        click.echo("No deliveries" + (f" with status {status}" if status else "") + ".")


@deliveries.command("retry")
@click.option("--date", "day", help="Only this day's failed deliveries.")
@pass_settings
def retry(settings: Settings, day: str | None) -> None:
    """Send the failed deliveries again (the sent ones are never resent)."""
    with open_settings_archive(settings) as archive:
        publisher = publisher_for(settings, archive)
        count = publisher.ledger.retry_failed(parse_day(day, settings) if day else None)
        report = sending(publisher, publisher.deliver)
        settle(publisher, report)
    click.echo(f"{count} failed deliveries queued again; sent {report.sent}, failed {report.failed}")
