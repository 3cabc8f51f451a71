"""``paperboy export-site DIR``: the whole archive as static HTML, plus its feeds.

The site is written into a fresh folder beside DIR and swapped in at the end, so a web server
never serves half an export and papers that left the archive leave the site. DIR is replaced
only if it is empty or holds an earlier export (marked by MARKER).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.archive import queries
from bot.archive.store import Archive
from bot.channels.feeds import ITEMS, KINDS, build_feed, feed_path
from bot.channels.web.site import Listed, day_page, index_page, paper_page, tag_pages, tags_page
from bot.errors import InputError
from bot.models import TagCount
from bot.render.context import clean, digest_view
from bot.render.environment import Templates

MARKER = ".paperboy-site"
TOP_TAGS = 30


@dataclass(frozen=True)
class ExportReport:
    days: int
    papers: int
    tags: int
    files: int


def export_site(
    archive: Archive, templates: Templates, target: Path, *, base_url: str | None, site_url: str
) -> ExportReport:
    _check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        report = _write(archive, templates, work, base_url=base_url, site_url=site_url)
        (work / MARKER).write_text(
            "written by paperboy export-site; this folder is replaced on each export\n"
        )
        _swap(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return report


def _write(
    archive: Archive, templates: Templates, out: Path, *, base_url: str | None, site_url: str
) -> ExportReport:
    for folder in ("days", "papers", "tags"):
        (out / folder).mkdir()
    files = 0

    def write(relative: str, content: str | bytes) -> None:
        nonlocal files
        path = out / relative
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        files += 1

    write("style.css", templates.render("web/style.css", {}))
    days = queries.days(archive)
    listed: dict[str, list[Listed]] = defaultdict(list)
    papers = 0
    for position, day in enumerate(days):
        found = queries.digest_papers(archive, day.date)
        newer = days[position - 1].date if position > 0 else None
        older = days[position + 1].date if position + 1 < len(days) else None
        digest = digest_view(day.date, found, base_url)
        write(f"days/{day.date.isoformat()}.html", day_page(templates, digest, newer=newer, older=older))
        for paper in found:
            if paper.date != day.date:
                continue  # featured again later: its page and listings belong to its first day
            write(f"papers/{paper.id}.html", paper_page(templates, paper, base_url))
            papers += 1
            for tag in paper.tags:
                listed[tag].append(Listed(day.date, paper.id, clean(paper.title)))

    counts = sorted(
        (TagCount(tag, len(items)) for tag, items in listed.items()), key=lambda tc: (-tc.count, tc.tag)
    )
    write("index.html", index_page(templates, days, counts[:TOP_TAGS], base_url))
    write("tags/index.html", tags_page(templates, counts, base_url))
    for tag, items in listed.items():
        for name, html in tag_pages(templates, tag, items, base_url):
            write(f"tags/{name}", html)
        newest = queries.latest_papers(archive, ITEMS, tag=tag)
        for kind in KINDS:
            write(feed_path(kind, tag), build_feed(templates, newest, kind, site_url=site_url, tag=tag))
    newest = queries.latest_papers(archive, ITEMS)
    for kind in KINDS:
        write(feed_path(kind), build_feed(templates, newest, kind, site_url=site_url))
    return ExportReport(len(days), papers, len(listed), files)


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
