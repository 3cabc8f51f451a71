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
from collections import defaultdict, deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.archive import changes, queries, upvotes
from bot.archive.store import Archive, open_archive
from bot.channels.feeds import ITEMS, Entries, feed_path
from bot.channels.web.files import locked
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

__all__ = ["MARKER", "ExportReport", "export_site", "export_unlocked", "static_files"]
TOP_TAGS = 30
WRITERS = 4
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


# A day to render, with its neighbours for the page's newer/older links.
_DayJob = list[tuple[queries.Day, Any, Any]]
# Per tag: its listed papers, newest first.
_TagJob = list[tuple[str, list[Listed]]]
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
) -> ExportReport:
    """Export the archive to ``target``; with ``search_index``, the paper pages are indexed for
    the site's own search (static_search.py) inside the work folder, before it is swapped in."""
    with locked(target):
        return export_unlocked(
            archive, templates, target, base_url=base_url, site_url=site_url, search_index=search_index
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
        )
        report = _export(archive, templates, setup, fingerprint(templates, base_url, site_url))
        if search_index and report.papers:  # Pagefind refuses to index nothing
            report = replace(report, files=report.files + build_index(work))
        elif keep_index and (target / INDEX_FOLDER).is_dir():
            (target / INDEX_FOLDER).rename(work / INDEX_FOLDER)
        _swap(work, target)
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
    days = queries.days(archive)
    day_jobs = [
        [
            (day, days[n - 1].date if n > 0 else None, days[n + 1].date if n + 1 < len(days) else None)
            for n, day in enumerate(days)
        ][start : start + DAYS_PER_JOB]
        for start in range(0, len(days), DAYS_PER_JOB)
    ]
    writer = _Writer(setup.out)
    try:
        with _Runner(setup, archive, templates, parallel=len(days) >= PARALLEL_FROM) as runner:
            listed: dict[str, list[Listed]] = defaultdict(list)
            papers = files = 0
            for day_papers, day_files, rows in runner.map(_run_days, day_jobs):
                papers += day_papers
                files += day_files
                for tag, item in rows:
                    listed[tag].append(item)
            by_tag = {tag: listing_sorted(items) for tag, items in listed.items()}
            tags = sorted(by_tag)
            tag_jobs = [
                [(tag, by_tag[tag]) for tag in chunk]
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
        main = Entries(templates, setup.site_url)
        newest = queries.latest_papers(archive, ITEMS)
        main.render(newest)
        for kind in main.blocks:
            writer(feed_path(kind), main.feed(kind, [(p.id, p.date) for p in newest], None))
        # The record of what the site was built from (state.py).
        day_counts = {day.date: day.entries for day in days}
        tag_counts = {tag: len(items) for tag, items in by_tag.items()}
        writer(SITE, site_json(SiteState(printed, marks, released, day_counts, tag_counts, refreshed)))
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
    write: _Writer


_worker: _Worker | None = None


def _start_worker(setup: _Setup) -> None:
    global _worker
    archive = open_archive(setup.database_url, migrate=False)
    _worker = _Worker(archive, Templates(setup.shipped, setup.override), setup, _Writer(setup.out))


def _run_days(job: _DayJob) -> tuple[int, int, list[tuple[str, Listed]]]:
    """Each day's page and the pages of the papers it featured first; their tag listings."""
    assert _worker is not None
    worker, papers, rows = _worker, 0, []
    for day, newer, older in job:
        digest = digest_view(day.date, queries.day_papers(worker.archive, day.date), worker.setup.base_url)
        worker.write(
            f"days/{day.date.isoformat()}.html", day_page(worker.templates, digest, newer=newer, older=older)
        )
        for order, view in enumerate(digest.papers):
            if view.date != day.date:
                continue  # featured again later: its page and listings belong to its first day
            worker.write(f"papers/{view.id}.html", paper_page(worker.templates, view, worker.setup.base_url))
            papers += 1
            line = Listed(day.date.isoformat(), order, view.id, view.title)
            rows += [(tag, line) for tag in view.tags]
    return papers, worker.write.flush(), rows


def _run_tags(job: _TagJob) -> int:
    """Each tag's listing pages and its two feeds (a paper's entry rendered once for all its tags)."""
    assert _worker is not None
    worker = _worker
    entries = Entries(worker.templates, worker.setup.site_url)
    for tag, items in job:
        for name, html in tag_pages(worker.templates, tag, items, worker.setup.base_url):
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
            _worker = _Worker(archive, templates, setup, _Writer(setup.out))

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


class _Writer:
    """Writes files from a few threads, a bounded number at a time, and counts them."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.threads = ThreadPoolExecutor(max_workers=WRITERS)
        self.pending: deque[Future[int]] = deque()
        self.count = 0

    def __call__(self, relative: str, content: str | bytes) -> None:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        self.pending.append(self.threads.submit((self.out / relative).write_bytes, data))
        self.count += 1
        while len(self.pending) > 4 * WRITERS:  # memory stays flat however big the archive
            self.pending.popleft().result()

    def flush(self) -> int:
        """Wait for every write (raising the first failure); the files written since last time."""
        while self.pending:
            self.pending.popleft().result()
        count, self.count = self.count, 0
        return count

    def close(self) -> int:
        count = self.flush()
        self.threads.shutdown(wait=True)
        return count


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise InputError(f"{target}: not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise InputError(
            f"{target}: the folder is not empty and holds no earlier export; export-site replaces its"
            " folder entirely, so give it an empty or new one"
        )


def _swap(work: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
