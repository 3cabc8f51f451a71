"""``paperboy export-site DIR``: the whole archive as static HTML, plus its feeds.

The site is written into a fresh folder beside DIR and swapped in at the end, so a web server
never serves half an export and papers that left the archive leave the site. The search index
for static hosts (static_search.py) is built in that folder too, before the swap. DIR is
replaced only if it is empty or holds an earlier export (marked by MARKER, the record of what
the site was built from that later updates start from: state.py, update.py).

Pages are independent, so a large archive is rendered by a few worker processes (rendering is
pure Python, one core each), each reading the archive through its own connection; files are
written by threads, since creating a file costs the interpreter nothing while the OS works.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.archive import changes, queries, upvotes
from bot.archive.discovery import discovery
from bot.archive.store import Archive, open_archive
from bot.channels.feeds import ITEMS, Entries, feed_path
from bot.channels.web.discovered import (
    RELATED,
    lines_of,
    related_for,
    related_lists,
    shown_files,
    shown_now,
    suggested_lines,
)
from bot.channels.web.files import Writer, locked, swap
from bot.channels.web.site import (
    Listed,
    day_page,
    index_page,
    listing_sorted,
    paper_page,
    search_page,
    tag_pages,
    tags_page,
)
from bot.channels.web.state import (
    MARKER,
    SITE,
    SiteState,
    fingerprint,
    site_json,
    source_file,
    source_json,
    tag_file,
    tag_json,
)
from bot.channels.web.static_search import INDEX_FOLDER, build_index, check_pagefind
from bot.errors import InputError
from bot.models import TagCount
from bot.render.context import digest_view
from bot.render.environment import Templates
from bot.suggest.related import Related, Table

__all__ = ["MARKER", "ExportReport", "export_site", "export_unlocked", "static_files"]
TOP_TAGS = 30
#: Below this many days one process is faster than starting workers.
PARALLEL_FROM = 60
DAYS_PER_JOB = 20
TAGS_PER_JOB = 16


@dataclass(frozen=True)
class ExportReport:
    days: int
    papers: int
    tags: int
    files: int


@dataclass(frozen=True)
class _Setup:
    """What a worker process needs to open what the exporting process has open."""

    database_url: str
    shipped: Path
    override: Path | None
    base_url: str | None
    site_url: str
    out: Path
    #: The features folder (``bot/suggest/store.py``), each paper's suggested tags to show, the
    #: papers with a page (what a related list may name).
    features: Path | None = None
    suggested: dict[str, list[str]] | None = None
    published: frozenset[str] = frozenset()
    #: Feeds carry the suggested tags (PAPERBOY_FEED_SUGGESTED_TAGS).
    feed_suggested: bool = False

    def feed_tags(self) -> dict[str, list[str]] | None:
        return self.suggested if self.feed_suggested else None


# A day to render, with its neighbours for the page's newer/older links.
_DayJob = list[tuple[queries.Day, Any, Any]]
# Per tag: its listed papers, newest first.
_TagJob = list[tuple[str, list[Listed], list[Listed]]]
#: What the record's folder says of itself.
README = b"""Written by Paperboy: what this site was built from, so that publishing or correcting a day
rewrites only the pages it touches. Delete this folder and the next publish exports the site
whole. It need not be uploaded to a static host.
"""


def export_site(
    archive: Archive,
    templates: Templates,
    target: Path,
    *,
    base_url: str | None,
    site_url: str,
    search_index: bool = True,
    features: Path | None = None,
    feed_suggested: bool = False,
) -> ExportReport:
    """Export the archive to ``target``; with ``search_index``, the paper pages are indexed for
    the site's own search (static_search.py) inside the work folder, before it is swapped in.
    ``features``: the tag model's folder, for the related papers on paper pages."""
    with locked(target):
        return export_unlocked(
            archive,
            templates,
            target,
            base_url=base_url,
            site_url=site_url,
            search_index=search_index,
            features=features,
            feed_suggested=feed_suggested,
        )


def export_unlocked(
    archive: Archive,
    templates: Templates,
    target: Path,
    *,
    base_url: str | None,
    site_url: str,
    search_index: bool,
    keep_index: bool = False,
    features: Path | None = None,
    feed_suggested: bool = False,
) -> ExportReport:
    """``export_site`` for a caller holding the folder's lock; ``keep_index``: without an index
    of its own, the export keeps the one the folder had (an update's export)."""
    _check_target(target)
    if search_index:
        check_pagefind()  # before any work: a broken install costs no export
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        setup = _Setup(
            archive.engine.url.render_as_string(hide_password=False),
            templates.folders[-1],
            templates.folders[0] if len(templates.folders) > 1 else None,
            base_url,
            site_url,
            work,
            features,
            feed_suggested=feed_suggested,
        )
        printed = fingerprint(templates, base_url, site_url, feed_suggested=feed_suggested)
        report = _export(archive, templates, setup, printed)
        if search_index and report.papers:  # Pagefind refuses to index nothing
            report = replace(report, files=report.files + build_index(work))
        elif keep_index and (target / INDEX_FOLDER).is_dir():
            (target / INDEX_FOLDER).rename(work / INDEX_FOLDER)
        swap(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def static_files(templates: Templates, base_url: str | None) -> dict[str, str]:
    """The pages and files that depend on no paper: the look and the in-browser search."""
    return {
        "style.css": templates.render("web/style.css", {}),
        "search.html": search_page(templates, base_url),
        "search.js": templates.render("web/search.js", {}),
    }


def _export(archive: Archive, templates: Templates, setup: _Setup, printed: str) -> ExportReport:
    for folder in ("days", "papers", "tags", f"{MARKER}/sources", f"{MARKER}/tags"):
        (setup.out / folder).mkdir(parents=True)
    # What the archive holds, read first: a change made while the pages render shows next time.
    marks, released = changes.source_marks(archive), changes.release_marks(archive)
    refreshed = upvotes.marks(archive)
    entries = changes.entry_marks(archive)
    model = discovery(archive)
    related = related_for(setup.features)  # the features as of now, before any page
    setup = replace(setup, suggested=model.by_paper, published=frozenset(model.published))
    days = queries.days(archive)
    day_jobs = [
        [
            (day, days[n - 1].date if n > 0 else None, days[n + 1].date if n + 1 < len(days) else None)
            for n, day in enumerate(days)
        ][start : start + DAYS_PER_JOB]
        for start in range(0, len(days), DAYS_PER_JOB)
    ]
    writer = Writer(setup.out)
    try:
        with _Runner(setup, archive, templates, parallel=len(days) >= PARALLEL_FROM) as runner:
            listed: dict[str, list[Listed]] = defaultdict(list)
            lines: dict[str, Listed] = {}
            shown_related: dict[str, list[str]] = {}
            papers = files = 0
            for day_papers, day_files, rows, done in runner.map(_run_days, day_jobs):
                papers += day_papers
                files += day_files
                for tag, item in rows:
                    listed[tag].append(item)
                for line, near in done:
                    lines[line.id] = line
                    if near:
                        shown_related[line.id] = near
            by_tag = {tag: listing_sorted(items) for tag, items in listed.items()}
            shown = shown_now(model)
            shown.related = Table.of(shown_related, RELATED)
            shown.features = related.mark if related is not None else None
            tags = sorted(by_tag)
            tag_jobs = [
                [(tag, by_tag[tag], suggested_lines(shown.tags.get(tag, ()), lines)) for tag in chunk]
                for chunk in (
                    tags[start : start + TAGS_PER_JOB] for start in range(0, len(tags), TAGS_PER_JOB)
                )
            ]
            files += sum(runner.map(_run_tags, tag_jobs))

        counts = sorted(
            (TagCount(t, len(items)) for t, items in by_tag.items()), key=lambda tc: (-tc.count, tc.tag)
        )
        for name, text in static_files(templates, setup.base_url).items():
            writer(name, text)
        writer("index.html", index_page(templates, days, counts[:TOP_TAGS], setup.base_url))
        writer("tags/index.html", tags_page(templates, counts, setup.base_url))
        main = Entries(templates, setup.site_url, suggested=setup.feed_tags())
        newest = queries.latest_papers(archive, ITEMS)
        main.render(newest)
        for kind in main.blocks:
            writer(feed_path(kind), main.feed(kind, [(p.id, p.date) for p in newest], None))
        # The record of what the site was built from (state.py).
        day_counts = {day.date: day.entries for day in days}
        tag_counts = {tag: len(items) for tag, items in by_tag.items()}
        writer(SITE, site_json(SiteState(printed, marks, released, day_counts, tag_counts, refreshed)))
        for name, data in shown_files(shown).items():
            writer(name, data)
        writer(f"{MARKER}/README", README)
        for name, found in entries.items():
            writer(source_file(name), source_json(name, found))
        for tag, items in by_tag.items():
            writer(tag_file(tag), tag_json(items))
        files += writer.close()
    finally:
        writer.close()
    return ExportReport(len(days), papers, len(by_tag), files)


@dataclass
class _Worker:
    archive: Archive
    templates: Templates
    setup: _Setup
    write: Writer
    _related: Any = None

    def related(self) -> Related | None:
        """The features, opened once per worker (a refresh meanwhile shows at the next export)."""
        if self._related is None:
            self._related = (related_for(self.setup.features),)
        found: Related | None = self._related[0]
        return found

    def titles(self, ids: set[str]) -> dict[str, str]:
        return {paper: line.title for paper, line in lines_of(self.archive, ids).items()}


_worker: _Worker | None = None


def _start_worker(setup: _Setup) -> None:
    global _worker
    archive = open_archive(setup.database_url, migrate=False)
    _worker = _Worker(archive, Templates(setup.shipped, setup.override), setup, Writer(setup.out))


def _run_days(
    job: _DayJob,
) -> tuple[int, int, list[tuple[str, Listed]], list[tuple[Listed, list[str]]]]:
    """Each day's page and the pages of the papers it featured first (with their suggested tags
    and related papers); their tag listings; each such paper's line and related list."""
    assert _worker is not None
    worker, setup, papers, rows, done = _worker, _worker.setup, 0, [], []
    digests = [
        (
            day,
            newer,
            older,
            digest_view(day.date, queries.day_papers(worker.archive, day.date), setup.base_url),
        )
        for day, newer, older in job
    ]
    firsts = [view.id for day, _, _, digest in digests for view in digest.papers if view.date == day.date]
    near = related_lists(worker.related(), firsts, setup.published)
    titles = worker.titles({other for paper in firsts for other in near.get(paper, ())})
    for day, newer, older, digest in digests:
        worker.write(
            f"days/{day.date.isoformat()}.html", day_page(worker.templates, digest, newer=newer, older=older)
        )
        for order, view in enumerate(digest.papers):
            if view.date != day.date:
                continue  # featured again later: its page and listings belong to its first day
            mine = near.get(view.id, [])
            page = paper_page(
                worker.templates,
                view,
                setup.base_url,
                suggested=(setup.suggested or {}).get(view.id, ()),
                related=[(other, titles[other]) for other in mine],
            )
            worker.write(f"papers/{view.id}.html", page)
            papers += 1
            line = Listed(day.date.isoformat(), order, view.id, view.title)
            rows += [(tag, line) for tag in view.tags]
            done.append((line, mine))
    return papers, worker.write.flush(), rows, done


def _run_tags(job: _TagJob) -> int:
    """Each tag's listing pages and its two feeds (a paper's entry rendered once for all its tags)."""
    assert _worker is not None
    worker = _worker
    entries = Entries(worker.templates, worker.setup.site_url, suggested=worker.setup.feed_tags())
    for tag, items, suggested in job:
        for name, html in tag_pages(worker.templates, tag, items, worker.setup.base_url, suggested):
            worker.write(f"tags/{name}", html)
        newest = queries.latest_papers(worker.archive, ITEMS, tag=tag)
        entries.render(p for p in newest if p.id in entries.missing([p.id]))
        for kind in entries.blocks:
            worker.write(feed_path(kind, tag), entries.feed(kind, [(p.id, p.date) for p in newest], tag))
    return worker.write.flush()


class _Runner:
    """Runs jobs in worker processes, or here when the archive is too small to be worth it."""

    def __init__(self, setup: _Setup, archive: Archive, templates: Templates, *, parallel: bool) -> None:
        self.pool: ProcessPoolExecutor | None = None
        workers = min(4, os.cpu_count() or 1)
        if parallel and workers > 1:
            # forkserver: workers start clean, never sharing this process's database connections.
            context = multiprocessing.get_context("forkserver")
            self.pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_start_worker, initargs=(setup,)
            )
        else:
            global _worker
            _worker = _Worker(archive, templates, setup, Writer(setup.out))

    def map(self, function: Any, jobs: Sequence[Any]) -> Iterator[Any]:
        if self.pool is None:
            return (function(job) for job in jobs)
        return self.pool.map(function, jobs)

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        global _worker
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        elif _worker is not None:
            _worker.write.close()
        _worker = None


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise InputError(
            f"{target}: the folder is not empty and holds no earlier export; export-site replaces its"
            " folder entirely, so give it an empty or new one"
        )
