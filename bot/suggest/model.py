"""One linear classifier per tag, trained on the curator's tagged papers, and when it may speak.

As arxiv-sanity-lite does: a linear SVM (scikit-learn's ``LinearSVC``, classes balanced) over
the tf-idf rows of ``features.py``. Here it is trained on the papers the curator tagged: the
tag's papers are the positives, the curator's other tagged papers the negatives (with the papers
whose suggestion of this tag the curator rejected). Untagged papers are not negatives: they are
what the model is asked about, and a listing of new papers is not the curator saying "not #vq".
No intercept: a paper sharing nothing with the curator's papers scores 0, whatever the balance of
the classes, and a positive score means it reads more like the tag's papers than like the others.

A tag suggests nothing unless the model has shown it can recognise the tag:

- it has at least ``MIN_EXAMPLES`` of the curator's papers (two are not a topic, only two papers);
- its papers, each scored by a model trained without it (out of fold: leave-one-out on a small
  sample, 5-fold above ``SMALL``), rank above the other papers with an AUC of at least
  ``MIN_AUC`` (a tag whose papers the text cannot tell apart, such as a tag given at random,
  never guesses);
- a paper is suggested the tag when it scores at least the **median** out-of-fold score of the
  tag's own papers (and above 0): it reads at least as much like the tag as the curator's typical
  paper of that tag does, unseen. By construction about half of the curator's own papers would
  have been found again; the README gives the precision and recall measured.

Training is bounded: at most ``MAX_POSITIVES`` and ``MAX_NEGATIVES`` papers, a sample drawn
with a seed of the tag's name (the same papers every time), so a tag costs the same to train at
100 papers as at 100,000.
"""

from __future__ import annotations

import json
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot.suggest.features import N_FEATURES

MIN_EXAMPLES = 3
MIN_AUC = 0.8
MAX_POSITIVES = 500
MAX_NEGATIVES = 1000
SMALL = 60
#: The SVM's regularisation (arxiv-sanity-lite uses 0.01 on 30,000 features; these rows are
#: sparser and the samples smaller).
C = 0.1


@dataclass(frozen=True)
class TagRecord:
    """What a tag's last training saw and found (kept in ``state.json``)."""

    papers: int  # the curator's papers with the tag
    rejected: int  # suggestions of it the curator rejected
    labeled: int  # the curator's tagged papers, the pool of negatives
    auc: float | None = None
    threshold: float | None = None
    #: Why the tag suggests nothing ("" when it suggests).
    reason: str = ""

    def json(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.__dataclass_fields__}


@dataclass(frozen=True)
class Trained:
    record: TagRecord
    weights: np.ndarray | None  # dense, one per feature; None: the tag suggests nothing


def train(
    matrix: sp.csr_matrix,
    tag: str,
    positives: np.ndarray,
    negatives: np.ndarray,
    rejected: np.ndarray,
    *,
    papers: int,
    labeled: int,
) -> Trained:
    """Train ``tag``'s classifier on rows of ``matrix``: ``positives`` (the tag's papers),
    ``negatives`` (other tagged papers) and ``rejected`` (papers the curator said are not it)."""
    record = TagRecord(papers, len(rejected), labeled)
    if len(positives) < MIN_EXAMPLES:
        reason = f"too few examples: {len(positives)} of the curator's papers, {MIN_EXAMPLES} needed"
        return Trained(_with(record, reason=reason), None)
    rng = np.random.default_rng(zlib.crc32(tag.encode()))
    pos = _sample(positives, MAX_POSITIVES, rng)
    rejected = _sample(rejected, MAX_NEGATIVES, rng)
    others = negatives[~np.isin(negatives, rejected)] if len(rejected) else negatives
    neg = np.concatenate([rejected, _sample(others, MAX_NEGATIVES - len(rejected), rng)])
    if len(neg) < MIN_EXAMPLES:
        reason = f"too few papers without it to learn from: {len(neg)}, {MIN_EXAMPLES} needed"
        return Trained(_with(record, reason=reason), None)
    rows = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos), dtype=bool), np.zeros(len(neg), dtype=bool)])
    sample, columns = _compact(matrix[rows])
    unseen = out_of_fold(sample, labels)
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(labels, unseen))
    if auc < MIN_AUC:
        reason = f"its papers cannot be told from the others (AUC {auc:.2f}, {MIN_AUC} needed)"
        return Trained(_with(record, auc=auc, reason=reason), None)
    threshold = max(0.0, float(np.median(unseen[labels])))
    weights = np.zeros(N_FEATURES, dtype=np.float32)
    weights[columns] = _fit(sample, labels).coef_[0]
    return Trained(_with(record, auc=auc, threshold=threshold), weights)


def _compact(sample: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """The sample over only the columns it uses, and which columns those are. A few thousand of
    the 1.3 million: liblinear's cost per fit follows the width of what it is given, and a
    column no sampled paper has gets a weight of 0 anyway."""
    columns, inverse = np.unique(sample.indices, return_inverse=True)
    narrow = sp.csr_matrix(
        (sample.data, inverse.astype(np.int32), sample.indptr), shape=(sample.shape[0], len(columns))
    )
    return narrow, columns


def out_of_fold(sample: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Each paper's score by a model trained without it (leave-one-out, or 5-fold above SMALL)."""
    from sklearn.model_selection import LeaveOneOut, StratifiedKFold

    folds = min(5, int(labels.sum()), int((~labels).sum()))
    splitter = LeaveOneOut() if len(labels) <= SMALL else StratifiedKFold(folds, shuffle=True, random_state=0)
    scores = np.zeros(len(labels))
    for fitted_on, held_out in splitter.split(np.zeros(len(labels)), labels):
        if labels[fitted_on].all() or not labels[fitted_on].any():
            continue  # one class left: nothing to learn from (then it scores 0, as unseen text does)
        scores[held_out] = _fit(sample[fitted_on], labels[fitted_on]).decision_function(sample[held_out])
    return scores


def _fit(sample: sp.csr_matrix, labels: np.ndarray) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    # A fixed random_state: liblinear visits the papers in a random order, and the same
    # archive must give the same suggestions (scores equal to the last digit) every time.
    classifier = LinearSVC(C=C, class_weight="balanced", fit_intercept=False, max_iter=5000, random_state=0)
    with warnings.catch_warnings():
        # A model stopped at max_iter is still a usable one; the AUC check judges it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return classifier.fit(sample, labels)


def _sample(rows: np.ndarray, most: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``most`` of ``rows`` (sorted, distinct), drawn by ``rng``."""
    if len(rows) > 1 and not bool(np.all(rows[1:] > rows[:-1])):
        rows = np.unique(rows)  # callers pass sorted distinct rows: sorting 80,000 per tag costs
    return rows if len(rows) <= most else np.sort(rng.choice(rows, most, replace=False))


def _with(record: TagRecord, **changes: Any) -> TagRecord:
    return TagRecord(**{**record.json(), **changes})


def suggests(scores: np.ndarray | float, threshold: float) -> np.ndarray:
    """Which scores suggest a tag: at least its threshold, and above 0 (text that shares nothing
    with the curator's papers scores 0, whatever the threshold). The one rule the refresh, the
    tags of text not in the archive and the quality measure all apply."""
    found = np.asarray(scores)
    return (found >= threshold) & (found > 0)


@dataclass(frozen=True)
class Models:
    """The tags that suggest, with their weights (a row each) and thresholds."""

    tags: tuple[str, ...]
    weights: sp.csr_matrix  # len(tags) x N_FEATURES
    thresholds: np.ndarray

    @staticmethod
    def empty() -> Models:
        return Models((), sp.csr_matrix((0, N_FEATURES), dtype=np.float32), np.zeros(0))

    def replace(self, trained: dict[str, Trained]) -> Models:
        """These models with ``trained``'s tags retrained (a tag that no longer suggests goes)."""
        rows = {tag: (self.weights.getrow(i), self.thresholds[i]) for i, tag in enumerate(self.tags)}
        for tag, result in trained.items():
            rows.pop(tag, None)
            if result.weights is not None and result.record.threshold is not None:
                rows[tag] = (sp.csr_matrix(result.weights.reshape(1, -1)), result.record.threshold)
        tags = tuple(sorted(rows))
        if not tags:
            return Models.empty()
        weights = sp.vstack([rows[tag][0] for tag in tags], format="csr", dtype=np.float32)
        return Models(tags, weights, np.array([rows[tag][1] for tag in tags], dtype=np.float64))

    def scores(self, matrix: sp.csr_matrix, tags: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Each tag's decision values for every row of ``matrix``."""
        found = {}
        for i, tag in enumerate(self.tags):
            if tags is None or tag in tags:
                dense = np.asarray(self.weights.getrow(i).toarray()).ravel()
                found[tag] = np.asarray(matrix @ dense).ravel()
        return found

    def threshold(self, tag: str) -> float:
        return float(self.thresholds[self.tags.index(tag)])

    def suggesting(self, tag: str, scores: np.ndarray) -> np.ndarray:
        """Which of these scores suggest ``tag`` (``suggests``)."""
        return suggests(scores, self.threshold(tag))

    def save(self, path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(
                handle,
                tags=np.array(json.dumps(list(self.tags))),
                data=self.weights.data,
                indices=self.weights.indices,
                indptr=self.weights.indptr,
                thresholds=self.thresholds,
            )

    @staticmethod
    def load(path: Path | None) -> Models:
        if path is None or not path.exists():
            return Models.empty()
        with np.load(path) as saved:
            tags = tuple(json.loads(str(saved["tags"])))
            shape = (len(tags), N_FEATURES)
            weights = sp.csr_matrix((saved["data"], saved["indices"], saved["indptr"]), shape=shape)
            return Models(tags, weights, saved["thresholds"])
