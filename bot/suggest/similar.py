"""Related papers: the nearest papers by the same features the classifiers read.

A paper's row and another's are unit vectors, so their dot product is the cosine of their tf-idf
vectors: 1 for the same text, 0 for no shared term. The nearest papers are found without
scanning the matrix: only the columns of the asked paper's terms are read (the column files of
``store.py``), and the rows appended since the last build are compared one by one. Never the
paper itself, never a superseded row, and nothing under ``FLOOR``: two papers that share only
"language model" are not related.

``SimilarIndex`` keeps the files open for a process that answers many lookups (the service,
the web server) and reopens them when a refresh has committed new ones. Only numpy: a lookup
never loads scikit-learn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.archive.queries import find_paper, load_papers
from bot.archive.store import Archive
from bot.models import Paper
from bot.suggest.store import STATE, FeatureStore, Matrix, State

#: The least cosine shown, chosen on the seeds: papers on one topic score 0.19-0.28 there (MARS
#: and STAR, MINT-1T and DataComp-LM, MultiFusion and M-VADER), while papers sharing only the
#: field's vocabulary ("large language model", "performance") reach 0.10-0.17 (README).
FLOOR = 0.18
LIMIT = 10
MAX_LIMIT = 100


@dataclass(frozen=True)
class Related:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class Similar:
    """The asked paper, its nearest papers best first, and whether it has features at all (a
    paper added since the last refresh has none yet)."""

    paper: Paper
    similar: tuple[Related, ...]
    analysed: bool = True


class SimilarIndex:
    """The features of one folder, open for repeated lookups."""

    def __init__(self, folder: Path) -> None:
        self.store = FeatureStore(folder)
        self._stamp: tuple[int, int] | None = None
        self._open: tuple[State, Matrix, dict[str, int]] | None = None

    def _current(self) -> tuple[State, Matrix, dict[str, int]] | None:
        try:
            found = os.stat(self.store.folder / STATE)
        except FileNotFoundError:
            return None
        stamp = (found.st_mtime_ns, found.st_size)
        if stamp != self._stamp:
            state = self.store.state()
            try:
                self._open = None if state is None else (state, self.store.matrix(state), state.live())
            except (OSError, ValueError):
                # A rebuild committed and removed them meanwhile (next time, then), or they are
                # damaged (the next refresh rebuilds them): no features until then.
                self._open = None
                return None
            self._stamp = stamp
        return self._open

    def snapshot(self) -> tuple[State, Matrix, dict[str, int]] | None:
        """The committed state, its rows and each paper's live row, as of now (one refresh's)."""
        return self._current()

    def knows(self, paper_id: str) -> bool:
        current = self._current()
        return current is not None and paper_id in current[2]

    def nearest(self, paper_id: str, limit: int = LIMIT) -> list[tuple[str, float]] | None:
        """The papers nearest ``paper_id`` with their cosines, best first; None if it has no row."""
        current = self._current()
        if current is None or paper_id not in current[2]:
            return None
        state, matrix, row_of = current
        scores = _cosines(matrix, row_of[paper_id])
        scores[~matrix.live] = -1.0
        scores[row_of[paper_id]] = -1.0
        count = min(limit, len(scores) - 1)
        if count <= 0:
            return []
        top = np.argpartition(-scores, count - 1)[:count] if count < len(scores) else np.arange(len(scores))
        ids = [row[0] if row is not None else "" for row in (state.rows[r] for r in top)]
        ranked = sorted(zip(top, ids, strict=True), key=lambda pair: (-scores[pair[0]], pair[1]))
        return [(paper, float(scores[r])) for r, paper in ranked if scores[r] >= FLOOR and paper]


def _cosines(matrix: Matrix, row: int) -> np.ndarray:
    """Every row's dot product with ``row``: by column over the built rows, by row over the rest."""
    csr = matrix.csr
    start, end = csr.indptr[row], csr.indptr[row + 1]
    columns = np.asarray(csr.indices[start:end])
    weights = np.asarray(csr.data[start:end], dtype=np.float64)
    scores = np.zeros(csr.shape[0])
    base = matrix.base_rows
    if base and len(columns):
        starts = np.asarray(matrix.csc_indptr[columns])
        lengths = np.asarray(matrix.csc_indptr[columns + 1]) - starts
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
        hits = np.asarray(matrix.csc_indices[offsets])
        values = np.asarray(matrix.csc_data[offsets]) * np.repeat(weights, lengths)
        scores[:base] = np.bincount(hits, values, minlength=base)
    if csr.shape[0] > base and len(columns):
        dense = np.zeros(csr.shape[1])
        dense[columns] = weights
        tail = csr[base:]
        scores[base:] = tail @ dense
    return scores


def similar(
    archive: Archive,
    folder: Path | SimilarIndex,
    ref: str,
    limit: int = LIMIT,
    *,
    refresh_missing: bool = False,
) -> Similar:
    """The papers nearest the paper ``ref`` (an id, or a prefix naming one paper). A paper with no
    features yet has none; with ``refresh_missing``, the features are brought up to date first
    (which loads scikit-learn: the CLI does, a chat reply should not)."""
    if not 1 <= limit <= MAX_LIMIT:
        from bot.errors import QueryError

        raise QueryError(f"--limit must be a number from 1 to {MAX_LIMIT}, not {limit}")
    paper = find_paper(archive, ref)
    index = folder if isinstance(folder, SimilarIndex) else SimilarIndex(folder)
    if refresh_missing and not index.knows(paper.id):
        from bot.suggest.refresh import refresh

        refresh(archive, index.store.folder)
    found = index.nearest(paper.id, limit)
    if found is None:
        return Similar(paper, (), analysed=False)
    with archive.engine.connect() as conn:
        titles = {p.id: p.title for p in load_papers(conn, [paper_id for paper_id, _ in found])}
    related = tuple(Related(i, titles[i], round(score, 4)) for i, score in found if i in titles)
    return Similar(paper, related)
