"""Changing a site folder while a web server may be serving it.

Every file is written under a temporary name in its own folder and renamed over the old one,
so a reader gets the old page or the new one, never half of either. The changes go in an
order that keeps every link working: first the pages that did not exist (nothing links to
them yet), then the pages that changed (now their new links have somewhere to go), then the
removals (nothing links to those any more). A file whose bytes did not change is not touched,
so its date stays, for caches and for ``rsync`` to a static host.

One process at a time changes a folder: the export and each update hold a lock on the folder
that holds it (``flock`` on the parent directory, which an export's swap leaves in place and
which needs no lock file left beside the site), so ``paperboy export-site`` run by hand, a
publish and the service taking a correction wait for each other. Windows has no ``flock``:
there the operator keeps them apart.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Applied:
    written: int  # files created or replaced
    unchanged: int  # files rendered anew whose bytes were already there
    removed: int


def write_atomic(path: Path, data: bytes) -> None:
    """``data`` at ``path``, by a rename from a temporary file beside it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def apply(site: Path, files: Mapping[str, bytes], removals: Iterable[str]) -> Applied:
    """Write ``files`` (paths relative to ``site``) and remove ``removals``, in the order above.
    One file after another: threads only made it slower (one folder's renames serialise)."""
    states = {name: _compare(site / name, data) for name, data in files.items()}
    new = [name for name, state in states.items() if state == "new"]
    changed = [name for name, state in states.items() if state == "changed"]
    for batch in (new, changed):
        for folder in sorted({(site / name).parent for name in batch}):
            folder.mkdir(parents=True, exist_ok=True)
        for name in batch:
            write_atomic(site / name, files[name])
    removed = sum(_remove(site / name) for name in sorted(set(removals) - files.keys()))
    return Applied(len(new) + len(changed), len(files) - len(new) - len(changed), removed)


@contextlib.contextmanager
def locked(target: Path) -> Iterator[None]:
    """Hold the lock of ``target``'s parent folder while the body changes ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:
        yield
        return
    descriptor = os.open(target.parent, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits for the export or update under way
        yield
    finally:
        os.close(descriptor)  # which releases the lock


def _compare(path: Path, data: bytes) -> str:
    try:
        return "same" if path.read_bytes() == data else "changed"
    except FileNotFoundError:
        return "new"


def _remove(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


#: Threads writing an export's files.
WRITERS = 4


class Writer:
    """Writes files from a few threads, a bounded number at a time, and counts them."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.threads = ThreadPoolExecutor(max_workers=WRITERS)
        self.pending: deque[Future[int]] = deque()
        self.count = 0

    def __call__(self, relative: str, content: str | bytes) -> None:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        self.pending.append(self.threads.submit((self.out / relative).write_bytes, data))
        self.count += 1
        while len(self.pending) > 4 * WRITERS:  # memory stays flat however big the archive
            self.pending.popleft().result()

    def flush(self) -> int:
        """Wait for every write (raising the first failure); the files written since last time."""
        while self.pending:
            self.pending.popleft().result()
        count, self.count = self.count, 0
        return count

    def close(self) -> int:
        count = self.flush()
        self.threads.shutdown(wait=True)
        return count


def swap(work: Path, target: Path) -> None:
    """Put the finished ``work`` folder in ``target``'s place (the old one removed after)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    work.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
