"""Archive commands: ingest, tags, tag, search, show, days, stats, db upgrade."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from bot.archive import queries
from bot.archive.search import DEFAULT_LIMIT, search
from bot.archive.store import Archive, ensure_schema, make_engine, open_archive
from bot.cli import cli
from bot.cli._output import correction_json, digest_json, emit, iso, paper_full, paper_summary, tag_count
from bot.config import Settings
from bot.errors import ParseError
from bot.models import Digest, Paper

pass_settings = click.make_pass_decorator(Settings)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def open_settings_archive(settings: Settings) -> Archive:
    return open_archive(settings.database_url)


def _expand(paths: tuple[Path, ...]) -> tuple[list[Path], list[ParseError]]:
    """The files to read: each file given, and the (non-hidden) files directly in each folder."""
    files: list[Path] = []
    problems: list[ParseError] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not inside:
                problems.append(ParseError(str(path), 1, "the folder has no files to ingest"))
            files.extend(inside)
        elif path.exists():
            files.append(path)
        else:
            problems.append(ParseError(str(path), 1, "no such file or folder"))
    seen: dict[str, Path] = {}
    for path in files:
        if path.name in seen and seen[path.name] != path:
            problems.append(
                ParseError(
                    str(path),
                    1,
                    f"has the same file name as {seen[path.name]}; the archive"
                    " keeps one document per file name, so rename one of them",
                )
            )
        seen.setdefault(path.name, path)
    return [p for p in files if seen[p.name] == p], problems


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Parse and report, store nothing.")
@click.option("--year", type=click.IntRange(1900, 2999), help="Year for dates written without one.")
@json_option
@pass_settings
def ingest(
    settings: Settings, paths: tuple[Path, ...], dry_run: bool, year: int | None, as_json: bool
) -> int:
    """Read daily posts, Hugging Face listings and bare abstracts into the archive.

    A folder means the files in it. Each file is stored whole or not at all; a file with a
    problem is reported as FILE:LINE: what is wrong, and the other files still go in.
    """
    from bot.archive.parsers import ParseOptions
    from bot.archive.parsers.bulk import parse_many
    from bot.cli._progress import progress, say

    files, problems = _expand(paths)
    for problem in problems:
        click.echo(str(problem), err=True)
    options = ParseOptions(year=year)
    archive = None if dry_run else open_settings_archive(settings)
    # Only --json needs the digests afterwards; otherwise memory stays flat however many files.
    kept: list[dict[str, Any]] = []
    read = papers = 0
    corrected = False
    try:
        with progress(len(files), "ingesting", "file") as advance:
            for path, digest in parse_many(files, options):
                advance(1)
                if isinstance(digest, ParseError):
                    problems.append(digest)
                    click.echo(str(digest), err=True)
                    continue
                read, papers = read + 1, papers + len(digest.entries)
                if as_json:
                    kept.append({**digest_json(digest, str(path)), "correction": None})
                if archive is None:
                    if not as_json:
                        say(f"{path}: {_describe(digest)} (dry run: not stored)")
                    continue
                report = archive.ingest(digest, index=False)
                if not as_json and report.unchanged:
                    say(f"{path}: {_describe(digest)}, unchanged")
                elif not as_json:
                    say(
                        f"{path}: {_describe(digest)}, {report.new} new"
                        + (f", {report.removed} dropped" if report.removed else "")
                    )
                if report.correction is not None:
                    corrected = True
                    if as_json:
                        kept[-1]["correction"] = correction_json(report.correction)
                    else:
                        day = report.correction.day
                        say(
                            f"{path}: corrects {day}, which has gone out ({report.correction.summary()}):"
                            f" `paperboy publish {day}` (or the running service) edits the chat messages"
                            f" sent; `--email-correction` also tells email subscribers what changed"
                        )
        if archive is not None:
            if len(files) >= 20 and sys.stderr.isatty():
                click.echo("indexing for search...", err=True)
            archive.index_pending()  # once for the whole call: see bot.archive.ingest.index_pending
            if corrected:  # a day that had gone out changed: its pages and feeds follow at once
                from bot.cli._site import update_site_for

                update_site_for(settings, archive, quiet=as_json)
            if read:  # once for the whole call, like the search index (bot/suggest/refresh.py)
                from bot.cli.discovery import refresh_after_ingest

                refresh_after_ingest(settings, archive, quiet=as_json)
    finally:
        if archive is not None:
            archive.close()
    if as_json:
        emit(
            {
                "digests": kept,
                "errors": [{"source": p.source, "line": p.line, "message": p.message} for p in problems],
            }
        )
    elif len(files) > 1 or problems:
        click.echo(
            f"{read} of {len(files)} file(s) read, {papers} papers"
            + (f"; {len(problems)} problem(s) above" if problems else ""),
            err=bool(problems),
        )
    return 2 if problems else 0


def _describe(digest: Digest) -> str:
    what = {"daily-post": "daily post", "hf-daily": "Hugging Face listing", "abstracts": "bare abstracts"}
    day = f" of {digest.date.isoformat()}" if digest.date else " (undated: queued)"
    return f"{what.get(digest.format, digest.format)}{day}, {len(digest.entries)} papers"


@cli.command()
@json_option
@pass_settings
def tags(settings: Settings, as_json: bool) -> None:
    """Every tag with its number of papers, most used first."""
    with open_settings_archive(settings) as archive:
        counts = queries.tag_counts(archive)
    if as_json:
        emit({"tags": [tag_count(tc) for tc in counts]})
        return
    width = max((len(tc.tag) for tc in counts), default=0) + 1
    for tc in counts:
        click.echo(f"#{tc.tag:<{width}} {tc.count}")


@cli.command()
@click.argument("tag_name", metavar="TAG")
@click.option("--page", type=int, default=1, show_default=True, help="Page of results, newest first.")
@json_option
@pass_settings
def tag(settings: Settings, tag_name: str, page: int, as_json: bool) -> int:
    """The papers with a tag (vq, #VQ): the curator's, newest first, then those the model
    suggests it for, best first, marked as suggested. An unknown tag lists the closest ones."""
    with open_settings_archive(settings) as archive:
        result = queries.papers_by_tag(archive, tag_name, page, with_suggested=True)
    if as_json:
        emit(
            {
                "tag": result.tag,
                "page": result.page,
                "pages": result.pages,
                "total": result.total,
                "curated_total": result.curated,
                "suggested_total": result.suggested_total,
                "papers": [
                    {
                        **paper_summary(p),
                        "suggested": p.id in result.suggested,
                        "score": result.suggested.get(p.id),
                    }
                    for p in result.papers
                ],
                "suggestions": [tag_count(tc) for tc in result.suggestions],
            }
        )
    elif result.total == 0:
        closest = ", ".join(f"#{tc.tag} ({tc.count})" for tc in result.suggestions)
        click.echo(f"No papers are tagged #{result.tag}." + (f" Closest tags: {closest}" if closest else ""))
    else:
        extra = f", and {result.suggested_total} suggested" if result.suggested_total else ""
        click.echo(f"#{result.tag}: {result.curated} paper(s){extra}, page {result.page} of {result.pages}")
        curated = tuple(p for p in result.papers if p.id not in result.suggested)
        _lines(curated)
        if len(curated) < len(result.papers):
            click.echo(f"suggested #{result.tag} (by the model, not the curator's tag):")
            _lines(tuple(p for p in result.papers if p.id in result.suggested), mark=" (suggested)")
    return 0 if result.total else 1


@cli.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--limit", type=click.IntRange(1, 100), default=DEFAULT_LIMIT, show_default=True)
@json_option
@pass_settings
def search_command(settings: Settings, words: tuple[str, ...], limit: int, as_json: bool) -> int:
    """Full-text search over titles, authors, abstracts and commentary (Korean too), best first."""
    with open_settings_archive(settings) as archive:
        result = search(archive, " ".join(words), limit)
    if as_json:
        emit({"query": result.query, "papers": [paper_summary(p) for p in result.papers]})
    elif result.papers:
        _lines(result.papers)
    else:
        click.echo(f"Nothing matches {result.query!r}.")
    return 0 if result.papers else 1


@cli.command()
@click.argument("paper_id", metavar="ID")
@json_option
@pass_settings
def show(settings: Settings, paper_id: str, as_json: bool) -> None:
    """One paper in full (an id, or a prefix of one that names a single paper)."""
    with open_settings_archive(settings) as archive:
        paper = queries.find_paper(archive, paper_id)
        seen = queries.appearances(archive, paper.id)
        suggested = queries.suggested_tags(archive, [paper.id]).get(paper.id, [])
    if as_json:
        emit(
            {
                **paper_full(paper),
                "suggested_tags": [{"tag": s.tag, "score": s.score} for s in suggested],
                "appearances": [
                    {"source": a.source, "format": a.format, "date": iso(a.date), "line": a.line}
                    for a in seen
                ],
            }
        )
        return
    click.echo(paper.title)
    if paper.authors:
        click.echo(", ".join(paper.authors))
    elif paper.author_count:
        click.echo(f"{paper.author_count} authors")
    featured = ", ".join(day.isoformat() for day in paper.days) or "not yet (queued)"
    facts = [f"id {paper.id}", f"featured {featured}"]
    facts += [f"published {iso(paper.published)}"] if paper.published else []
    facts += [f"{paper.upvotes} upvotes"] if paper.upvotes is not None else []
    click.echo(" · ".join(facts))
    if paper.tags:
        click.echo(" ".join(f"#{t}" for t in paper.tags))
    if suggested:
        click.echo("suggested (by the model): " + " ".join(f"#{s.tag}" for s in suggested))
    click.echo(f"\n{paper.abstract}")
    for link in paper.links:
        click.echo(link)
    if paper.commentary:
        click.echo(f"\n{paper.commentary}")
    click.echo("\n" + "\n".join(f"from {a.source}:{a.line}" for a in seen))


@cli.command()
@json_option
@pass_settings
def days(settings: Settings, as_json: bool) -> None:
    """Each digest day with its number of papers, and the queue of undated papers."""
    with open_settings_archive(settings) as archive:
        found = queries.days(archive)
        waiting = queries.queue(archive)
    if as_json:
        emit(
            {
                "days": [{"date": iso(d.date), "entries": d.entries} for d in found],
                "queue": [paper_summary(p) for p in waiting],
            }
        )
        return
    for day in found:
        click.echo(f"{day.date.isoformat()}  {day.entries} papers")
    click.echo(f"queue: {len(waiting)} undated paper(s) waiting")
    for paper in waiting:
        click.echo(f"  {paper.title}  [{paper.id}]")


@cli.command()
@json_option
@pass_settings
def stats(settings: Settings, as_json: bool) -> None:
    """How many papers, digest days and tags the archive holds."""
    with open_settings_archive(settings) as archive:
        totals = queries.stats(archive)
    if as_json:
        emit(
            {"papers": totals.papers, "digests": totals.digests, "tags": totals.tags, "queued": totals.queued}
        )
    else:
        click.echo(
            f"{totals.papers} papers, {totals.digests} digest days, {totals.tags} tags,"
            f" {totals.queued} queued"
        )


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@pass_settings
def upgrade(settings: Settings) -> None:
    """Create or migrate the schema (every command also does this when needed)."""
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    click.echo("the database schema is up to date")


def _lines(papers: tuple[Paper, ...], mark: str = "") -> None:
    for paper in papers:
        tags = " ".join(f"#{t}" for t in paper.tags)
        parts = (f"{iso(paper.date) or 'queued':<10}", paper.title, tags, f"[{paper.id}]{mark}")
        click.echo("  ".join(part for part in parts if part))
