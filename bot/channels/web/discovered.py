"""What the web archive shows of the tag model, and the site's record of it.

Tag pages list the papers the model suggests the tag for after the curator's; paper pages show
the paper's suggested tags apart from the curator's, and its nearest papers ("Related in the
archive", kept up to date in the features folder by the tag model's refresh,
``bot/suggest/related.py``: read here, never computed). None of that follows from the
documents, so the site's record keeps what each page showed (``discovery.json``): an update
compares it with what the archive and the features say now and rewrites exactly the pages whose
lists changed.

- ``features``: the generation and row count of the features the lists were read from (none:
  the folder had no lists yet, as just after a build, and no page showed any);
- ``tags``: each tag page's suggested papers; ``papers``: each paper page's suggested tags;
- ``related``: each paper page's related papers (their titles show, so a changed paper's
  title rewrites the pages that list it), kept apart as arrays (``related.npy``, the places
  in ``related-ids.txt`` of each paper's list): at 100,000 papers a JSON object of them is
  28 MB, and reading, comparing and writing it took most of an update's second;
- ``accepted``: the tags the curator accepted, which change a paper's tags (its card, its
  listings, its feed entries) with no document changing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bot.archive.discovery import Discovery
from bot.archive.queries import load_papers
from bot.archive.store import Archive
from bot.channels.web.site import Listed
from bot.render.context import clean
from bot.suggest.related import Mark, Related, Table

#: Related papers a paper page lists at most.
RELATED = 5
RECORD = ".paperboy-site/discovery.json"
RELATED_IDS = ".paperboy-site/related-ids.txt"
RELATED_NEAR = ".paperboy-site/related.npy"


def _no_lists() -> Table:
    return Table([], np.full((0, RELATED), -1, dtype=np.int32))


@dataclass
class Shown:
    features: Mark | None = None
    tags: dict[str, list[str]] = field(default_factory=dict)
    papers: dict[str, list[str]] = field(default_factory=dict)
    related: Table = field(default_factory=_no_lists)
    accepted: dict[str, list[str]] = field(default_factory=dict)


def related_for(features: Path | None) -> Related | None:
    """The features as committed now, or None when there are none (no refresh yet)."""
    if features is None:
        return None
    related = Related(features)
    return related if related.mark is not None else None


def related_lists(
    related: Related | None, papers: Iterable[str], published: Collection[str]
) -> dict[str, list[str]]:
    """The related papers each of ``papers`` shows (only papers with a page)."""
    if related is None:
        return {}
    return related.lists(papers, published, RELATED)


def suggested_lines(ids: Collection[str], lines: dict[str, Listed]) -> list[Listed]:
    """A tag's suggested papers as lines of its listing (their order in their day unused)."""
    return [lines[paper]._replace(order=0) for paper in ids if paper in lines]


def lines_of(archive: Archive, ids: Collection[str]) -> dict[str, Listed]:
    """Papers as a line of a listing (their first day, title as pages show it; no order): how a
    suggested paper shows on a tag page, and a related one on a paper page."""
    if not ids:
        return {}
    with archive.engine.connect() as conn:
        found = load_papers(conn, sorted(ids))
    return {p.id: Listed(p.date.isoformat(), 0, p.id, clean(p.title)) for p in found if p.date}


def shown_files(shown: Shown) -> dict[str, bytes]:
    """The record's files, by their place in the site."""
    value = {
        "features": [shown.features.generation, shown.features.rows] if shown.features else None,
        "tags": shown.tags,
        "papers": shown.papers,
        "accepted": shown.accepted,
    }
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    near = io.BytesIO()
    np.save(near, np.ascontiguousarray(shown.related.near, dtype=np.int32), allow_pickle=False)
    return {
        RECORD: text.encode("utf-8") + b"\n",
        RELATED_IDS: "".join(f"{paper}\n" for paper in shown.related.ids).encode("utf-8"),
        RELATED_NEAR: near.getvalue(),
    }


def read_shown(site: Path) -> Shown:
    """The record; ValueError if it is missing or damaged."""
    try:
        raw = json.loads((site / RECORD).read_bytes())
        mark = raw["features"]
        ids = (site / RELATED_IDS).read_text(encoding="utf-8").split("\n")[:-1]
        near = np.load(site / RELATED_NEAR, allow_pickle=False)
        if near.dtype != np.int32 or near.shape != (len(ids), RELATED) or (near >= len(ids)).any():
            raise ValueError(f"{RELATED_NEAR} does not match {RELATED_IDS}")
        return Shown(
            Mark(int(mark[0]), int(mark[1])) if mark else None,
            {str(k): list(v) for k, v in raw["tags"].items()},
            {str(k): list(v) for k, v in raw["papers"].items()},
            Table(ids, near),
            {str(k): list(v) for k, v in raw["accepted"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ValueError(f"the record of what the tag model showed: {exc}") from None


def shown_now(discovery: Discovery) -> Shown:
    """The suggested parts of the record as the archive has them (``related`` and ``features``
    are filled by the caller). ``discovery`` already keeps to papers and tags with a page."""
    return Shown(tags=dict(discovery.by_tag), papers=dict(discovery.by_paper), accepted=discovery.accepted)


def relisted(related: Related | None, published: Collection[str]) -> Table:
    """Every paper page's related list now: read from the features folder's stored lists (a
    comparison of arrays, no product), so the update knows which pages to rewrite by comparing
    them with the record, and gets what an export gets (``Table.of`` its lists)."""
    if related is None:
        return _no_lists()
    return related.table(published, published, RELATED)
