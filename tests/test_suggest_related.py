"""The related lists kept in the features folder (``bot/suggest/related.py``): an incremental
refresh leaves exactly the lists a computation from scratch gives for the same rows (the idf is
frozen between builds, so the scores are the same dot products), and a list read for the web
agrees with ``SimilarIndex.nearest`` even when unpublished papers fill the stored neighbours.
On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.archive.parsers import Document, parse_document
from bot.archive.store import Archive
from bot.suggest import related
from bot.suggest.refresh import refresh
from bot.suggest.similar import SimilarIndex
from bot.suggest.store import FeatureStore

SIMVLG = "simvlg-simple-and-efficient-pretraining-1f39b1fe"
NEAR = (
    "2025년 12월 20일\nSimVLG-2: Simple and Efficient Pretraining of Visual Language Generative Models\n"
    "(Ada Lovelace)\nWe pretrain visual language generative models simply and efficiently, with"
    " {what} frozen large language models and vision encoders.\n좋은 논문입니다.\n#efficiency\n"
)


def stored(folder: Path) -> tuple[related.Lists, list[str]]:
    store = FeatureStore(folder)
    state = store.state()
    assert state is not None
    lists = store.lists(state)
    assert lists is not None, "the refresh leaves the related lists committed"
    return lists, related.ids_of(state)


def test_an_incremental_refresh_keeps_the_lists_a_full_computation_gives(
    seeded: Archive, tmp_path: Path
) -> None:
    """A new paper near SimVLG, then the same paper corrected (its row superseded by a new one):
    each refresh appends rows under the frozen idf and updates the lists, which then equal, bit
    for bit, the lists computed from scratch over the same rows; the new paper is in SimVLG's
    list, and the superseded row in none."""
    folder = tmp_path / "features"
    assert refresh(seeded, folder).rebuilt
    seeded.ingest(parse_document(Document("2025-12-20.txt", NEAR.format(what="small"))))
    first = refresh(seeded, folder)
    assert not first.rebuilt and first.relisted > 0
    seeded.ingest(parse_document(Document("2025-12-20.txt", NEAR.format(what="tiny"))))
    second = refresh(seeded, folder)
    assert not second.rebuilt and second.dropped == 0 and second.analysed == 1

    lists, ids = stored(folder)
    store = FeatureStore(folder)
    state = store.state()
    assert state is not None
    full = related.compute(store.matrix(state), ids)
    assert np.array_equal(lists.rows, full.rows)
    assert np.array_equal(lists.scores, full.scores)

    row_of = state.live()
    new = next(paper for paper in row_of if paper.startswith("simvlg-2-"))
    assert row_of[new] in lists.rows[row_of[SIMVLG]]
    superseded = [n for n, row in enumerate(state.rows) if row is None]
    assert superseded, "the correction superseded the new paper's first row"
    assert not np.isin(lists.rows, superseded).any()
    assert (lists.rows[superseded] == -1).all()


def test_a_list_read_for_some_papers_agrees_with_similar_when_the_stored_ones_run_out(
    seeded: Archive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With only 2 neighbours stored and SimVLG's nearest papers not eligible (as unpublished
    ones are not), the list read is worked out from SimVLG's row: the eligible papers of
    ``nearest``, in its order."""
    monkeypatch.setattr(related, "WIDTH", 2)
    folder = tmp_path / "features"
    refresh(seeded, folder)
    lists, ids = stored(folder)
    assert lists.rows.shape[1] == 2
    index = SimilarIndex(folder)
    nearest = [paper for paper, _ in index.nearest(SIMVLG, 100) or []]
    assert len(nearest) > 3, "SimVLG has several neighbours above the floor on the seeds"
    eligible = frozenset(ids) - set(nearest[:2])
    found = related.Related(folder).lists([SIMVLG], eligible, 5)
    assert found[SIMVLG] == [p for p in nearest if p in eligible][:5]


def test_the_web_reads_the_lists_with_their_ids_and_never_the_state(seeded: Archive, tmp_path: Path) -> None:
    """After a build and an incremental refresh that supersedes a row, ``related.json`` names
    lists whose ids file says which paper each row is ("" for the superseded one), as the state
    does. The web's reader needs nothing else: with ``state.json`` made unreadable, ``Related``
    reads the same lists, and its ``table`` (the update's form) is what ``Table.of`` makes of
    its ``lists`` (the export's form)."""
    folder = tmp_path / "features"
    refresh(seeded, folder)
    for what in ("small", "tiny"):
        seeded.ingest(parse_document(Document("2025-12-20.txt", NEAR.format(what=what))))
        refresh(seeded, folder)
    _, ids = stored(folder)
    store = FeatureStore(folder)
    found = store.stored()
    assert found is not None and found.ids == ids and "" in ids
    papers = [paper for paper in ids if paper]
    before = related.Related(folder).lists(papers, papers, 5)
    assert before[SIMVLG] and SIMVLG not in before[SIMVLG]

    (folder / "state.json").write_text("not the state")
    reader = related.Related(folder)
    assert reader.lists(papers, papers, 5) == before
    table = reader.table(papers, papers, 5)
    of = related.Table.of(before, 5)
    assert table.ids == of.ids and np.array_equal(table.near, of.near)
    assert table.get(SIMVLG) == before[SIMVLG]


def test_two_tables_differ_in_the_lists_that_changed_or_name_a_changed_paper() -> None:
    """``Table.differing``: a changed list, a list gone, a new one, and a list naming a paper
    whose title changed; an unchanged list in a table of other ids is not among them."""
    before = related.Table.of({"a": ["b", "c"], "b": ["a"], "d": ["a"], "e": ["c"]}, 3)
    now = related.Table.of({"a": ["c", "b"], "b": ["a"], "c": ["a"], "e": ["c"], "f": ["b"]}, 3)
    assert now.differing(before, []) == {"a", "c", "d", "f"}
    assert now.differing(before, ["c"]) == {"a", "c", "d", "e", "f"}
    assert now.differing(now, []) == set()
    assert related.Table.of({}, 3).differing(before, []) == {"a", "b", "d", "e"}


def test_lists_kept_by_an_earlier_version_are_read_again_after_a_refresh(
    seeded: Archive, tmp_path: Path
) -> None:
    """A folder whose lists have no ids file and no ``related.json`` (as an earlier version left
    it) shows no lists; the next refresh, with nothing else to do, writes both, and the lists
    are read again as they were."""
    folder = tmp_path / "features"
    refresh(seeded, folder)
    papers = [paper for paper in stored(folder)[1] if paper]
    before = related.Related(folder).lists(papers, papers, 5)
    assert before
    (folder / "related.json").unlink()
    for kept in folder.glob("related-*.ids"):
        kept.unlink()
    assert related.Related(folder).mark is None
    assert refresh(seeded, folder).unchanged
    assert related.Related(folder).lists(papers, papers, 5) == before
