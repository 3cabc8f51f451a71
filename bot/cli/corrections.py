"""``paperboy corrections list``: each correction of a day that had gone out, what it changed,
and how far the edits of the messages already sent have got."""

from __future__ import annotations

import click

from bot.cli import cli
from bot.cli._dates import parse_day
from bot.cli._output import correction_json, emit
from bot.cli._report import plural
from bot.cli.archive import json_option, open_settings_archive, pass_settings
from bot.config import Settings

#: How the fields of a change are named in a line of text.
_KINDS = {"changed": "changed", "added": "added", "removed": "removed"}


@cli.group()
def corrections() -> None:
    """Corrections: posts for days that had already gone out."""


@corrections.command("list")
@click.option("--date", "day", help="Only this day's corrections (YYYY-MM-DD or 'today').")
@json_option
@pass_settings
def list_corrections(settings: Settings, day: str | None, as_json: bool) -> None:
    """Each correction, newest first: what it changed, and its edits done, pending and failed."""
    from bot.archive.published import corrections_of
    from scheduler.edits import EditLedger

    with open_settings_archive(settings) as archive:
        found = corrections_of(archive, parse_day(day, settings) if day else None)
        tally = EditLedger(archive, "inspector").tally()
    empty = {"done": 0, "pending": 0, "sending": 0, "failed": 0, "superseded": 0, "messages": 0}
    if as_json:
        emit(
            {
                "corrections": [
                    {**correction_json(correction, created), "edits": tally.get(correction.id, empty)}
                    for correction, created in found
                ]
            }
        )
        return
    if not found:
        click.echo("No corrections" + (f" of {day}" if day else "") + ".")
    for correction, created in found:
        counts = tally.get(correction.id, empty)
        when = created.astimezone(settings.timezone).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"#{correction.id}  {correction.day}  from {correction.source} at {when}: {correction.summary()};"
            f" {plural(counts['done'], 'delivery', 'deliveries')} corrected"
            f" ({plural(counts['messages'], 'message')}),"
            f" {counts['pending'] + counts['sending']} pending, {counts['failed']} failed"
        )
        for change in correction.changes:
            fields = ", ".join(field.field for field in change.fields)
            click.echo(f"  {_KINDS[change.kind]:<8} {change.title}" + (f" ({fields})" if fields else ""))
