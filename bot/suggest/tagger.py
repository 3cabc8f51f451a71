"""Tags for text that is not in the archive yet: a candidate pulled from Hugging Face or arXiv,
a paper in a curator's draft. Scored by the classifiers the last refresh saved, on a row weighed
with the idf of the last build, exactly as an untagged archived paper would be; nothing is
stored (the archive's suggestions are ``refresh.py``'s). The classifiers are read once per process
and read again only when a refresh has written new ones."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.suggest.features import counts, weigh
from bot.suggest.model import Models
from bot.suggest.store import FeatureStore
from bot.suggest.text import paper_text

#: Tags offered for one text, the most confident first.
MOST = 5


def tags_for(folder: Path, papers: Sequence[tuple[str, str, str]], most: int = MOST) -> list[tuple[str, ...]]:
    """The tags the model suggests for each ``(title, abstract, commentary)``, best first; no
    tags at all while there are no features or no tag the model may suggest."""
    store = FeatureStore(folder)
    state = store.state()
    if state is None or not state.models or not papers:
        return [() for _ in papers]
    try:
        models, idf = _loaded(folder / state.models, folder / f"g{state.generation}" / "idf.npy")
    except (OSError, ValueError):  # damaged or removed meanwhile: the next refresh rebuilds them
        return [() for _ in papers]
    if not models.tags:
        return [() for _ in papers]
    rows = weigh(counts([paper_text(*paper) for paper in papers]), idf)
    found: list[list[tuple[float, str]]] = [[] for _ in papers]
    for tag, scores in models.scores(rows).items():
        for n in np.flatnonzero(models.suggesting(tag, scores)):
            found[n].append((float(scores[n]), tag))
    return [tuple(tag for _, tag in sorted(pairs, key=lambda p: (-p[0], p[1]))[:most]) for pairs in found]


def _loaded(models: Path, idf: Path) -> tuple[Models, np.ndarray]:
    """The classifiers and the idf, read once per process while their files stay the same (a
    chat preview asks for tags on every post; a refresh writes new files, read on next use)."""
    try:
        stamps = tuple((found.st_mtime_ns, found.st_size) for found in (models.stat(), idf.stat()))
    except FileNotFoundError:  # a rebuild replaced them meanwhile: nothing to offer this time
        return Models.empty(), np.zeros(0)
    return _read(str(models), str(idf), stamps)


@functools.lru_cache(maxsize=4)
def _read(models: str, idf: str, stamps: tuple[tuple[int, int], ...]) -> tuple[Models, np.ndarray]:
    return Models.load(Path(models)), np.load(idf)
