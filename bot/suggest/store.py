"""The features and models on disk, beside the database: what ``refresh`` keeps between runs and
what ``similar`` reads.

The folder (``folder_for``) sits next to a SQLite file (``paperboy.db.suggest/``), or in
PAPERBOY_DATA_DIR for PostgreSQL (``paperboy-1a2b3c4d.suggest/``, named by the database and a
hash of its address). It is a cache: deleting it costs one rebuild, never a suggestion or a
decision (those are in the database). It holds:

- ``state.json``: which paper each row is (with the marks of the entries it was built from),
  the sizes below, and each tag's training record. Written last, by rename: it is the commit,
  and anything beyond the sizes it states is a half-finished write to be ignored.
- ``gN/``, one generation of features: ``idf.npy``; the rows as a CSR matrix in three raw files
  that new rows are appended to (``csr-data.f32``, ``csr-indices.i32``, ``csr-indptr.i64``); and
  the same rows as they were at the build, column by column (``csc-*.npy``), which ``similar``
  reads to touch only the papers sharing a term with the asked one. A rebuild writes ``gN+1``
  beside it and commits; a reader holding the old files open keeps reading them.
- ``models-N.npz``: the classifiers' weights (``model.py``).
- ``related-N.rows.npy`` and ``related-N.scores.npy``: each row's nearest rows and their scores
  (``related.py``), written whole by each refresh that changes them, under a new name, with
  ``related-N.ids`` (each row's paper id, a line each; an empty line for a superseded row);
- ``related.json``: which lists are committed and the sizes of the rows they index, written
  just after ``state.json``, so that the web's readers (an update, each export worker) need not
  parse the state's every row to read the lists. Every file it names is whole before it is
  written; after a crash between the two it names the lists before, still on disk.

Only one process changes the folder at a time (a lock file; none on Windows); readers take no
lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from bot.archive.store import Archive

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

FORMAT = 1
STATE = "state.json"
POINTER = "related.json"
SUFFIX = ".suggest"
CSR = (("data", "f32", np.float32), ("indices", "i32", np.int32), ("indptr", "i64", np.int64))
CSC = ("data", "indices", "indptr")


def folder_for(database_url: str, data_dir: Path) -> Path:
    """Where the features of the database at ``database_url`` are kept."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() == "sqlite":
        in_memory = not database or database == ":memory:" or "mode=memory" in database
        if in_memory:  # gone with the process, and so are its features: never beside the code
            return Path(tempfile.gettempdir()) / f"paperboy-memory-{os.getpid()}{SUFFIX}"
        path = Path(database.removeprefix("file:").split("?")[0]).expanduser()
        return path.with_name(path.name + SUFFIX)
    address = url.set(password=None).render_as_string(hide_password=False)
    digest = hashlib.sha256(address.encode()).hexdigest()[:8]
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(database).name) or "archive"
    return data_dir / f"{name}-{digest}{SUFFIX}"


def features_of(archive: Archive, data_dir: Path) -> Path:
    """Where the features of the database ``archive`` has open are kept: found from the archive
    itself, so a process never reads another database's (its settings may name another)."""
    return folder_for(archive.engine.url.render_as_string(hide_password=False), data_dir)


@dataclass
class State:
    """What the folder holds. ``rows[i]`` is ``[paper_id, entries, top]`` (the paper's number of
    entries and highest entry key when the row was built: its mark), or None once superseded."""

    archive: str
    generation: int = 0
    rows: list[list[Any] | None] = field(default_factory=list)
    nnz: int = 0
    #: Rows in the column files; later rows are only in the CSR files.
    base_rows: int = 0
    #: Papers the idf was fitted on, and rows added or dropped since.
    fitted: int = 0
    drift: int = 0
    #: The archive's quick mark at the last refresh (``refresh.probe``).
    probe: list[Any] = field(default_factory=list)
    models: str | None = None
    #: The stem of the related lists' files; None until they are computed (just after a build).
    related: str | None = None
    #: Each tag's training record (``model.TagRecord`` as a dict).
    tags: dict[str, dict[str, Any]] = field(default_factory=dict)
    format: int = FORMAT

    def live(self) -> dict[str, int]:
        """Each paper's current row, worked out once per state (a refresh asks several times, and
        at 100,000 papers each costs 0.1 s): a state's rows are never changed in place, a new
        state is made instead (``dataclasses.replace``), which does not carry this over."""
        found: dict[str, int] | None = self.__dict__.get("_live")
        if found is None:
            found = {row[0]: number for number, row in enumerate(self.rows) if row is not None}
            self.__dict__["_live"] = found
        return found


@dataclass(frozen=True)
class Lists:
    """Each row's nearest rows (-1: none) and their scores, best first (``related.py``)."""

    rows: np.ndarray
    scores: np.ndarray


@dataclass(frozen=True)
class Stored:
    """The committed lists as ``related.json`` names them: the rows' paper ids ("" for a
    superseded row), the lists, and what maps the rows they index (``FeatureStore.rows_of``)."""

    generation: int
    nnz: int
    base_rows: int
    ids: list[str]
    lists: Lists


@dataclass(frozen=True)
class Matrix:
    """The committed rows: ``csr`` (every row, superseded ones too), the first ``base_rows`` by
    column (``csc_*``, raw arrays), which rows are live, and the idf."""

    csr: sp.csr_matrix
    csc_data: np.ndarray
    csc_indices: np.ndarray
    csc_indptr: np.ndarray
    base_rows: int
    live: np.ndarray
    idf: np.ndarray


class FeatureStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock: one refresh at a time (another waits for it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield

    def state(self) -> State | None:
        """The committed state; None if there is none, or one this code cannot read."""
        try:
            raw = json.loads((self.folder / STATE).read_text())
            state = State(**raw)
        except (OSError, ValueError, TypeError):
            return None
        return state if state.format == FORMAT else None

    def damaged(self, state: State) -> str:
        """Why the files ``state`` commits cannot be read as it describes them ("": they can).
        Someone may have deleted or truncated a file of the cache (a full disk, a backup
        restored half-way): then it is rebuilt, never read as if it were whole."""
        try:
            matrix = self.matrix(state)
            by_column = len(matrix.csc_indptr) == matrix.csr.shape[1] + 1 and (
                int(matrix.csc_indptr[-1]) == len(matrix.csc_data) == len(matrix.csc_indices)
            )
            built = int(matrix.csr.indptr[state.base_rows]) if state.rows else 0
            if not by_column or built != len(matrix.csc_data) or len(matrix.idf) != matrix.csr.shape[1]:
                return "the features on disk are damaged"
        except (OSError, ValueError, IndexError):
            return "the features on disk are missing or damaged"
        if state.models and not (self.folder / state.models).is_file():
            return "the classifiers on disk are missing"
        return ""

    def commit(self, state: State) -> None:
        """Make ``state`` the folder's, then remove the generations and models it left behind."""
        # Shallow: dataclasses.asdict copies each of the rows' lists (seconds at 100,000 papers).
        fields = {name: getattr(state, name) for name in state.__dataclass_fields__}
        _write_atomic(self.folder / STATE, json.dumps(fields, separators=(",", ":")).encode())
        stem = state.related
        if stem and not (self.folder / f"{stem}.ids").is_file():  # lists an earlier version kept
            ids = "".join(f"{row[0] if row is not None else ''}\n" for row in state.rows)
            _write_atomic(self.folder / f"{stem}.ids", ids.encode())
        pointer = {"related": stem, "generation": state.generation, "nnz": state.nnz}
        pointer |= {"base_rows": state.base_rows, "rows": len(state.rows)}
        _write_atomic(self.folder / POINTER, json.dumps(pointer).encode())
        keep = {f"g{state.generation}", state.models, "lock", STATE, POINTER}
        keep |= {f"{stem}.{part}" for part in ("rows.npy", "scores.npy", "ids")} if stem else set()
        for path in self.folder.iterdir():
            if path.name in keep or path.name.endswith(".tmp"):
                continue
            if path.is_dir() and path.name.startswith("g"):
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(("models-", "related-")):
                path.unlink(missing_ok=True)

    def mend(self, state: State) -> None:
        """Commit ``state`` again if its lists lack ``related.json`` (an earlier version kept
        them): a refresh with nothing else to do gives the web its lists back."""
        if state.related and not (self.folder / POINTER).is_file():
            self.commit(state)

    def save_lists(self, lists: Lists, ids: list[str]) -> str:
        """Write ``lists`` and the rows' paper ids under a new name (a reader holding the old
        files keeps them); the stem to put in the state."""
        stem = f"related-{uuid.uuid4().hex[:12]}"
        _write_atomic(self.folder / f"{stem}.ids", "".join(f"{paper}\n" for paper in ids).encode())
        for part, array in (("rows", lists.rows), ("scores", lists.scores)):
            with open(self.folder / f"{stem}.{part}.npy", "wb") as handle:
                np.save(handle, array)
                handle.flush()
                os.fsync(handle.fileno())
        return stem

    def lists(self, state: State) -> Lists | None:
        """The related lists ``state`` commits, mapped; None if there are none (yet) or they do
        not cover its rows (damaged: the next build writes them again)."""
        if not state.related:
            return None
        try:
            stem = self.folder / state.related
            rows, scores = (np.load(f"{stem}.{part}.npy", mmap_mode="r") for part in ("rows", "scores"))
        except (OSError, ValueError):
            return None
        if rows.shape != scores.shape or rows.shape[0] != len(state.rows):
            return None
        return Lists(rows, scores)

    def stored(self) -> Stored | None:
        """The committed lists with their rows' ids, read without the state (``related.json``);
        None if there are none, or they are missing or damaged (the next refresh mends them)."""
        try:
            pointer = json.loads((self.folder / POINTER).read_bytes())
            if not pointer["related"]:
                return None
            stem, rows = self.folder / str(pointer["related"]), int(pointer["rows"])
            ids = (self.folder / f"{stem}.ids").read_text().split("\n")[:-1]
            lists = Lists(*(np.load(f"{stem}.{part}.npy", mmap_mode="r") for part in ("rows", "scores")))
            found = Stored(
                int(pointer["generation"]), int(pointer["nnz"]), int(pointer["base_rows"]), ids, lists
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        shapes = {lists.rows.shape, lists.scores.shape}
        return found if len(ids) == rows and shapes == {(rows, lists.rows.shape[1])} else None

    def rows_of(self, stored: Stored) -> Matrix:
        """The rows ``stored``'s lists index, mapped (as ``matrix`` maps a state's)."""
        live = np.array([paper != "" for paper in stored.ids], dtype=bool)
        return self._rows(stored.generation, stored.nnz, stored.base_rows, live)

    def write_generation(self, state: State, matrix: sp.csr_matrix, idf: np.ndarray) -> State:
        """All rows anew (``state.rows`` must describe them), in a new generation folder."""
        generation = state.generation + 1
        target = self.folder / f"g{generation}"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        np.save(target / "idf.npy", idf)
        for (name, suffix, dtype), array in zip(
            CSR, (matrix.data, matrix.indices, matrix.indptr), strict=True
        ):
            np.asarray(array, dtype=dtype).tofile(target / f"csr-{name}.{suffix}")
        columns = matrix.tocsc()
        for name in CSC:
            np.save(target / f"csc-{name}.npy", getattr(columns, name))
        _sync_folder(target)
        return replace(state, generation=generation, nnz=int(matrix.nnz), base_rows=matrix.shape[0])

    def append(self, state: State, matrix: sp.csr_matrix) -> State:
        """Add ``matrix``'s rows after the committed ones (``state.rows`` must already list them)."""
        target = self.folder / f"g{state.generation}"
        committed = (state.nnz, state.nnz, len(state.rows) - matrix.shape[0] + 1)
        arrays = (matrix.data, matrix.indices, matrix.indptr[1:] + state.nnz)
        for (name, suffix, dtype), size, array in zip(CSR, committed, arrays, strict=True):
            with open(target / f"csr-{name}.{suffix}", "r+b") as handle:
                handle.truncate(size * np.dtype(dtype).itemsize)  # what a crash left half-written
                handle.seek(0, os.SEEK_END)
                handle.write(np.asarray(array, dtype=dtype).tobytes())
                handle.flush()
                os.fsync(handle.fileno())
        return replace(state, nnz=state.nnz + int(matrix.nnz))

    def matrix(self, state: State) -> Matrix:
        """The committed rows, mapped from the files (nothing is read until it is used)."""
        live = np.array([row is not None for row in state.rows], dtype=bool)
        return self._rows(state.generation, state.nnz, state.base_rows, live)

    def _rows(self, generation: int, nnz: int, base_rows: int, live: np.ndarray) -> Matrix:
        source = self.folder / f"g{generation}"
        sizes = (nnz, nnz, len(live) + 1)
        data, indices, indptr = (
            _mapped(source / f"csr-{name}.{suffix}", dtype, size)
            for (name, suffix, dtype), size in zip(CSR, sizes, strict=True)
        )
        csr = sp.csr_matrix((data, indices, indptr), shape=(len(live), _columns(source)))
        by_column = [np.load(source / f"csc-{name}.npy", mmap_mode="r") for name in CSC]
        idf = np.load(source / "idf.npy", mmap_mode="r")
        return Matrix(csr, by_column[0], by_column[1], by_column[2], base_rows, live, idf)


def _columns(source: Path) -> int:
    return int(np.load(source / "idf.npy", mmap_mode="r").shape[0])


def _mapped(path: Path, dtype: Any, size: int) -> np.ndarray:
    if size == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(size,))


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
