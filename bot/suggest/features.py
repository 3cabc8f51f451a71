"""From papers' text to the rows of the feature matrix: tf-idf over hashed tokens, one row a paper.

Hashing (scikit-learn's ``HashingVectorizer``) instead of a fitted vocabulary: a token's column
is a hash of the token, so a new paper's row is computed without refitting anything and without
a vocabulary of millions of n-grams in memory. The only fitted part is the **idf**, the weight of
each column, which comes from the document frequencies of the whole archive when the features are
built (``refresh.py`` decides when: at the first build, and again once the archive has changed by
a tenth since). Between two builds the idf is frozen: a paper added meanwhile is weighed with the
weights of the last build, and a token no paper had then (or only one paper had: ``MIN_DF``)
weighs nothing until the next.

A row is the paper's English block (``2**20`` columns) and its Korean block (``2**18``), each
l2-normalised, the Korean one then weighted ``KOREAN_WEIGHT``: the curator's Korean commentary
counts, without drowning the abstract, which is what papers without commentary (a Hugging Face
listing, bare abstracts) can be compared on. Each row keeps its ``KEEP`` heaviest terms and is
normalised again: dropping the long tail of light terms changes cosines little and halves the
matrix (which makes ``similar`` and the classifiers faster and the build fit in memory).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot.suggest.text import english_tokens, korean_tokens

N_ENGLISH = 1 << 20
N_KOREAN = 1 << 18
N_FEATURES = N_ENGLISH + N_KOREAN
#: The norm of the Korean block beside the English block's 1.
KOREAN_WEIGHT = 0.25
#: Terms kept per paper, the heaviest.
KEEP = 128
#: A token must appear in this many papers to weigh anything (one paper's token matches nothing).
MIN_DF = 2

_vectorizers: list[Any] = []


def counts(texts: Sequence[str]) -> sp.csr_matrix:
    """Each text's token counts: English columns, then Korean ones."""
    if not _vectorizers:
        from sklearn.feature_extraction.text import HashingVectorizer

        common = {"alternate_sign": False, "norm": None, "dtype": np.float32}
        _vectorizers.append(HashingVectorizer(analyzer=english_tokens, n_features=N_ENGLISH, **common))
        _vectorizers.append(HashingVectorizer(analyzer=korean_tokens, n_features=N_KOREAN, **common))
    english, korean = (vectorizer.transform(texts) for vectorizer in _vectorizers)
    return sp.hstack([english, korean], format="csr", dtype=np.float32)


def document_frequencies(raw: sp.csr_matrix) -> np.ndarray:
    """How many of ``raw``'s rows have each column (rows hold each column at most once)."""
    return np.bincount(raw.indices, minlength=N_FEATURES).astype(np.int64)


def idf_from(df: np.ndarray, papers: int) -> np.ndarray:
    """scikit-learn's smoothed idf, ``ln((1 + n) / (1 + df)) + 1``; zero below ``MIN_DF``."""
    idf = (np.log((1.0 + papers) / (1.0 + df)) + 1.0).astype(np.float32)
    idf[df < MIN_DF] = 0.0
    return idf


def weigh(raw: sp.csr_matrix, idf: np.ndarray) -> sp.csr_matrix:
    """Counts to unit rows: sublinear tf times idf, each block normalised and weighted, the
    ``KEEP`` heaviest terms of each row kept, the row normalised again."""
    n = raw.shape[0]
    lengths = np.diff(raw.indptr)
    rows = np.repeat(np.arange(n), lengths)
    data = (1.0 + np.log(raw.data, dtype=np.float32)) * idf[raw.indices]
    korean = raw.indices >= N_ENGLISH
    squares = data.astype(np.float64) ** 2
    norms = [np.sqrt(np.bincount(rows[mask], squares[mask], minlength=n)) for mask in (~korean, korean)]
    tiny = np.finfo(np.float32).tiny
    data *= np.where(
        korean, KOREAN_WEIGHT / np.maximum(norms[1][rows], tiny), 1.0 / np.maximum(norms[0][rows], tiny)
    ).astype(np.float32)
    # The heaviest KEEP of each row: sort by (row, -weight), rank within the row.
    order = np.lexsort((-data, rows))
    rank = np.arange(len(order)) - raw.indptr[rows[order]]
    chosen = np.sort(order[(rank < KEEP) & (data[order] > 0)])
    kept = data[chosen]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows[chosen], minlength=n), out=indptr[1:])
    kept_rows = rows[chosen]
    norm = np.sqrt(np.bincount(kept_rows, kept.astype(np.float64) ** 2, minlength=n))
    kept /= np.maximum(norm[kept_rows], tiny).astype(np.float32)
    return sp.csr_matrix(
        (kept.astype(np.float32), raw.indices[chosen].astype(np.int32), indptr), shape=(n, N_FEATURES)
    )


def build(chunks: list[sp.csr_matrix]) -> tuple[sp.csr_matrix, np.ndarray]:
    """All papers' rows and the idf fitted on them, from their counts in chunks. The list is
    emptied as the chunks are weighed, so the counts and the rows are not both held whole."""
    papers = sum(chunk.shape[0] for chunk in chunks)
    df = np.zeros(N_FEATURES, dtype=np.int64)
    for chunk in chunks:
        df += document_frequencies(chunk)
    idf = idf_from(df, papers)
    parts = []
    while chunks:
        parts.append(weigh(chunks.pop(0), idf))
    if not parts:
        return sp.csr_matrix((0, N_FEATURES), dtype=np.float32), idf
    return sp.vstack(parts, format="csr", dtype=np.float32), idf
