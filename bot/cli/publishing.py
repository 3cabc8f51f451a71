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
from bot.cli.archive import json_option, open_settings_archive, pass_settings
from bot.config import Settings
from bot.errors import InputError

PUBLISH_CHANNELS = ("telegram", "discord", "email", "web")
T = TypeVar("T")


def worker_name() -> str:
    """Who claims deliveries: host and process, so a restart can tell its own stale claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


def publisher_for(settings: Settings, archive: Any) -> Any:
    from bot.channels.registry import available
    from bot.cli._progress import progress
    from scheduler.publish import Publisher

    channels, off = available(settings)
    for kind, reason in off.items():
        click.echo(f"paperboy: {kind} is off: {reason}", err=True)
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
@json_option
@pass_settings
def publish(
    settings: Settings, day: str, kinds: tuple[str, ...], dry_run: bool, backfill: bool, as_json: bool
) -> None:
    """Publish one day's digest now (DATE as YYYY-MM-DD or 'today'), as the scheduler does.

    The day's digest, else the next papers from the undated queue. Publishing the same day again
    sends nothing new. A subscriber gets a day only if it subscribed before that day's publish
    time; --backfill sends it to those who joined later too (once each).
    """
    date = parse_day(day, settings)
    with open_settings_archive(settings) as archive:
        publisher = publisher_for(settings, archive)
        report = sending(
            publisher,
            lambda: publisher.publish(date, kinds=list(kinds) or None, dry_run=dry_run, backfill=backfill),
        )
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
        + (", web archive and feeds rebuilt" if report.site and not dry_run else "")
    )
    for line in explain_audience(report, publisher.off, settings, date, kinds):
        click.echo(line)
    fanout = report.fanout
    if fanout and (fanout.sent or fanout.failed or fanout.gone):
        click.echo(f"sent {fanout.sent}, failed {fanout.failed}, gone {fanout.gone}")
    if later and next_due and not dry_run:
        when = local(next_due, settings)
        count = plural(later, "delivery", "deliveries")
        click.echo(f"{count} {waiting_for_a_time(settings, later)}; the next may go at {when}")
    if waiting > later and not dry_run:
        count = plural(waiting - later, "delivery", "deliveries")
        verb = "waits" if waiting - later == 1 else "wait"
        click.echo(f"{count} in the ledger {verb} for a channel that is off or for a retry")


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def publish_json(report: Any, off: Mapping[str, str], waiting: int, backfill: bool) -> dict[str, Any]:
    fanout = report.fanout
    return {
        "date": report.day.isoformat(),
        "source": report.source,
        "papers": report.papers,
        "subscribers": report.audience,
        "new_deliveries": report.opened,
        "site": report.site,
        "dry_run": report.dry_run,
        "backfill": backfill,
        "sent": fanout.sent if fanout else 0,
        "failed": fanout.failed if fanout else 0,
        "gone": fanout.gone if fanout else 0,
        "waiting": waiting,
        "publish_time": report.cutoff.isoformat() if report.cutoff else None,
        "passed_over": dict(report.who.passed_over),
        "inactive_by_status": dict(sorted(report.who.inactive.items())),
        "backfilled": report.who.backfilled,
        "channels_off": {
            kind: {"subscribers": count, "reason": off.get(kind, "off")}
            for kind, count in sorted(report.waiting_off.items())
        },
    }


#: How ``publish`` names a subscription's status when it explains why it was passed over.
_INACTIVE = {"pending": "awaiting email confirmation", "paused": "paused", "gone": "retired (gone)"}


def explain_audience(
    report: Any, off: Mapping[str, str], settings: Settings, date: dt.date, kinds: tuple[str, ...]
) -> list[str]:
    """Whom the day left out and why, and whose deliveries wait for a channel that is off: so a
    newcomer who subscribed a minute ago reads why the old day they published sent nothing."""
    who, lines = report.who, []
    passed = who.passed_over
    reasons = []
    if passed["joined_after"]:
        when = f"{report.cutoff:%Y-%m-%d %H:%M} {settings.timezone.key}" if report.cutoff else "it"
        reasons.append(
            f"{passed['joined_after']} subscribed after the day went out ({when}): new subscribers get"
            f" no back issues; `paperboy publish {date} --backfill` sends it to them"
        )
    if passed["tags"]:
        reasons.append(f"{passed['tags']} follow tags none of the day's papers has")
    if passed["inactive"]:
        statuses = ", ".join(f"{n} {_INACTIVE.get(s, s)}" for s, n in sorted(who.inactive.items()))
        reasons.append(f"{passed['inactive']} inactive ({statuses})")
    if passed["other_channel"]:
        reasons.append(f"{passed['other_channel']} on other channels than {', '.join(kinds)}")
    total = sum(passed.values())
    if reasons:
        lines.append(f"passed over {plural(total, 'subscriber')}:")
        lines += [f"  {reason}" for reason in reasons]
    if who.backfilled:
        lines.append(f"backfilled {who.backfilled} who subscribed after the day's publish time")
    for kind, count in sorted(report.waiting_off.items()):
        lines.append(
            f"{plural(count, 'waits', 'wait')} for {kind}, which is off: {off.get(kind, 'no sender here')}"
        )
    return lines


def waiting_for_a_time(settings: Settings, count: int = 2) -> str:
    """Why deliveries wait for a set time: a platform's retry-after, or the email window."""
    verb = "waits" if count == 1 else "wait"
    if settings.smtp_window is None:
        return f"{verb} for a retry a platform asked for"
    return (
        f"{verb} for a retry or for the email window (PAPERBOY_SMTP_WINDOW {settings.smtp_window}) to reopen"
    )


def iso_time(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def local(when: dt.datetime, settings: Settings) -> str:
    """A time as the operator reads it: in PAPERBOY_TIMEZONE, to the second (rounded up: nothing
    goes before the time shown)."""
    if when.microsecond:
        when = when.replace(microsecond=0) + dt.timedelta(seconds=1)
    return when.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M:%S %Z")


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
    from scheduler.ledger import Ledger

    with open_settings_archive(settings) as archive:
        rows = Ledger(archive, worker_name()).listing(
            status=status, day=parse_day(day, settings) if day else None
        )
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
    click.echo(f"{count} failed deliveries queued again; sent {report.sent}, failed {report.failed}")


@cli.command()
@click.option("--no-web", is_flag=True, help="Leave the web server to a `paperboy serve` process.")
@pass_settings
def run(settings: Settings, no_web: bool) -> None:
    """The service: publishes each day at PAPERBOY_PUBLISH_AT, watches the inbox, retries,
    serves the web archive and feeds. Stop it with Ctrl-C (or SIGTERM)."""
    import signal

    from tqdm.contrib.logging import logging_redirect_tqdm

    from bot.channels.email.signup import mailer_from_env
    from bot.channels.registry import frontends
    from bot.cli._logging import configure as configure_logging
    from bot.desk import Desk
    from scheduler.service import Service

    configure_logging()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        with open_settings_archive(settings) as archive:
            service = Service(archive, settings, publisher_for(settings, archive))

            async def on_publish(day: dt.date) -> int:
                return (await service.publish_now(day)).audience

            desk = Desk(archive, settings, on_publish)
            bots = frontends(archive, settings, service.subscribed, desk=desk)
            if bots and not settings.curators:
                click.echo("paperboy: PAPERBOY_CURATORS is not set: posts sent in chat are refused", err=True)
            if no_web and any(bot.routes for bot in bots):
                raise InputError(
                    "PAPERBOY_TELEGRAM_WEBHOOK_URL needs the web server in this process: run without --no-web"
                )
            click.echo(
                f"paperboy: publishing daily at {settings.publish_at:%H:%M} {settings.timezone.key};"
                f" inbox {settings.inbox}; site {settings.site_dir}",
                err=True,
            )
            mailer = None if no_web else mailer_from_env(settings, os.environ)
            try:
                await service.run(stop, web=not no_web, frontends=bots, mailer=mailer)
            finally:
                if mailer is not None:
                    await mailer.close()
                await close_channels(service.publisher.channels)

    with logging_redirect_tqdm():  # log lines print above a fan-out's bar instead of through it
        asyncio.run(main())


@cli.command()
@pass_settings
def serve(settings: Settings) -> None:
    """Only the web server (at PAPERBOY_HOST:PAPERBOY_PORT): the archive in PAPERBOY_SITE_DIR and
    its feeds, search, email sign-up. Stop it with Ctrl-C (or SIGTERM)."""
    from bot.archive.store import HEAD_REVISION, open_archive, schema_revision
    from bot.channels.email.signup import mailer_from_env
    from bot.channels.web.app import make_app
    from bot.channels.web.server import serve_forever
    from bot.cli._logging import configure as configure_logging

    configure_logging()
    # No migration here: beside a `paperboy run` worker (the Procfile) two processes would race to
    # create the schema. The worker (or `paperboy db upgrade`) migrates; /healthz says until then.
    with open_archive(settings.database_url, migrate=False) as archive:
        if schema_revision(archive.engine) != HEAD_REVISION:
            click.echo(
                "paperboy: the database is not migrated yet: search and sign-up work once"
                " `paperboy run` or `paperboy db upgrade` has migrated it",
                err=True,
            )
        mailer = mailer_from_env(settings, os.environ)
        app = make_app(settings, archive, (), mailer)
        click.echo(
            f"paperboy: serving {settings.site_dir} on http://{settings.host}:{settings.port}", err=True
        )
        serve_forever(app, settings.host, settings.port, cleanup=mailer.close)
