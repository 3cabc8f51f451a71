"""The exported site's record of what it was built from, kept inside it in ``.paperboy-site/``.

An update of the site (``update.py``) compares the archive with this record to find what
changed, so it must describe the archive exactly as the pages show it:

- ``site.json``: the format, the Paperboy that wrote it and a fingerprint of the templates
  and addresses the pages were rendered with (another one: the pages are all stale), each
  source's mark and each release (``bot/archive/changes.py``), each day with its number of
  papers, each tag with its number of papers, each refreshed Hugging Face upvote count
  (``bot/archive/upvotes.py``: a paper's count changes without any document changing);
- ``sources/KEY.json``: a source's entries (paper, digest, tags), to tell which of a changed
  source's papers changed and which tags they had;
- ``tags/TAG.json``: a tag's listing (day, place in the day, paper, title), as its pages run.

Every file is a function of the archive alone (sorted keys, one layout), so a full export and
an update of the same archive write the same bytes here too, and the tests compare them.
While an update writes, ``updating`` exists: a folder left with it (a crash, a full disk) is
exported anew rather than trusted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import __version__
from bot.archive.changes import EntryMark, SourceMark
from bot.channels.web.site import Listed
from bot.render.environment import Templates

#: The record's folder inside the site; its presence marks the folder as an export.
MARKER = ".paperboy-site"
#: Raised whenever the record's layout changes: an older record then means a full export.
FORMAT = 3
SITE = f"{MARKER}/site.json"
UPDATING = f"{MARKER}/updating"


@dataclass
class SiteState:
    fingerprint: str
    sources: dict[str, SourceMark]
    releases: dict[str, tuple[dt.date, int]]
    days: dict[dt.date, int]
    tags: dict[str, int]
    upvotes: dict[str, int] = field(default_factory=dict)


def fingerprint(
    templates: Templates, base_url: str | None, site_url: str, *, feed_suggested: bool = False
) -> str:
    """What the pages' bytes depend on besides the archive: this Paperboy, its templates (a
    deployment's overrides first), the site's addresses, whether feeds carry suggested tags."""
    digest = hashlib.sha256(f"{FORMAT}|{__version__}|{base_url}|{site_url}|{feed_suggested}".encode())
    seen: set[str] = set()
    for folder in templates.folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            if name not in seen:
                seen.add(name)
                digest.update(f"|{name}|".encode() + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def read_state(site: Path, expected: str) -> tuple[SiteState | None, str]:
    """The record of the export at ``site``, or None and why it cannot be trusted."""
    if not (site / MARKER).exists():
        return None, "the folder holds no earlier export"
    if (site / UPDATING).exists():
        return None, "an earlier update of the site did not finish"
    try:
        raw = json.loads((site / SITE).read_bytes())
    except (FileNotFoundError, NotADirectoryError):  # before 0.1's records: a marker file
        return None, "the export was written by an older Paperboy"
    except ValueError:
        return None, f"{SITE} is damaged"
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("paperboy") != __version__:
        return None, "the export was written by another Paperboy"
    if raw.get("fingerprint") != expected:
        return None, "the templates or the site's address changed since the export"
    try:
        state = SiteState(
            fingerprint=raw["fingerprint"],
            sources={name: SourceMark(_date(d), n, top) for name, (d, n, top) in raw["sources"].items()},
            releases={paper: (dt.date.fromisoformat(d), n) for paper, (d, n) in raw["releases"].items()},
            days={dt.date.fromisoformat(day): n for day, n in raw["days"].items()},
            tags=dict(raw["tags"]),
            upvotes={paper: int(n) for paper, n in raw["upvotes"].items()},
        )
    except (KeyError, TypeError, ValueError):
        return None, f"{SITE} is damaged"
    return state, ""


def site_json(state: SiteState) -> bytes:
    return _dump(
        {
            "format": FORMAT,
            "paperboy": __version__,
            "fingerprint": state.fingerprint,
            "sources": {
                name: [_iso(mark.date), mark.entries, mark.top] for name, mark in state.sources.items()
            },
            "releases": {paper: [day.isoformat(), n] for paper, (day, n) in state.releases.items()},
            "days": {day.isoformat(): n for day, n in state.days.items()},
            "tags": state.tags,
            "upvotes": state.upvotes,
        }
    )


def source_file(name: str) -> str:
    """A source's record: named by a hash, since a source's name is any file name."""
    return f"{MARKER}/sources/{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:24]}.json"


def source_json(name: str, marks: Sequence[EntryMark]) -> bytes:
    return _dump({"name": name, "entries": [[m.paper_id, m.digest, list(m.tags)] for m in marks]})


class DamagedRecord(Exception):
    """A file of the record is missing or unreadable: the site is exported whole instead."""


def read_source(site: Path, name: str) -> list[EntryMark]:
    try:
        raw = json.loads((site / source_file(name)).read_bytes())
        return [EntryMark(paper_id, digest, tuple(tags)) for paper_id, digest, tags in raw["entries"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DamagedRecord(f"{source_file(name)} ({name}): {exc}") from None


def tag_file(tag: str) -> str:
    return f"{MARKER}/tags/{tag}.json"


def tag_json(items: Sequence[Listed]) -> bytes:
    return _dump(items)  # tuples: JSON arrays


def read_tag(site: Path, tag: str) -> list[Listed]:
    try:
        return list(map(Listed._make, json.loads((site / tag_file(tag)).read_bytes())))
    except (OSError, ValueError, TypeError) as exc:
        raise DamagedRecord(f"{tag_file(tag)}: {exc}") from None


def _dump(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _date(raw: str | None) -> dt.date | None:
    return dt.date.fromisoformat(raw) if raw else None


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None
