"""Keeping the features, the classifiers and the suggestions in step with the archive.

``refresh`` is called after an ingest (``paperboy ingest`` once at the end of the call, the
running service after its inbox and every ``SUGGEST_EVERY`` seconds, which covers the curator's
desk and other processes' ingests), and by ``paperboy tag-suggestions refresh``. What it
recomputes, when, and why:

- **Nothing**, when the archive's probe (how many entries, their highest key, the curator's
  decisions) is what the last refresh saw: two aggregate queries.
- **The rows of the papers whose text changed**, when few did. A document that changes is
  rewritten whole under new entry keys (``ingest.write_digest``), so a paper changed exactly
  when its mark (its number of entries, their highest key) did. If no entry was removed since
  the last refresh (the usual new day), the changed papers are those of the new keys; otherwise
  every paper's mark is compared (one grouped scan of an index). Their rows are computed with
  the frozen idf and appended; their old rows are marked superseded.
- **All the features**, idf refitted, when more than ``REFIT_SHARE`` of the rows changed since
  the last build (the idf drifts, new words weigh nothing until then, and appended rows are
  outside the column index ``similar`` reads fastest), or when the folder is missing, damaged,
  or was built from another database.
- **A tag's classifier**, at every rebuild, when the number of the curator's papers with the
  tag changed by ``RETRAIN_SHARE`` (at least one), or when the curator rejected one of its
  suggestions. A tag with thousands of papers is not retrained for each new one: the model as it
  stands scores the new papers, and the share catches up with the drift.
- **Suggestions**: a retrained tag's for every paper; every other tag's for the changed papers.
- **Related lists** (``related.py``): after a build, all, as a second step committed on its own
  (a refresh stopped first leaves them to the next); else the changed rows' and their neighbours'.

So a new day at 100,000 papers costs what its hundred papers cost: reading and weighing them,
scoring them with each model, writing their suggestions (README, Performance).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sqlalchemy import Connection, func, select

from bot.archive.schema import entries, paper_tags, tag_suggestions, tags
from bot.archive.store import Archive
from bot.archive.suggestions import REJECTED, SUGGESTED, archive_token, decided, probe
from bot.archive.suggestions import replace as replace_suggestions
from bot.suggest.features import build, counts, weigh
from bot.suggest.model import Models, TagRecord, Trained, train
from bot.suggest.related import ids_of, relate
from bot.suggest.related import update as update_lists
from bot.suggest.store import STATE, FeatureStore, Matrix, State
from bot.suggest.text import joined, paper_text

REFIT_SHARE = 0.10
RETRAIN_SHARE = 0.10
READ_CHUNK = 2_000
CHUNK = 500


class Interrupted(Exception):
    """``stop`` said so: the refresh gave up before committing anything."""


def _never() -> bool:
    return False


@dataclass(frozen=True)
class RefreshReport:
    #: Nothing had changed since the last refresh.
    unchanged: bool = False
    #: More work than the caller allowed (``most``): nothing was done, a later refresh does it.
    deferred: bool = False
    #: The features were built anew (and every tag retrained), and why.
    rebuilt: bool = False
    reason: str = ""
    analysed: int = 0  # papers whose rows were computed
    dropped: int = 0  # papers that left the archive
    papers: int = 0  # papers with features
    retrained: dict[str, TagRecord] = field(default_factory=dict)
    suggesting: tuple[str, ...] = ()  # the tags whose model suggests
    written: int = 0  # suggestions written
    relisted: int = 0  # papers whose related lists changed
    seconds: float = 0.0  # all of it
    related_seconds: float = 0.0  # of which the related lists


def refresh(
    archive: Archive,
    folder: Path,
    *,
    rebuild: bool = False,
    most: int | None = None,
    now: dt.datetime | None = None,
    stop: Callable[[], bool] = _never,
) -> RefreshReport:
    """Bring the features in ``folder`` and the archive's suggestions up to date. ``rebuild``:
    everything anew. ``most``: do nothing if more papers than this need analysing (a bulk
    ingest leaves a first build to ``paperboy tag-suggestions refresh`` or the service).
    ``stop``: asked between chunks of work; once it says yes, ``Interrupted`` is raised and
    nothing is committed (a service that is stopping does not wait for a rebuild)."""
    began = time.perf_counter()
    store = FeatureStore(folder)
    with store.locked():
        with archive.engine.begin() as conn:
            token = archive_token(conn)
            mark = probe(conn)
        state = store.state()
        reason = "asked to rebuild" if rebuild else _unusable(store, state, token)
        if state is not None and not reason and state.probe == mark:
            if state.related is None and state.rows:  # a build's second step, not done yet
                lists_began = time.perf_counter()
                state, relisted = relate(store, state, lambda: _checked(stop))
                spent = time.perf_counter() - lists_began
                return RefreshReport(papers=len(state.live()), relisted=relisted, related_seconds=spent)
            store.mend(state)
            return RefreshReport(unchanged=True, papers=len(state.live()))
        usable = None if reason else state
        marks = _marks(archive, usable, mark)
        live = usable.live() if usable is not None else {}
        changed = sorted(
            paper_id for paper_id, paper_mark in marks.items() if _mark(usable, live, paper_id) != paper_mark
        )
        gone = sorted(live.keys() - marks.keys())
        drift = (usable.drift if usable is not None else 0) + len(changed) + len(gone)
        if usable is not None and drift > REFIT_SHARE * max(usable.fitted, 1):
            reason = f"{drift} of {usable.fitted} papers changed since the last build"
        if most is not None and (len(marks) if reason else len(changed)) > most:
            return RefreshReport(deferred=True, reason=reason, papers=len(live))
        if reason:
            generation = state.generation if state is not None else 0
            state, matrix = _build(store, archive, token, marks, generation, stop)
            models = Models.empty()
        else:
            assert usable is not None
            state, matrix = _update(store, archive, usable, marks, changed, gone, stop)
            models = Models.load(store.folder / state.models if state.models else None)
        trained, models, by_tag, by_paper = _train_and_score(
            archive, state, matrix, models, changed, rebuilt=bool(reason), stop=stop
        )
        with archive.engine.begin() as conn:
            written = replace_suggestions(conn, by_tag, by_paper, now=now or dt.datetime.now(dt.UTC))
        name = state.models
        if trained or reason:
            name = f"models-{uuid.uuid4().hex[:12]}.npz"
            models.save(store.folder / name)
        records = {**state.tags, **{tag: result.record.json() for tag, result in trained.items()}}
        records = {tag: record for tag, record in records.items() if record["papers"] > 0}
        lists_began, relisted, stem = time.perf_counter(), 0, None
        old = store.lists(usable) if usable is not None and not reason else None
        if old is not None and usable is not None:
            lists, relisted = update_lists(old, matrix, ids_of(state), len(usable.rows))
            stem = store.save_lists(lists, ids_of(state))
        lists_spent = time.perf_counter() - lists_began
        state = replace(state, probe=mark, models=name, tags=records, related=stem)
        store.commit(state)
        if stem is None and state.rows:
            lists_began = time.perf_counter()
            state, relisted = relate(store, state, lambda: _checked(stop))
            lists_spent = time.perf_counter() - lists_began
    return RefreshReport(
        rebuilt=bool(reason),
        reason=reason,
        analysed=len(marks) if reason else len(changed),
        dropped=len(gone),
        papers=len(state.live()),
        retrained={tag: result.record for tag, result in trained.items()},
        suggesting=models.tags,
        written=written,
        relisted=relisted,
        seconds=time.perf_counter() - began,
        related_seconds=lists_spent,
    )


def _mark(state: State | None, live: dict[str, int], paper_id: str) -> list[Any] | None:
    """The mark of the paper's row, if it has one."""
    row = state.rows[live[paper_id]] if state is not None and paper_id in live else None
    return row[1:] if row is not None else None


def _unusable(store: FeatureStore, state: State | None, token: str) -> str:
    """Why the folder's features cannot be updated but must be built anew ("": they can)."""
    if state is None:
        there = (store.folder / STATE).exists()
        return "the features on disk cannot be read" if there else "no features yet"
    if state.archive != token:
        return "the features on disk are another database's"
    return store.damaged(state)


def _marks(archive: Archive, state: State | None, mark: list[Any]) -> dict[str, list[int]]:
    """Each paper's mark (its number of entries, their highest key)."""
    grouped = select(entries.c.paper_id, func.count(), func.max(entries.c.pk)).group_by(entries.c.paper_id)
    with archive.engine.connect() as conn:
        if state is not None and len(state.probe) >= 2:
            old_count, old_top = int(state.probe[0] or 0), int(state.probe[1] or 0)
            newer = entries.c.pk > old_top
            added = conn.execute(select(func.count()).where(newer)).scalar_one()
            if mark[0] == old_count + added:  # nothing removed: only the new entries' papers changed
                found = {row[0]: row[1:] for row in state.rows if row is not None}
                ids = sorted(set(conn.scalars(select(entries.c.paper_id).where(newer))))
                for start in range(0, len(ids), CHUNK):
                    chunk = grouped.where(entries.c.paper_id.in_(ids[start : start + CHUNK]))
                    found.update({paper_id: [n, top] for paper_id, n, top in conn.execute(chunk)})
                return found
        return {paper_id: [n, top] for paper_id, n, top in conn.execute(grouped)}


def _texts(archive: Archive, ids: Sequence[str] | None) -> Iterator[tuple[list[str], list[str]]]:
    """Papers' texts (every entry's, each distinct text once), ``READ_CHUNK`` papers at a time,
    in id order: all papers streamed (``ids`` None), or these."""
    columns = (entries.c.paper_id, entries.c.title, entries.c.abstract, entries.c.commentary)
    stmt = select(*columns).order_by(entries.c.paper_id, entries.c.pk)
    if ids is None:
        batches = [stmt]
    else:
        batches = [stmt.where(entries.c.paper_id.in_(ids[n : n + CHUNK])) for n in range(0, len(ids), CHUNK)]
    found: list[str] = []
    texts: list[str] = []
    paper: str | None = None
    parts: list[tuple[str, str, str]] = []
    with archive.engine.connect() as conn:
        streaming = conn.execution_options(yield_per=READ_CHUNK)
        for batch in batches:
            for paper_id, title, abstract, commentary in streaming.execute(batch):
                if paper_id != paper:
                    if paper is not None:
                        found.append(paper)
                        texts.append(_text(parts))
                        if len(found) >= READ_CHUNK:
                            yield found, texts
                            found, texts = [], []
                    paper, parts = paper_id, []
                parts.append((title, abstract, commentary))
    if paper is not None:
        found.append(paper)
        texts.append(_text(parts))
    if found:
        yield found, texts


def _text(parts: list[tuple[str, str, str]]) -> str:
    return paper_text(*(joined(part[n] for part in parts) for n in range(3)))


def _checked(stop: Callable[[], bool]) -> None:
    if stop():
        raise Interrupted("the refresh was stopped before it committed anything")


def _build(
    store: FeatureStore,
    archive: Archive,
    token: str,
    marks: dict[str, list[int]],
    generation: int,
    stop: Callable[[], bool],
) -> tuple[State, Matrix]:
    kept: list[str] = []
    chunks = []
    for ids, texts in _texts(archive, None):
        _checked(stop)
        chosen = [n for n, paper_id in enumerate(ids) if paper_id in marks]
        kept += [ids[n] for n in chosen]
        chunks.append(counts([texts[n] for n in chosen]))
    matrix, idf = build(chunks)
    rows: list[list[Any] | None] = [[i, *marks[i]] for i in kept]
    state = State(archive=token, generation=generation, rows=rows, fitted=len(kept))
    state = store.write_generation(state, matrix, idf)
    return state, store.matrix(state)


def _update(
    store: FeatureStore,
    archive: Archive,
    state: State,
    marks: dict[str, list[int]],
    changed: list[str],
    gone: list[str],
    stop: Callable[[], bool],
) -> tuple[State, Matrix]:
    live = state.live()
    rows = list(state.rows)
    for paper_id in (*changed, *gone):
        if paper_id in live:
            rows[live[paper_id]] = None
    idf = np.asarray(store.matrix(state).idf)
    ids: list[str] = []
    parts = []
    for found, texts in _texts(archive, changed):
        _checked(stop)
        ids += found
        parts.append(weigh(counts(texts), idf))
    rows += [[paper_id, *marks[paper_id]] for paper_id in ids]
    state = replace(state, rows=rows, drift=state.drift + len(changed) + len(gone))
    if parts:
        state = store.append(state, sp.vstack(parts, format="csr"))
    return state, store.matrix(state)


def _needs(record: dict[str, Any] | None, papers: int, rejected: int) -> bool:
    if record is None:
        return papers > 0
    moved = abs(papers - record["papers"]) >= max(1.0, RETRAIN_SHARE * record["papers"])
    return bool(moved or rejected != record["rejected"])


@dataclass(frozen=True)
class _Labels:
    counts: dict[str, int]  # the curator's papers of each tag
    rejected: dict[str, set[str]]  # each tag's rejected papers
    positives: dict[str, list[str]]  # the papers of each tag to retrain
    labeled: set[str]  # every paper the curator tagged (read only when a tag is retrained)
    stale: set[str]  # tags with suggestions in the database (read only at a rebuild)
    curated_of: dict[str, set[str]]  # the changed papers' tags (read only when not rebuilt)


def _labels(conn: Connection, state: State, changed: list[str], rebuilt: bool) -> tuple[list[str], _Labels]:
    curated = {tag: int(n) for tag, n in conn.execute(select(tags.c.tag, tags.c.papers))}
    rejected = {tag: set(ids) for tag, ids in decided(conn, REJECTED).items()}
    due = sorted(
        tag
        for tag in set(curated) | set(state.tags)
        if rebuilt or _needs(state.tags.get(tag), curated.get(tag, 0), len(rejected.get(tag, ())))
    )
    positives: dict[str, list[str]] = {tag: [] for tag in due}
    for start in range(0, len(due), CHUNK):
        stmt = select(paper_tags.c.tag, paper_tags.c.paper_id)
        for tag, paper_id in conn.execute(stmt.where(paper_tags.c.tag.in_(due[start : start + CHUNK]))):
            positives[tag].append(paper_id)
    labeled = set(conn.scalars(select(paper_tags.c.paper_id).distinct())) if due else set()
    stale: set[str] = set()
    if rebuilt:
        stmt = select(tag_suggestions.c.tag).where(tag_suggestions.c.status == SUGGESTED).distinct()
        stale = set(conn.scalars(stmt))
    curated_of: dict[str, set[str]] = {}
    for start in range(0, 0 if rebuilt else len(changed), CHUNK):
        stmt = select(paper_tags.c.paper_id, paper_tags.c.tag)
        for paper_id, tag in conn.execute(
            stmt.where(paper_tags.c.paper_id.in_(changed[start : start + CHUNK]))
        ):
            curated_of.setdefault(paper_id, set()).add(tag)
    return due, _Labels(curated, rejected, positives, labeled, stale, curated_of)


def _train_and_score(
    archive: Archive,
    state: State,
    matrix: Matrix,
    models: Models,
    changed: list[str],
    *,
    rebuilt: bool,
    stop: Callable[[], bool],
) -> tuple[dict[str, Trained], Models, dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Retrain the tags that need it; then what each retrained tag suggests to every paper, and
    what the other tags suggest to the changed papers."""
    row_of = state.live()
    with archive.engine.connect() as conn:
        due, labels = _labels(conn, state, changed, rebuilt)

    def rows(ids: list[str] | set[str]) -> np.ndarray:
        return np.array(sorted(row_of[i] for i in ids if i in row_of), dtype=np.int64)

    labeled = np.zeros(len(state.rows), dtype=bool)
    labeled[rows(labels.labeled)] = True
    trained: dict[str, Trained] = {}
    for tag in due:
        _checked(stop)
        tagged = rows(labels.positives[tag])
        labeled[tagged] = False  # the others the curator tagged: a mask, not a set difference
        negatives = np.flatnonzero(labeled)
        labeled[tagged] = True
        refused = rows(labels.rejected.get(tag, set()))
        papers, pool = labels.counts.get(tag, 0), len(labels.labeled)
        trained[tag] = train(matrix.csr, tag, tagged, negatives, refused, papers=papers, labeled=pool)
    models = models.replace(trained)
    ids = [row[0] if row else "" for row in state.rows]
    by_tag: dict[str, dict[str, float]] = {tag: {} for tag in set(trained) | labels.stale}
    for tag, scores in models.scores(matrix.csr, tuple(trained)).items():
        exclude = set(labels.positives[tag]) | labels.rejected.get(tag, set())
        picked = np.flatnonzero(matrix.live & models.suggesting(tag, scores))
        by_tag[tag] = {ids[r]: float(scores[r]) for r in picked if ids[r] not in exclude}
    by_paper: dict[str, dict[str, float]] = {}
    fresh = [row_of[i] for i in changed if i in row_of]
    if fresh and not rebuilt:
        by_paper = {paper_id: {} for paper_id in changed}
        others = tuple(tag for tag in models.tags if tag not in trained)
        for tag, scores in models.scores(matrix.csr[fresh], others).items():
            said_no = labels.rejected.get(tag, set())
            for r, score, hit in zip(fresh, scores, models.suggesting(tag, scores), strict=True):
                paper_id = ids[r]
                mine = tag in labels.curated_of.get(paper_id, ())
                if hit and not mine and paper_id not in said_no:
                    by_paper[paper_id][tag] = float(score)
    return trained, models, by_tag, by_paper
