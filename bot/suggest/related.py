"""Every paper's nearest papers, kept in the features folder: the web archive's "Related in the
archive" lists, read by the export and the site's update like the idf, never computed there.

``similar.py`` answers one paper by reading the columns of its terms. The lists are made by the
refresh (``refresh.py``) as the rows change:

- at a build, every live row's ``WIDTH`` nearest live rows, a chunk of rows at a time by one
  sparse product each (the chunk's rows times the transposed matrix);
- at an incremental refresh, one product of the new rows R against every row: R's own lists,
  and for every other paper Q whether a new row enters Q's list. A list that named a row no
  longer live loses it; if the list was full, what comes after it is unknown, so Q's list is
  computed again from Q's row.

Each score is a dot product summed over the two rows' shared terms in column order (both rows'
indices are sorted), whichever of the two rows asks: the same float32 bits from Q's product as
from P's. So an incremental refresh's lists equal a full computation's over the same rows.

Lists name any live paper (never the paper itself, nothing under ``FLOOR``, best first, ties by
id); the web keeps the published ones when it reads them (``Related.lists``). ``WIDTH`` is more
than a page shows so that a few unpublished neighbours (tomorrow's queue) leave enough: a full
list with too few published entries is computed exactly from its row instead.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from bot.suggest.similar import FLOOR, SimilarIndex
from bot.suggest.store import FeatureStore, Lists, Matrix, State

#: Neighbours kept per paper: a page shows 5; the rest stand in for unpublished ones.
WIDTH = 16
#: Rows per product: each holds up to a few hundred scores per row per 1,000 papers.
CHUNK = 128


def _go_on() -> None:
    """No one stops a computation by default."""


def floats(matrix: Matrix) -> sp.csr_matrix:
    """The rows as float32 CSR with sorted indices (the order every score is summed in)."""
    x = sp.csr_matrix(matrix.csr, dtype=np.float32)
    if not x.has_sorted_indices:
        x = x.copy()
        x.sort_indices()
    return x


def _empty(rows: int) -> Lists:
    return Lists(np.full((rows, WIDTH), -1, dtype=np.int32), np.zeros((rows, WIDTH), dtype=np.float32))


def ranks(ids: list[str]) -> np.ndarray:
    """Each row's place in the order of the paper ids (ties between equal scores go by id)."""
    names = np.array(ids, dtype=object)
    found = np.empty(len(ids), dtype=np.int64)
    found[np.argsort(names, kind="stable")] = np.arange(len(ids))
    return found


def _fill(out: Lists, owner: np.ndarray, other: np.ndarray, score: np.ndarray, rank: np.ndarray) -> None:
    """Write each owner's best ``WIDTH`` of the pairs (owner, other, score) as its list."""
    order = np.lexsort((rank[other], -score, owner))
    owner, other, score = owner[order], other[order], score[order]
    if not len(owner):
        return
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    place = np.arange(len(owner)) - np.repeat(starts, np.diff(np.r_[starts, len(owner)]))
    keep = place < WIDTH
    out.rows[owner[keep], place[keep]] = other[keep]
    out.scores[owner[keep], place[keep]] = score[keep]


def _pairs_of(x: sp.csr_matrix, asked: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, ...]:
    """(asked row, other live row, score) for every pair at or above ``FLOOR``: the product of
    all rows with the asked ones, which needs no transposed copy of the whole matrix."""
    product = (x @ sp.csr_matrix(x[asked].T)).tocoo()
    other, owner, score = product.row, asked[product.col], product.data
    keep = (score >= FLOOR) & live[other] & (other != owner)
    return owner[keep], other[keep].astype(np.int32), score[keep]


def compute(matrix: Matrix, ids: list[str], check: Callable[[], None] = _go_on) -> Lists:
    """Every live row's list, from scratch (``check`` called between chunks: it may raise)."""
    x = floats(matrix)
    live = np.asarray(matrix.live, dtype=bool)
    out = _empty(x.shape[0])
    if not live.any():
        return out
    rank = ranks(ids)
    x_t = sp.csr_matrix(x.T)
    rows = np.flatnonzero(live)
    for start in range(0, len(rows), CHUNK):
        check()
        chunk = rows[start : start + CHUNK]
        product = (x[chunk] @ x_t).tocoo()
        owner, other, score = chunk[product.row], product.col, product.data
        keep = (score >= FLOOR) & live[other] & (owner != other)
        _fill(out, owner[keep], other[keep].astype(np.int32), score[keep], rank)
    return out


def update(old: Lists, matrix: Matrix, ids: list[str], first_new: int) -> tuple[Lists, int]:
    """``old`` (the lists of the rows before ``first_new``) brought up to the rows now: the new
    rows' lists, new rows entered into others' lists, rows no longer live taken out. Also how
    many live rows' lists changed."""
    if old.rows.shape[1] != WIDTH:  # kept by another version: all anew
        found = compute(matrix, ids)
        return found, int((found.rows[:, 0] >= 0).sum())
    x = floats(matrix)
    live = np.asarray(matrix.live, dtype=bool)
    n = x.shape[0]
    rank = ranks(ids)
    out = _empty(n)
    out.rows[: len(old.rows)] = old.rows
    out.scores[: len(old.scores)] = old.scores
    out.rows[~live] = -1
    out.scores[~live] = 0
    named = out.rows >= 0
    dead = named & ~live[np.where(named, out.rows, 0)]
    losing = dead.any(axis=1)
    full = out.rows[:, -1] >= 0
    again = np.flatnonzero(losing & full)  # what followed a lost entry is unknown: from the row
    trimmed = np.flatnonzero(losing & ~full)  # every neighbour was listed: drop the lost ones
    if len(trimmed):
        order = np.argsort(dead[trimmed], axis=1, kind="stable")
        for array, blank in ((out.rows, -1), (out.scores, 0)):
            kept = np.take_along_axis(array[trimmed], order, axis=1)
            kept[np.take_along_axis(dead[trimmed], order, axis=1)] = blank
            array[trimmed] = kept
    new = np.flatnonzero(live[first_new:]) + first_new
    asked = np.union1d(new, again).astype(np.int64)
    if len(asked):
        owner, other, score = _pairs_of(x, asked, live)
        out.rows[asked], out.scores[asked] = -1, 0
        _fill(out, owner, other, score, rank)
        # The new rows entering the others' lists (the asked ones' lists are whole already).
        entering = np.isin(owner, new) & ~np.isin(other, asked)
        others, rows, scores = other[entering], owner[entering].astype(np.int32), score[entering]
        touched = np.unique(others)
        if len(touched):
            current = out.rows[touched] >= 0
            place = np.repeat(touched, WIDTH).reshape(len(touched), WIDTH)[current]
            pooled_owner = np.r_[place, others]
            pooled_other = np.r_[out.rows[touched][current], rows]
            pooled_score = np.r_[out.scores[touched][current], scores]
            out.rows[touched], out.scores[touched] = -1, 0
            _fill(out, pooled_owner, pooled_other, pooled_score, rank)
    width = min(len(old.rows), n)
    before = _empty(n)
    before.rows[:width], before.scores[:width] = old.rows[:width], old.scores[:width]
    moved = (out.rows != before.rows).any(axis=1) | (out.scores != before.scores).any(axis=1)
    return out, int((moved & live).sum())


def ids_of(state: State) -> list[str]:
    return [row[0] if row is not None else "" for row in state.rows]


def relate(store: FeatureStore, state: State, check: Callable[[], None]) -> tuple[State, int]:
    """Every paper's list from scratch, committed (a build's second step); and how many have one."""
    lists = compute(store.matrix(state), ids_of(state), check)
    state = replace(state, related=store.save_lists(lists))
    store.commit(state)
    return state, int((lists.rows[:, 0] >= 0).sum())


@dataclass(frozen=True)
class Mark:
    """Which features the lists were read from (kept in the site's record for the reader)."""

    generation: int
    rows: int


class Related:
    """The lists of one folder as committed now, for the web's pages."""

    def __init__(self, index: SimilarIndex) -> None:
        self.mark: Mark | None = None
        self.row_of: dict[str, int] = {}
        current = index.snapshot()
        stored = index.store.lists(current[0]) if current is not None else None
        if current is None or stored is None:
            return
        state, matrix, row_of = current
        self.mark = Mark(state.generation, len(state.rows))
        self.row_of = row_of
        self.ids = ids_of(state)
        self._matrix = matrix
        self._stored = stored
        self._allowed: tuple[Collection[str], np.ndarray] | None = None

    @cached_property
    def x(self) -> sp.csr_matrix:
        return floats(self._matrix)

    @cached_property
    def names(self) -> np.ndarray:
        return np.array(self.ids, dtype=object)

    @cached_property
    def rank(self) -> np.ndarray:
        return ranks(self.ids)

    def _eligible(self, eligible: Collection[str]) -> np.ndarray:
        """Which rows may be named (worked out once for the same collection)."""
        if self._allowed is None or self._allowed[0] is not eligible:
            allowed = np.zeros(len(self.ids), dtype=bool)
            allowed[[self.row_of[p] for p in eligible if p in self.row_of]] = True
            allowed &= np.asarray(self._matrix.live, dtype=bool)
            self._allowed = (eligible, allowed)
        return self._allowed[1]

    def lists(self, papers: Iterable[str], eligible: Collection[str], limit: int) -> dict[str, list[str]]:
        """Each paper's nearest ``eligible`` papers, best first, at most ``limit``; a paper with no
        row, or no such neighbour, is left out."""
        row_of = self.row_of
        rows = np.unique(np.array([row_of[p] for p in papers if p in row_of], dtype=np.int64))
        if self.mark is None or not len(rows):
            return {}
        allowed = self._eligible(eligible)
        named = np.asarray(self._stored.rows[rows])
        ok = (named >= 0) & allowed[np.where(named >= 0, named, 0)]
        ok &= np.cumsum(ok, axis=1) <= limit
        short = (ok.sum(axis=1) < limit) & (named[:, -1] >= 0)
        ok &= ~short[:, None]
        # Row by row, in order: each paper's names are a slice of one flat list.
        flat = self.names[named[ok]].tolist()
        ends = np.cumsum(ok.sum(axis=1)).tolist()
        ids, found, at = self.ids, {}, 0
        for row, end in zip(rows.tolist(), ends, strict=True):
            if end > at:
                found[ids[row]] = flat[at:end]
                at = end
        if short.any():  # a full list with too few eligible papers: exactly, from the rows
            asked = rows[short]
            owner, other, score = _pairs_of(self.x, asked, allowed)
            exact = _empty(len(ids))
            _fill(exact, owner, other, score, self.rank)
            for row in asked.tolist():
                near = [ids[q] for q in exact.rows[row].tolist() if q >= 0][:limit]
                if near:
                    found[ids[row]] = near
        return found
