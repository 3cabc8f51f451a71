"""``paperboy pull hf|arxiv`` and ``paperboy candidates``: today's candidates, and a post from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bot.archive.candidates import Candidate, PullReport
from bot.cli import cli
from bot.cli._dates import parse_day
from bot.cli._output import emit, iso
from bot.cli._report import plural
from bot.cli.archive import json_option, open_settings_archive, pass_settings
from bot.config import Settings
from bot.errors import InputError


def candidate_json(c: Candidate, tags: tuple[str, ...] = ()) -> dict[str, Any]:
    """A candidate in the CLI's JSON (``paperboy candidates``, ``pull``, ``candidates draft``)."""
    return {
        "id": c.id,
        "source": c.source,
        "arxiv_id": c.arxiv_id,
        "title": c.title,
        "summary": c.summary,
        "authors": list(c.authors),
        "upvotes": c.upvotes,
        "published": iso(c.published),
        "day": iso(c.day),
        "links": list(c.links),
        "status": c.status,
        "pulled": c.pulled.isoformat() if c.pulled else None,
        "in_archive": c.in_archive,
        "suggested_tags": list(tags),
    }


@cli.group()
def pull() -> None:
    """Pull candidates for tomorrow's post from Hugging Face's Daily Papers or from arXiv."""


@pull.command("hf")
@click.argument("day", metavar="[DATE]", default="today")
@json_option
@pass_settings
def pull_hf_command(settings: Settings, day: str, as_json: bool) -> None:
    """The papers of a day's Daily Papers listing on Hugging Face (DATE: YYYY-MM-DD or 'today')."""
    from bot.pull import pull_hf

    date = parse_day(day, settings)
    with open_settings_archive(settings) as archive, _nothing_stored():
        report = pull_hf(archive, settings, date, _say)
        _after(settings, archive, report, as_json)
    _report(report, "hf", date, as_json)


@pull.command("arxiv")
@click.argument("ids", metavar="ID...", nargs=-1, required=True)
@json_option
@pass_settings
def pull_arxiv_command(settings: Settings, ids: tuple[str, ...], as_json: bool) -> None:
    """Papers named by their arXiv ids (2406.11837, 2406.11837v2, hep-th/9901001, arXiv:…, or
    their arxiv.org address). Requests keep arXiv's pace: one every three seconds."""
    from bot.archive.arxiv_ids import parse_arxiv_id
    from bot.pull import pull_arxiv

    try:
        refs = [parse_arxiv_id(raw) for raw in ids]
    except ValueError as exc:
        raise InputError(str(exc)) from None
    with open_settings_archive(settings) as archive, _nothing_stored():
        report = pull_arxiv(archive, settings, refs, _say)
        _after(settings, archive, report, as_json)
    _report(report, "arxiv", None, as_json)


def _say(line: str) -> None:
    """A retry, on stderr (JSON or not, stdout stays the answer's)."""
    click.echo(f"paperboy: {line}", err=True)


@contextmanager
def _nothing_stored() -> Iterator[None]:
    """A source's failure, said with what it means for the archive."""
    from bot.pull import SourceError

    try:
        yield
    except SourceError as exc:
        raise SourceError(f"{exc} (nothing was stored)") from None


def _after(settings: Settings, archive: Any, report: PullReport, as_json: bool) -> None:
    """Upvotes refreshed: an exported site shows them at once (as the next publish would)."""
    if report.refreshed and settings.site_dir.is_dir():
        from bot.cli._site import update_site_for

        update_site_for(settings, archive, quiet=as_json)


def _report(report: PullReport, source: str, day: dt.date | None, as_json: bool) -> None:
    if as_json:
        emit(
            {
                "source": source,
                "date": iso(day),
                "candidates": [candidate_json(c) for c in report.stored],
                "in_archive": [
                    {
                        "id": k.candidate.id,
                        "paper": k.paper_id,
                        "title": k.candidate.title,
                        "upvotes": k.candidate.upvotes,
                    }
                    for k in report.known
                ],
                "upvotes_changed": report.refreshed,
            }
        )
        return
    where = f"Hugging Face's Daily Papers of {day}" if day else "arXiv"
    pulled = len(report.stored) + len(report.known)
    line = f"{plural(pulled, 'paper')} from {where}: {plural(len(report.stored), 'candidate')}"
    if report.known:
        line += f", {len(report.known)} already in the archive"
        if source == "hf":
            line += f" (their upvotes refreshed, {report.refreshed} changed)"
    click.echo(line)
    for c in report.stored:
        click.echo(_line(c))


def _line(c: Candidate, tags: tuple[str, ...] = ()) -> str:
    votes = f"▲{c.upvotes:>4}" if c.upvotes is not None else "     "
    marks = [c.status] if c.status != "new" else []
    marks += ["in the archive"] if c.in_archive else []
    suggested = "  suggested: " + " ".join(f"#{t}" for t in tags) if tags else ""
    shown = f" ({', '.join(marks)})" if marks else ""
    return f"{votes}  {c.title}  [{c.id}]{shown}{suggested}"


@cli.group(invoke_without_command=True)
@click.option("--all", "everything", is_flag=True, help="Dismissed candidates too.")
@json_option
@click.pass_context
def candidates(ctx: click.Context, everything: bool, as_json: bool) -> None:
    """The candidates pulled, newest pull first, with their upvotes and suggested tags.

    `candidates draft ID...` starts a post from them; `candidates dismiss ID...` sets them aside."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.cli.discovery import features_folder
    from bot.desk.picks import offered

    settings = ctx.find_object(Settings)
    assert settings is not None
    with open_settings_archive(settings) as archive:
        found = offered(archive, dismissed=everything, features=features_folder(settings))
    if as_json:
        emit({"candidates": [candidate_json(o.candidate, o.tags) for o in found]})
        return
    if not found:
        click.echo("No candidates: `paperboy pull hf [DATE]` or `paperboy pull arxiv ID...` brings some.")
    for o in found:
        c = o.candidate
        click.echo(f"{c.source:<5} {iso(c.day) or '':<10}  {_line(c, o.tags)}")


@candidates.command("dismiss")
@click.argument("ids", metavar="ID...", nargs=-1, required=True)
@json_option
@pass_settings
def dismiss_command(settings: Settings, ids: tuple[str, ...], as_json: bool) -> None:
    """Set candidates aside (arxiv-2406.11837 or 2406.11837): listed again only with --all."""
    from bot.archive.candidates import dismiss

    keys = _keys(ids)
    with open_settings_archive(settings) as archive:
        done = dismiss(archive, keys)
    if as_json:
        emit({"dismissed": [c.id for c in done]})
    else:
        click.echo(f"dismissed {plural(len(done), 'candidate')}: {', '.join(c.id for c in done)}")


@candidates.command("draft")
@click.argument("ids", metavar="ID...", nargs=-1, required=True)
@click.option(
    "--date", "day", default="today", show_default=True, help="The post's day (YYYY-MM-DD, 'today')."
)
@click.option(
    "--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="Write it to this new file."
)
@json_option
@pass_settings
def draft_command(
    settings: Settings, ids: tuple[str, ...], day: str, output: Path | None, as_json: bool
) -> None:
    """Start a daily post from candidates: everything but the commentary, which is yours.

    The draft has a placeholder line where each commentary goes (and where tags go when none is
    suggested); write in its place (or delete a commentary placeholder), then `paperboy ingest`
    the file. A post that still holds a placeholder is refused at its line."""
    from bot.cli.discovery import features_folder
    from bot.desk.picks import start_draft

    date, keys = parse_day(day, settings), _keys(ids)
    if output is not None and output.exists():
        raise InputError(f"{output} exists: give --output a new file's name (a draft never overwrites one)")
    with open_settings_archive(settings) as archive:
        pick = start_draft(archive, keys, date, features=features_folder(settings))
    if output is not None:
        try:
            with output.open("x", encoding="utf-8") as file:
                file.write(pick.text)
        except OSError as exc:
            raise InputError(f"{output} cannot be written: {exc.strerror or exc}") from None
    if as_json:
        emit(
            {
                "date": iso(pick.day),
                "candidates": [c.id for c in pick.chosen],
                "path": str(output) if output is not None else None,
                "text": pick.text,
            }
        )
    elif output is None:
        click.echo(pick.text, nl=False)
    else:
        click.echo(
            f"{output}: a post of {pick.day} with {plural(len(pick.chosen), 'paper')}; write the"
            f" commentary in place of each [[commentary: …]] line, then `paperboy ingest {output}`"
        )


def _keys(ids: tuple[str, ...]) -> list[str]:
    from bot.archive.arxiv_ids import candidate_key

    try:
        return [candidate_key(raw) for raw in ids]
    except ValueError as exc:
        raise InputError(f"{exc}, or a candidate's id such as arxiv-2406.11837") from None
