"""How good the suggestions are: leave-one-out over the curator's tagged papers.

Each tagged paper in turn is taken out of the curator's papers, as if it had arrived untagged
(a Hugging Face listing's paper, say); every tag's classifier is trained on the others exactly
as ``refresh`` trains it (the same sample, out-of-fold threshold and AUC rule), and the tags
suggested for the paper are compared with the ones the curator gave it. Precision: of the tags
suggested, how many the curator had given; recall: of the tags the curator gave, how many were
suggested. A tag with too few other papers cannot be suggested at all, so recall is also given
over the tags that could be (``recall_learnable``). One training per tag and paper: for the
seeds (18 tagged papers) a few seconds; for a large archive use a sample (``papers``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select

from bot.archive.schema import paper_tags
from bot.archive.store import Archive
from bot.archive.suggestions import REJECTED, decided
from bot.suggest.model import MIN_EXAMPLES, suggests, train
from bot.suggest.refresh import refresh
from bot.suggest.store import FeatureStore


@dataclass(frozen=True)
class Quality:
    papers: int  # tagged papers, each left out once
    given: int  # (paper, tag) pairs the curator gave them
    learnable: int  # of those, pairs whose tag had MIN_EXAMPLES other papers
    hits: int  # given pairs suggested back
    wrong: int  # suggested pairs the curator had not given
    #: Per tag: (hits, wrong, missed).
    per_tag: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    #: The suggestions the curator had not given: (paper, tag).
    wrong_pairs: tuple[tuple[str, str], ...] = ()

    @property
    def precision(self) -> float | None:
        return self.hits / (self.hits + self.wrong) if self.hits + self.wrong else None

    @property
    def recall(self) -> float | None:
        return self.hits / self.given if self.given else None

    @property
    def recall_learnable(self) -> float | None:
        return self.hits / self.learnable if self.learnable else None


def leave_one_out(archive: Archive, folder: Path, papers: int | None = None) -> Quality:
    """Leave-one-out over the curator's tagged papers (the first ``papers`` of them by id)."""
    refresh(archive, folder)
    store = FeatureStore(folder)
    state = store.state()
    assert state is not None
    matrix = store.matrix(state)
    row_of = state.live()
    tags_of: dict[str, set[str]] = {}
    with archive.engine.connect() as conn:
        for paper_id, tag in conn.execute(select(paper_tags.c.paper_id, paper_tags.c.tag)):
            if paper_id in row_of:
                tags_of.setdefault(paper_id, set()).add(tag)
        rejected = decided(conn, REJECTED)
    by_tag: dict[str, set[str]] = {}
    for paper_id, tags in tags_of.items():
        for tag in tags:
            by_tag.setdefault(tag, set()).add(paper_id)
    tagged = sorted(tags_of)
    chosen = tagged[:papers] if papers else tagged
    hits, wrong, missed = Counter[str](), Counter[str](), Counter[str]()
    learnable = 0
    wrong_pairs: list[tuple[str, str]] = []
    for left_out in chosen:
        others = [row_of[p] for p in tagged if p != left_out]
        row = matrix.csr[row_of[left_out]]
        for tag, members in sorted(by_tag.items()):
            positives = members - {left_out}
            truth = tag in tags_of[left_out]
            if len(positives) < MIN_EXAMPLES:
                missed[tag] += truth
                continue
            learnable += truth
            rows = np.array(sorted(row_of[p] for p in positives))
            negatives = np.setdiff1d(np.array(others), rows)
            refused = np.array(
                sorted(row_of[p] for p in rejected.get(tag, ()) if p in row_of and p != left_out)
            )
            trained = train(
                matrix.csr, tag, rows, negatives, refused, papers=len(positives), labeled=len(others)
            )
            threshold = trained.record.threshold
            if trained.weights is None or threshold is None:
                missed[tag] += truth
                continue
            score = float((row @ trained.weights)[0])
            suggested = bool(suggests(score, threshold))
            hits[tag] += suggested and truth
            wrong[tag] += suggested and not truth
            if suggested and not truth:
                wrong_pairs.append((left_out, tag))
            missed[tag] += truth and not suggested
    given = sum(len(tags_of[p]) for p in chosen)
    per_tag = {tag: (hits[tag], wrong[tag], missed[tag]) for tag in sorted(by_tag)}
    return Quality(
        len(chosen), given, learnable, sum(hits.values()), sum(wrong.values()), per_tag, tuple(wrong_pairs)
    )
