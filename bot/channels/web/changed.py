"""What changed in the archive since the site was written: the papers whose pages, cards and
feed entries are stale, and the days whose pages are.

A paper reads as the merge of its entries (``bot/archive/merge.py``) on the day publishing
gave it, so it changed exactly when one of its entries did (added, dropped, rewritten with
other text, or moved to a source of another day) or its release did. An entry rewritten with
the same text (the other papers of a corrected day) changes nothing of its paper, but the
day's order may change, so the days of every changed source are looked at whole.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.archive import changes, queries, upvotes
from bot.archive.changes import EntryMark, SourceMark
from bot.archive.store import Archive
from bot.channels.web.state import SiteState, read_source


@dataclass
class Changed:
    """What an update has to rewrite, and the archive's marks to record once it has."""

    marks: dict[str, SourceMark]
    releases: dict[str, tuple[dt.date, int]]
    #: The refreshed upvote counts now (``bot/archive/upvotes.py``).
    upvotes: dict[str, int]
    #: The sources whose entries changed, with their entries now (absent: the source has none).
    sources: dict[str, list[EntryMark]]
    #: Papers whose text, tags, days or first day changed (or that are gone).
    papers: set[str] = field(default_factory=set)
    #: Each changed paper's tags before, as far as its changed entries had them.
    old_tags: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: Days whose papers or order may have changed (the days of changed sources and releases).
    days: set[dt.date] = field(default_factory=set)
    #: Every day of the archive now, with its number of papers.
    day_counts: dict[dt.date, int] = field(default_factory=dict)
    #: The days whose pages are rewritten (a subset of ``day_counts``), and those that are gone.
    touched: set[dt.date] = field(default_factory=set)
    removed_days: set[dt.date] = field(default_factory=set)
    #: ``day_counts``' days, oldest first.
    ordered: list[dt.date] = field(default_factory=list)

    def neighbours(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The newer and the older day beside ``day`` (a day of the archive or not), for the
        links of a day page."""
        after, before = bisect_right(self.ordered, day), bisect_left(self.ordered, day)
        newer = self.ordered[after] if after < len(self.ordered) else None
        older = self.ordered[before - 1] if before > 0 else None
        return newer, older


def find_changes(
    archive: Archive, site: Path, state: SiteState, retagged: Mapping[str, Collection[str]] | None = None
) -> Changed:
    """Compare the archive with the site's record. The marks are read before anything else, so
    a change made while the pages are rendered shows at the next update rather than never.
    ``retagged``: papers whose tags changed with no document changing (a suggestion the curator
    accepted, or rejected after accepting), with the tags they had."""
    marks = changes.source_marks(archive)
    released = changes.release_marks(archive)
    counts = upvotes.marks(archive)
    names = {
        name for name in marks.keys() | state.sources.keys() if marks.get(name) != state.sources.get(name)
    }
    now = changes.entry_marks(archive, names & marks.keys()) if names else {}
    found = Changed(marks, released, counts, {name: now.get(name, []) for name in names})
    for name in sorted(names):
        before = read_source(site, name) if name in state.sources else []
        old_day, new_day = _date(state.sources.get(name)), _date(marks.get(name))
        found.days.update(day for day in (old_day, new_day) if day)
        for mark in before:
            found.old_tags[mark.paper_id].update(mark.tags)
        found.papers |= _changed_papers(before, found.sources[name], moved=old_day != new_day)
    for paper_id in released.keys() | state.releases.keys():
        if released.get(paper_id) != state.releases.get(paper_id):
            found.papers.add(paper_id)
            found.days.update(
                day for day, _ in filter(None, (released.get(paper_id), state.releases.get(paper_id)))
            )
    for paper_id, tags in (retagged or {}).items():
        found.papers.add(paper_id)
        found.old_tags[paper_id].update(tags)
    # A refreshed count shows on the paper's card, page and feed entries, like a changed entry.
    counted = counts.keys() | state.upvotes.keys()
    found.papers.update(p for p in counted if counts.get(p) != state.upvotes.get(p))

    found.day_counts = dict(state.days)
    recounted = (
        {day.date: day.entries for day in queries.days(archive, only=found.days)} if found.days else {}
    )
    for day in found.days:
        if day in recounted:
            found.day_counts[day] = recounted[day]
        else:
            found.day_counts.pop(day, None)
    found.ordered = sorted(found.day_counts)
    added = found.day_counts.keys() - state.days.keys()
    found.removed_days = state.days.keys() - found.day_counts.keys()
    touched = found.days | (queries.days_showing(archive, found.papers) if found.papers else set())
    for day in added | found.removed_days:  # a day comes or goes: its neighbours' links change
        touched.update(filter(None, found.neighbours(day)))
    found.touched = touched & found.day_counts.keys()
    return found


def _changed_papers(before: list[EntryMark], after: list[EntryMark], *, moved: bool) -> set[str]:
    """The papers of a changed source whose entries in it changed (all of them if it moved to
    another day: their days did)."""
    old: dict[str, list[str]] = defaultdict(list)
    new: dict[str, list[str]] = defaultdict(list)
    for mark in before:
        old[mark.paper_id].append(mark.digest)
    for mark in after:
        new[mark.paper_id].append(mark.digest)
    if moved:
        return old.keys() | new.keys()
    return {
        paper_id for paper_id in old.keys() | new.keys() if sorted(old[paper_id]) != sorted(new[paper_id])
    }


def _date(mark: SourceMark | None) -> dt.date | None:
    return mark.date if mark else None
