"""Related papers for many papers at once: the web archive's "Related in the archive" lists.

``similar.py`` answers one paper by reading the columns of its terms. The export needs a list
for every paper page, so here the rows are compared a chunk at a time by one sparse matrix
product each (the chunk's rows times the transposed matrix), which does the same sums in
compiled code. Each entry of a product is summed over the asked paper's terms in their stored
order, whatever else the chunk holds, so a paper's list is a function of the features alone:
the site's update computes a few lists and gets the bytes an export of all of them gets.

Lists hold only ``eligible`` papers (those with a page), never the paper itself, nothing under
``FLOOR``, best first (ties by id).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from bot.suggest.similar import FLOOR, SimilarIndex

#: Rows per product: the product of a chunk holds up to a few hundred scores per row per 1,000
#: papers of the archive, kept under ~100 MB at 100,000 papers.
CHUNK = 256


@dataclass(frozen=True)
class Mark:
    """Which features the lists were computed from: a new generation may change any list; rows
    added to the same generation change only the lists near them."""

    generation: int
    rows: int


class Related:
    """The features of one folder as committed now, for many lists."""

    def __init__(self, index: SimilarIndex) -> None:
        current = index.snapshot()
        self.mark: Mark | None = None
        self.row_of: dict[str, int] = {}
        if current is None:
            return
        state, matrix, row_of = current
        self.mark = Mark(state.generation, len(state.rows))
        self.row_of = row_of
        self.ids = [row[0] if row is not None else "" for row in state.rows]
        self._matrix = matrix

    @cached_property
    def rank(self) -> np.ndarray:
        """Each row's place in the order of paper ids (ties between equal scores go by id)."""
        return np.argsort(np.argsort(np.array(self.ids, dtype=object)))

    @cached_property
    def x(self) -> sp.csr_matrix:
        return sp.csr_matrix(self._matrix.csr, dtype=np.float32)

    @cached_property
    def x_t(self) -> sp.csr_matrix:
        """The rows transposed, made once (about a second at 100,000 papers) and only when a list
        is asked for: an update whose new papers have no features yet never needs it."""
        return sp.csr_matrix(self.x.T)

    @cached_property
    def live(self) -> np.ndarray:
        return np.asarray(self._matrix.live, dtype=bool)

    def rows_since(self, mark: Mark | None) -> set[str] | None:
        """Papers whose rows were added after ``mark``; None if any list may have changed (no
        mark, or another generation: the idf and every row are new)."""
        if self.mark is None or mark is None or mark.generation != self.mark.generation:
            return None
        return {paper for paper, row in self.row_of.items() if row >= mark.rows}

    def lists(
        self, papers: Iterable[str], eligible: Collection[str], limit: int | None
    ) -> dict[str, list[tuple[str, float]]]:
        """Each paper's nearest ``eligible`` papers at or above ``FLOOR``, best first, at most
        ``limit`` (None: all of them); a paper with no row, or no such neighbour, is left out."""
        rows = sorted(self.row_of[p] for p in set(papers) if p in self.row_of)
        if self.mark is None or not rows:
            return {}
        allowed = np.zeros(self.x.shape[0], dtype=bool)
        allowed[[self.row_of[p] for p in eligible if p in self.row_of]] = True
        allowed &= self.live
        found: dict[str, list[tuple[str, float]]] = {}
        for start in range(0, len(rows), CHUNK):
            chunk = np.asarray(rows[start : start + CHUNK])
            product = (self.x[chunk] @ self.x_t).tocoo()
            p, q, scores = chunk[product.row], product.col, product.data
            keep = (scores >= FLOOR) & allowed[q] & (p != q)
            p, q, scores = p[keep], q[keep], scores[keep]
            # Best first within each paper, ties by id; then the first ``limit`` of each.
            order = np.lexsort((self.rank[q], -scores, p))
            p, q, scores = p[order], q[order], scores[order]
            starts = np.flatnonzero(np.r_[True, p[1:] != p[:-1]]) if len(p) else np.zeros(0, int)
            ends = np.r_[starts[1:], len(p)]
            for begin, end in zip(starts, ends, strict=True):
                end = min(end, begin + limit) if limit is not None else end
                found[self.ids[p[begin]]] = [
                    (self.ids[other], float(score))
                    for other, score in zip(q[begin:end], scores[begin:end], strict=True)
                ]
        return found
