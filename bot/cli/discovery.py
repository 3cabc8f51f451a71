"""Discovery commands: related papers, and the curator's decisions on suggested tags.

``similar`` reads the features on disk (numpy only); ``tag-suggestions refresh`` and the refresh
at the end of ``ingest`` load scikit-learn when they have papers to analyse or tags to train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.archive.store import Archive
from bot.cli import cli
from bot.cli._output import emit
from bot.config import Settings

pass_settings = click.make_pass_decorator(Settings)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
#: A refresh at the end of ``paperboy ingest`` analyses at most this many papers; a larger one
#: (a first build of a big archive: about 40 s at 100,000 papers, then 100 s for the related lists) is left to
#: ``paperboy tag-suggestions refresh`` or the running service, so a bulk ingest stays as fast.
INLINE_MOST = 20_000


def features_folder(settings: Settings) -> Path:
    from bot.suggest.store import folder_for

    return folder_for(settings.database_url, settings.data_dir)


def refresh_after_ingest(settings: Settings, archive: Archive, *, quiet: bool) -> None:
    """Bring the suggestions up to date after an ingest; say so on stderr (unless ``quiet``)."""
    from bot.cli._progress import say
    from bot.suggest.refresh import refresh

    report = refresh(archive, features_folder(settings), most=INLINE_MOST)
    if report.deferred:
        click.echo(
            f"paperboy: tag suggestions and related papers are not updated ({report.reason}):"
            " `paperboy tag-suggestions refresh` does it (about 2-3 minutes for 100,000 papers),"
            " or the running service in the background",
            err=True,
        )
    elif not quiet and not report.unchanged:
        say(_describe(report))


def _describe(report: Any) -> str:
    built = "built anew" if report.rebuilt else "updated"
    return (
        f"tag suggestions {built}: {report.analysed} papers analysed, {len(report.retrained)} tags trained,"
        f" {len(report.suggesting)} suggesting, {report.written} suggestions;"
        f" {report.relisted} related lists changed ({report.seconds:.1f} s,"
        f" of which related lists {report.related_seconds:.1f} s)"
    )


@cli.command()
@click.argument("paper_id", metavar="ID")
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_settings
def similar(settings: Settings, paper_id: str, limit: int, as_json: bool) -> int:
    """The papers nearest a paper (an id, or a prefix naming one) by their text, best first."""
    from bot.archive.store import open_archive
    from bot.suggest.similar import similar as nearest

    with open_archive(settings.database_url) as archive:
        found = nearest(archive, features_folder(settings), paper_id, limit, refresh_missing=True)
    if as_json:
        emit(
            {
                "paper": found.paper.id,
                "similar": [{"id": r.id, "title": r.title, "score": r.score} for r in found.similar],
            }
        )
    elif found.similar:
        click.echo(f"Papers like {found.paper.title} [{found.paper.id}]:")
        for related in found.similar:
            click.echo(f"{related.score:.2f}  {related.title}  [{related.id}]")
    else:
        click.echo(f"No paper in the archive is close to {found.paper.title} [{found.paper.id}].")
    return 0 if found.similar else 1


@cli.group("tag-suggestions")
def tag_suggestions() -> None:
    """The tags the model suggests: accept or reject them, or refresh them now."""


def _decide(settings: Settings, paper_id: str, tag: str, *, accept: bool, as_json: bool) -> None:
    from bot.archive import decisions
    from bot.archive.store import open_archive

    with open_archive(settings.database_url) as archive:
        decide = decisions.accept if accept else decisions.reject
        decision = decide(archive, paper_id, tag)
    if as_json:
        emit(
            {
                "paper": decision.paper_id,
                "tag": decision.tag,
                "status": decision.status,
                "changed": decision.changed,
            }
        )
        return
    done = {"accepted": "is now the curator's tag of", "rejected": "will not be suggested again for"}
    already = "" if decision.changed else " (it already was)"
    click.echo(f"#{decision.tag} {done[decision.status]} {decision.title} [{decision.paper_id}]{already}")


@tag_suggestions.command("accept")
@click.argument("paper_id", metavar="ID")
@click.argument("tag", metavar="TAG")
@json_option
@pass_settings
def accept(settings: Settings, paper_id: str, tag: str, as_json: bool) -> None:
    """Make a suggested tag the curator's own: it shows and counts as if a post had given it."""
    _decide(settings, paper_id, tag, accept=True, as_json=as_json)


@tag_suggestions.command("reject")
@click.argument("paper_id", metavar="ID")
@click.argument("tag", metavar="TAG")
@json_option
@pass_settings
def reject(settings: Settings, paper_id: str, tag: str, as_json: bool) -> None:
    """Refuse a suggested tag: it is never suggested for that paper again."""
    _decide(settings, paper_id, tag, accept=False, as_json=as_json)


@tag_suggestions.command("refresh")
@click.option("--rebuild", is_flag=True, help="Build the features and train every tag anew.")
@json_option
@pass_settings
def refresh_command(settings: Settings, rebuild: bool, as_json: bool) -> None:
    """Bring the features, the classifiers and the suggestions up to date now."""
    from bot.archive.store import open_archive
    from bot.suggest.refresh import refresh

    with open_archive(settings.database_url) as archive:
        report = refresh(archive, features_folder(settings), rebuild=rebuild)
    if as_json:
        emit(
            {
                "unchanged": report.unchanged,
                "rebuilt": report.rebuilt,
                "reason": report.reason,
                "analysed": report.analysed,
                "papers": report.papers,
                "suggesting": list(report.suggesting),
                "written": report.written,
                "relisted": report.relisted,
                "seconds": round(report.seconds, 3),
                "related_seconds": round(report.related_seconds, 3),
                "tags": {tag: record.json() for tag, record in sorted(report.retrained.items())},
            }
        )
        return
    if report.unchanged:
        click.echo(f"tag suggestions are up to date ({report.papers} papers)")
        return
    click.echo(_describe(report) + (f"; rebuilt: {report.reason}" if report.rebuilt else ""))
    for tag, record in sorted(report.retrained.items()):
        if record.reason:
            click.echo(f"  #{tag}: suggests nothing, {record.reason}")
        else:
            click.echo(f"  #{tag}: suggests (AUC {record.auc:.2f} over {record.papers} papers)")
