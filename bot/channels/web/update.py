"""Keeping an exported site up to date: publishing or correcting a day rewrites only the pages
it touches, and the folder ends byte for byte as a full export of the same archive would leave
it (``tests/test_web_update.py`` checks that over sequences of publishes and corrections).

What a day's change touches, page by page (every template in ``templates/web`` was read for
what it shows of other pages):

- the pages of the days that changed, and of any other day showing a changed paper (a paper
  featured on several days shows every one of them on its card); a day that comes or goes
  changes its neighbours' newer/older links;
- the pages of the changed papers (a paper whose first day is elsewhere has its page there);
- the listing pages of every tag whose list changed (a paper's title, day, place in its day,
  or tags), all of its pages, since the list runs newest first; pages past the new end go;
- the tag cloud, the index (its days and counts) and the main feed; the feeds of the changed
  papers' tags, old and new, whose unchanged entries are taken from the feeds written before;
- the site's record (``state.py``).

Everything is rendered before anything is written (a broken template changes nothing), then
``files.apply`` writes it in the order that keeps links working. A folder that is not an
earlier export of this Paperboy with these templates, or where more changed than an update is
worth, is exported whole instead.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bot.archive import queries
from bot.archive.changes import tags_of
from bot.archive.discovery import Discovery, discovery
from bot.archive.queries import load_papers
from bot.archive.store import Archive
from bot.channels.feeds import ITEMS, KINDS, Entries, feed_path
from bot.channels.web.changed import Changed, find_changes
from bot.channels.web.discovered import (
    Shown,
    lines_of,
    read_shown,
    related_for,
    shown_files,
    shown_now,
)
from bot.channels.web.discovered import relisted as relisted_by
from bot.channels.web.export import TOP_TAGS, export_unlocked, static_files
from bot.channels.web.files import apply, locked, write_atomic
from bot.channels.web.site import (
    Listed,
    day_page,
    index_page,
    listing_sorted,
    paper_page,
    tag_page_count,
    tag_pages,
    tags_page,
)
from bot.channels.web.state import (
    MARKER,
    SITE,
    UPDATING,
    DamagedRecord,
    SiteState,
    fingerprint,
    read_state,
    read_tag,
    site_json,
    source_file,
    source_json,
    tag_file,
    tag_json,
)
from bot.channels.web.static_search import INDEX_FOLDER, refresh_index
from bot.models import TagCount
from bot.render.context import PaperView, digest_view, paper_view
from bot.render.environment import Templates
from bot.suggest.related import Related

#: An update that would rewrite more than this share of a large archive's days is an export.
WHOLE_FROM = 0.25
LARGE = 60  # days: below this, an export is as quick as an update


@dataclass(frozen=True)
class SiteReport:
    #: Whether the site was exported whole, and why (an update: "").
    exported: bool
    reason: str
    days: int
    tags: int
    written: int
    unchanged: int
    removed: int
    seconds: float
    #: The process's CPU time meanwhile: the rest of ``seconds`` waited on the disk or the machine.
    cpu_seconds: float


def update_site(
    archive: Archive,
    templates: Templates,
    target: Path,
    *,
    base_url: str | None,
    site_url: str,
    features: Path | None = None,
    feed_suggested: bool = False,
) -> SiteReport:
    """Bring the export at ``target`` up to date with the archive (exported whole if need be).
    The search index (static_search.py) is left as it is: see ``refresh_index``. ``features``:
    the tag model's folder (the related papers on paper pages)."""
    began = (time.perf_counter(), time.process_time())
    expected = fingerprint(templates, base_url, site_url, feed_suggested=feed_suggested)
    with locked(target):
        state, reason = read_state(target, expected) if target.is_dir() else (None, "there is no site yet")
        try:
            found = None
            if state is not None:
                model = _Model(read_shown(target), discovery(archive), related_for(features))
                retagged = {
                    paper: model.before.accepted.get(paper, [])
                    for paper in model.before.accepted.keys() | model.now.accepted.keys()
                    if model.before.accepted.get(paper) != model.now.accepted.get(paper)
                }
                found = find_changes(archive, target, state, retagged)
            if state is not None and found is not None:
                many = len(found.touched) > WHOLE_FROM * len(found.day_counts)
                if not (many and len(found.day_counts) >= LARGE):
                    model = replace(model, feeds=feed_suggested)
                    return _update(archive, templates, target, state, found, model, base_url, site_url, began)
                reason = f"{len(found.touched)} of {len(found.day_counts)} days changed"
        except (DamagedRecord, ValueError) as exc:  # read before anything is written: nothing is lost
            reason = f"the site's record is damaged: {exc}"
        report = export_unlocked(
            archive,
            templates,
            target,
            base_url=base_url,
            site_url=site_url,
            search_index=False,
            keep_index=True,
            features=features,
            feed_suggested=feed_suggested,
        )
    return SiteReport(True, reason, report.days, report.tags, report.files, 0, 0, *_since(began))


def refresh_search_index(target: Path, setting: str = "always") -> int:
    """After an update, whose pages are out already, the search index as PAPERBOY_SEARCH_INDEX
    says (static_search.py): ``always`` built anew (Pagefind cannot add pages to an index),
    ``off`` removed, ``export`` left as ``paperboy export-site`` built it. Files it holds now."""
    if setting == "export":
        return 0
    with locked(target):
        if setting == "always":
            return refresh_index(target)
        shutil.rmtree(target / INDEX_FOLDER, ignore_errors=True)
        return 0


def _update(
    archive: Archive,
    templates: Templates,
    site: Path,
    state: SiteState,
    found: Changed,
    model: _Model,
    base_url: str | None,
    site_url: str,
    began: tuple[float, float],
) -> SiteReport:
    files: dict[str, bytes] = {}
    removals: set[str] = set()

    # The days' pages, and what each changed or reordered paper is now (its first day's view).
    listed: dict[str, tuple[Listed, tuple[str, ...]]] = {}
    views: dict[str, PaperView] = {}
    for day in sorted(found.touched):
        digest = digest_view(day, queries.day_papers(archive, day), base_url)
        newer, older = found.neighbours(day)
        files[f"days/{day.isoformat()}.html"] = _utf8(day_page(templates, digest, newer=newer, older=older))
        for order, view in enumerate(digest.papers):
            if view.date != day:
                continue  # featured again: its page and listing belong to its first day
            if view.id in found.papers:
                views[view.id] = view
            if view.id in found.papers or day in found.days:
                listed[view.id] = (Listed(day.isoformat(), order, view.id, view.title), view.tags)
    removals.update(f"days/{day.isoformat()}.html" for day in found.removed_days)
    removals.update(f"papers/{paper_id}.html" for paper_id in found.papers - listed.keys())

    # Tags: the listings that changed, and the feeds of the changed papers' tags.
    relisted = found.papers | listed.keys()
    unlisted = {p for p in found.papers if p not in listed}
    kept = _tags_of_unlisted(archive, unlisted)
    feed_tags = {t for p in found.papers for t in (*found.old_tags.get(p, ()), *kept.get(p, ()))}
    feed_tags |= {t for p in found.papers if p in listed for t in listed[p][1]}
    candidates = feed_tags | {t for _, tags in listed.values() for t in tags}
    counts = dict(state.tags)
    relists: dict[str, list[Listed]] = {}
    for tag in sorted(candidates):
        before = read_tag(site, tag) if tag in state.tags else []
        staying = [item for item in before if item.id not in relisted]
        items = listing_sorted([*staying, *(item for item, tags in listed.values() if tag in tags)])
        if items != before:
            relists[tag] = items
            if items:
                counts[tag] = len(items)
            else:
                counts.pop(tag)
                removals.update({f"tags/{tag}.html", tag_file(tag), *(feed_path(k, tag) for k in KINDS)})

    # What the tag model shows: tags' suggested papers, papers' suggested tags and related lists.
    shown = shown_now(model.now)
    shown.related = relisted_by(model.related, model.now.published)
    shown.features = model.related.mark if model.related is not None else None
    before_shown = model.before
    resuggested = {
        tag
        for tag in counts
        if shown.tags.get(tag, []) != before_shown.tags.get(tag, [])
        or found.papers.intersection(shown.tags.get(tag, []))
    }
    lines = lines_of(archive, {p for tag in resuggested for p in shown.tags.get(tag, [])})
    for tag in sorted(relists.keys() | resuggested):
        old_pages = _pages(state.tags.get(tag, 0) + len(before_shown.tags.get(tag, [])))
        items = relists[tag] if tag in relists else read_tag(site, tag)
        suggested = [lines[p] for p in shown.tags.get(tag, []) if p in lines]
        if items:
            for name, html in tag_pages(templates, tag, items, base_url, suggested):
                files[f"tags/{name}"] = _utf8(html)
            files[tag_file(tag)] = tag_json(items)
        new_pages = _pages(len(items) + len(suggested)) if items else 0
        removals.update(f"tags/{tag}-{page}.html" for page in range(new_pages + 1, old_pages + 1))
    removals -= _tag_files(counts, shown)  # a tag named like another's page (vq-2) keeps its page

    # Paper pages: the changed papers', and those whose suggested tags or related list changed.
    pages = {p for p in model.now.published if shown.papers.get(p) != before_shown.papers.get(p)}
    pages |= shown.related.differing(before_shown.related, found.papers) & model.now.published
    views.update(_views(archive, pages - views.keys(), base_url))
    titles = lines_of(archive, {q for p in views for q in shown.related.get(p)})
    for paper_id, view in views.items():
        near = [(q, titles[q].title) for q in shown.related.get(paper_id) if q in titles]
        page = paper_page(templates, view, base_url, suggested=shown.papers.get(paper_id, ()), related=near)
        files[f"papers/{paper_id}.html"] = _utf8(page)

    ranked = sorted((TagCount(t, n) for t, n in counts.items()), key=lambda tc: (-tc.count, tc.tag))
    days = [queries.Day(day, found.day_counts[day]) for day in reversed(found.ordered)]
    files.update((name, _utf8(text)) for name, text in static_files(templates, base_url).items())
    files["index.html"] = _utf8(index_page(templates, days, ranked[:TOP_TAGS], base_url))
    files["tags/index.html"] = _utf8(tags_page(templates, ranked, base_url))
    # With suggested tags in the feeds, a paper whose suggested tags changed has a new entry.
    retagged: set[str] = set()
    if model.feeds:
        retagged = {p for p in shown.papers.keys() | before_shown.papers.keys() if p in model.now.published}
        retagged = {p for p in retagged if shown.papers.get(p) != before_shown.papers.get(p)}
        feed_tags |= {t for tags in _tags_of_unlisted(archive, retagged).values() for t in tags}
    in_feeds = shown.papers if model.feeds else None
    chosen = sorted(feed_tags & counts.keys())
    files.update(_feeds(archive, templates, site, found.papers | retagged, chosen, site_url, in_feeds))

    record = SiteState(
        state.fingerprint, found.marks, found.releases, found.day_counts, counts, found.upvotes
    )
    records = {SITE: site_json(record), **shown_files(shown)}
    records.update(_split(files, MARKER))
    dropped = {name for name in removals if name.startswith(f"{MARKER}/")}
    for name, marks in found.sources.items():
        if marks:
            records[source_file(name)] = source_json(name, marks)
        else:
            dropped.add(source_file(name))

    write_atomic(site / UPDATING, b"")  # until the record is written: a crash means an export
    done = apply(site, files, removals - dropped)
    recorded = apply(site, records, dropped)
    (site / UPDATING).unlink()
    return SiteReport(
        False,
        "",
        len(days),
        len(counts),
        done.written + recorded.written,
        done.unchanged,
        done.removed,
        *_since(began),
    )


@dataclass(frozen=True)
class _Model:
    """What the site's pages showed of the tag model, what the archive says now, the features."""

    before: Shown
    now: Discovery
    related: Related | None
    #: Feeds carry the suggested tags (PAPERBOY_FEED_SUGGESTED_TAGS).
    feeds: bool = False


def _views(archive: Archive, ids: set[str], base_url: str | None) -> dict[str, PaperView]:
    """Pages of papers no touched day rendered: as their first day's page shows them."""
    with archive.engine.connect() as conn:
        return {p.id: paper_view(p, base_url) for p in load_papers(conn, sorted(ids)) if p.date}


def _feeds(
    archive: Archive,
    templates: Templates,
    site: Path,
    changed: set[str],
    tags: list[str],
    site_url: str,
    suggested: dict[str, list[str]] | None,
) -> dict[str, bytes]:
    """The main feed and ``tags``' feeds, rendering only the entries of changed papers or of
    papers no feed written before holds."""
    entries = Entries(templates, site_url, suggested=suggested)
    wanted: list[str | None] = [None, *tags]
    for tag in wanted:
        for kind in KINDS:
            try:
                entries.remember(kind, (site / feed_path(kind, tag)).read_bytes(), unless=changed)
            except FileNotFoundError:
                continue
    with archive.engine.connect() as conn:
        ranked = {tag: queries.latest_ids_in(conn, ITEMS, tag) for tag in wanted}
        missing = entries.missing(paper_id for found in ranked.values() for paper_id, _ in found)
        entries.render(load_papers(conn, sorted(missing)))
    feeds: dict[str, bytes] = {}
    for tag, found in ranked.items():
        for kind in KINDS:
            feeds[feed_path(kind, tag)] = entries.feed(kind, found, tag)
    return feeds


def _tags_of_unlisted(archive: Archive, ids: set[str]) -> dict[str, set[str]]:
    """The tags a changed paper that no day lists any more still has (a paper back in the
    queue keeps the tags of its other entries, which its old listings had too)."""
    return tags_of(archive, ids) if ids else {}


def _split(files: dict[str, bytes], folder: str) -> dict[str, bytes]:
    """Take the files under ``folder`` out of ``files``."""
    taken = {name: files.pop(name) for name in [name for name in files if name.startswith(f"{folder}/")]}
    return taken


def _tag_files(counts: dict[str, int], shown: Shown) -> set[str]:
    """Every file of a tag the site has: never removed, whatever another tag's pages were."""
    names: set[str] = set()
    for tag, count in counts.items():
        listed = count + len(shown.tags.get(tag, []))
        names.update(f"tags/{tag}-{page}.html" for page in range(2, _pages(listed) + 1))
        names.update({f"tags/{tag}.html", *(feed_path(kind, tag) for kind in KINDS)})
    return names


def _pages(count: int) -> int:
    """A tag's listing pages; none once no paper has it."""
    return tag_page_count(count) if count else 0


def _since(began: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - began[0], time.process_time() - began[1]


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")
