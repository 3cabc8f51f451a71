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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from bot.suggest.similar import FLOOR
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
    state = replace(state, related=store.save_lists(lists, ids_of(state)))
    store.commit(state)
    return state, int((lists.rows[:, 0] >= 0).sum())


@dataclass(frozen=True)
class Mark:
    """Which features the lists were read from (kept in the site's record for the reader)."""

    generation: int
    rows: int


@dataclass(frozen=True)
class Table:
    """Pages' lists as arrays: ``ids`` (sorted: each paper with a list or listed once), and
    ``near[i]``, the places in ``ids`` of the papers ``ids[i]`` lists, best first (-1: none).
    Two tables compare as arrays (``Table.differing``), not as a dict of strings per paper."""

    ids: list[str]
    near: np.ndarray

    @staticmethod
    def of(lists: Mapping[str, Sequence[str]], width: int) -> Table:
        ids = sorted({*lists, *(q for near in lists.values() for q in near)})
        place = {paper: number for number, paper in enumerate(ids)}
        near = np.full((len(ids), width), -1, dtype=np.int32)
        for paper, names in lists.items():
            near[place[paper], : len(names)] = [place[q] for q in names]
        return Table(ids, near)

    @cached_property
    def place(self) -> dict[str, int]:
        return {paper: number for number, paper in enumerate(self.ids)}

    def get(self, paper: str) -> list[str]:
        """The papers ``paper``'s page lists ([] if none)."""
        number = self.place.get(paper)
        if number is None:
            return []
        return [self.ids[q] for q in self.near[number].tolist() if q >= 0]

    def lists(self) -> dict[str, list[str]]:
        return {
            paper: self.get(paper)
            for paper, row in zip(self.ids, self.near[:, 0].tolist(), strict=True)
            if row >= 0
        }

    def differing(self, before: Table, naming: Iterable[str]) -> set[str]:
        """The papers whose list differs from ``before``'s, or names one of ``naming``."""
        place = self.place
        mapped = np.array([place.get(paper, -2) for paper in before.ids], dtype=np.int64)
        if not len(self.ids):
            return {
                paper for paper, row in zip(before.ids, before.near[:, 0].tolist(), strict=True) if row >= 0
            }
        old = np.full(self.near.shape, -1, dtype=np.int64)
        if len(before.ids):
            ours = mapped >= 0
            named = before.near[ours]
            old[mapped[ours]] = np.where(named >= 0, mapped[np.maximum(named, 0)], -1)
        changed = (old != self.near).any(axis=1)
        asked = np.array([place[p] for p in naming if p in place], dtype=np.int64)
        changed |= np.isin(self.near, asked).any(axis=1)
        found = {self.ids[number] for number in np.flatnonzero(changed).tolist()}
        gone = (mapped < 0) & (before.near[:, 0] >= 0) if len(before.ids) else np.zeros(0, dtype=bool)
        return found | {before.ids[number] for number in np.flatnonzero(gone).tolist()}


class Related:
    """The lists of one folder as committed now, for the web's pages (read with the rows' ids
    beside them, never the state: ``FeatureStore.stored``)."""

    def __init__(self, folder: Path) -> None:
        self.mark: Mark | None = None
        self.row_of: dict[str, int] = {}
        self.store = FeatureStore(folder)
        stored = self.store.stored()
        if stored is None:
            return
        self.mark = Mark(stored.generation, len(stored.ids))
        self.ids = stored.ids
        self.row_of = {paper: number for number, paper in enumerate(stored.ids) if paper}
        self._stored = stored
        self._allowed: tuple[Collection[str], np.ndarray] | None = None

    @cached_property
    def _matrix(self) -> Matrix:
        return self.store.rows_of(self._stored)

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
            self._allowed = (eligible, allowed)
        return self._allowed[1]

    def _near(
        self, papers: Iterable[str], eligible: Collection[str], limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``papers`` (sorted) and each one's nearest ``eligible`` rows, best first
        (-1: none)."""
        row_of = self.row_of
        asking = np.zeros(len(self.ids) if self.mark is not None else 0, dtype=bool)
        asking[[row_of[p] for p in papers if p in row_of]] = True
        rows = np.flatnonzero(asking)
        near = np.full((len(rows), limit), -1, dtype=np.int64)
        if self.mark is None or not len(rows):
            return rows, near
        allowed = self._eligible(eligible)
        named = np.asarray(self._stored.lists.rows[rows])
        ok = (named >= 0) & allowed[np.where(named >= 0, named, 0)]
        # The width is small: counts fit int8, and cumsum over int8 is several times faster.
        ok &= np.cumsum(ok, axis=1, dtype=np.int8) <= limit
        short = (ok.sum(axis=1) < limit) & (named[:, -1] >= 0)
        ok &= ~short[:, None]
        at, column = np.nonzero(ok)
        near[at, np.cumsum(ok, axis=1, dtype=np.int8)[at, column] - 1] = named[at, column]
        if short.any():  # a full list with too few eligible papers: exactly, from the rows
            asked = rows[short]
            owner, other, score = _pairs_of(self.x, asked, allowed)
            exact = _empty(len(self.ids))
            _fill(exact, owner, other, score, self.rank)
            exactly = exact.rows[asked, :limit]
            near[np.flatnonzero(short)[:, None], np.arange(exactly.shape[1])] = exactly
        return rows, near

    def lists(self, papers: Iterable[str], eligible: Collection[str], limit: int) -> dict[str, list[str]]:
        """Each paper's nearest ``eligible`` papers, best first, at most ``limit``; a paper with no
        row, or no such neighbour, is left out."""
        rows, near = self._near(papers, eligible, limit)
        keep = near[:, 0] >= 0
        rows, near = rows[keep], near[keep]
        counts = (near >= 0).sum(axis=1)
        flat = self.names[near[near >= 0]].tolist()
        ends = np.cumsum(counts).tolist()
        found, at = {}, 0
        for row, end in zip(rows.tolist(), ends, strict=True):
            found[self.ids[row]] = flat[at:end]
            at = end
        return found

    def table(self, papers: Iterable[str], eligible: Collection[str], limit: int) -> Table:
        """``lists`` as a ``Table`` (what ``Table.of`` makes of them), without a string per entry."""
        rows, near = self._near(papers, eligible, limit)
        keep = near[:, 0] >= 0
        rows, near = rows[keep], near[keep]
        member = np.zeros(len(self.ids), dtype=bool)
        member[rows] = True
        member[near[near >= 0]] = True
        members = np.flatnonzero(member)
        names = self.names[members]
        order = np.argsort(names, kind="stable")
        place = np.full(len(self.ids), -1, dtype=np.int64)
        place[members[order]] = np.arange(len(members))
        out = np.full((len(members), limit), -1, dtype=np.int32)
        out[place[rows]] = np.where(near >= 0, place[np.maximum(near, 0)], -1)
        return Table(names[order].tolist(), out)
