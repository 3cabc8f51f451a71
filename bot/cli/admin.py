"""``paperboy admin set-password``, and what the operator console asks of the scheduler
(``Operations``): the same calls as ``paperboy publish`` and ``paperboy deliveries retry``."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from bot.cli import cli
from bot.cli._report import plural
from bot.cli.archive import pass_settings
from bot.config import Settings
from bot.errors import ConfigError, InputError


@cli.group()
def admin() -> None:
    """The operator console at /admin (off until a password is set)."""


@admin.command("set-password")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.option(
    "--print",
    "print_only",
    is_flag=True,
    help="Print the hash for PAPERBOY_ADMIN_PASSWORD_HASH instead of storing it in the data folder.",
)
@pass_settings
def set_password(settings: Settings, from_stdin: bool, print_only: bool) -> None:
    """Set the console's password: its argon2 hash goes into the data folder (or, with --print,
    to standard output). Asked twice without echo, unless --stdin."""
    from bot.channels.web.console.passwords import ENV, hash_password, save_hash

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    try:
        hashed = hash_password(password)
    except ConfigError as exc:
        raise InputError(str(exc)) from None
    if print_only:
        click.echo(hashed)
        return
    path = save_hash(settings.data_dir, hashed)
    click.echo(f"the console's password hash is in {path}; /admin asks for it", err=True)
    import os

    if os.environ.get(ENV):
        click.echo(f"paperboy: {ENV} is set and wins over {path}: unset it to use this password", err=True)


class ConsoleOperations:
    """Publishing and retrying for the console. Inside ``paperboy run`` they go through the
    service (one publish at a time, as the curator's desk does); under ``paperboy serve``
    through a publisher of the web process's own."""

    def __init__(self, publisher: Any, publish: Any = None) -> None:
        self.publisher = publisher
        self._publish = publish or (lambda day: publisher.publish(day))

    async def plan(self, day: dt.date) -> str:
        report = await self.publisher.publish(day, dry_run=True)
        if report.source == "nothing":
            return f"{day}: nothing to publish (no digest that day and the queue is empty)"
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(report.who.kinds.items()))
        line = (
            f"{day}: {plural(report.papers, 'paper')} ({report.source}) would go to"
            f" {plural(report.audience, 'subscriber')}" + (f" ({kinds})" if kinds else "")
        )
        if report.waiting_off:
            off = ", ".join(f"{kind} {n}" for kind, n in sorted(report.waiting_off.items()))
            line += f"; waiting for a channel that is off: {off}"
        return line

    async def publish(self, day: dt.date) -> str:
        report = await self._publish(day)
        if report.source == "nothing":
            return f"{day}: nothing to publish (no digest that day and the queue is empty)"
        line = (
            f"{day}: {plural(report.papers, 'paper')} ({report.source}) went to"
            f" {plural(report.audience, 'subscriber')}"
        )
        fanout = report.fanout
        if fanout is not None:
            line += f"; sent {fanout.sent}, failed {fanout.failed}, gone {fanout.gone}"
            line += "".join(f"; {kind} stopped: {problem}" for kind, problem in fanout.stopped.items())
        return line

    async def retry(self, day: dt.date | None, delivery_id: int | None) -> str:
        count = self.publisher.ledger.retry_failed(day, delivery_id)
        report = await self.publisher.deliver()
        line = (
            f"{plural(count, 'failed delivery', 'failed deliveries')} queued again;"
            f" sent {report.sent}, failed {report.failed}"
        )
        return line + "".join(f"; {kind} stopped: {problem}" for kind, problem in report.stopped.items())
