"""Reading many documents: in a worker process, overlapped with the caller's writes.

Parsing is pure Python and the archive's writes are mostly SQLite's own work, so on a machine
with two cores a bulk ingest runs both at once: a worker parses the next files while the
caller stores the previous ones. Small calls skip the worker, whose start costs ~0.3 s.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from bot.archive.parsers import ParseOptions, parse_document, read_document
from bot.errors import ParseError
from bot.models import Digest

#: Below this many bytes of input, parsing in process is faster than starting a worker.
WORKER_THRESHOLD = 2_000_000
IN_FLIGHT = 8


def parse_one(path: Path, options: ParseOptions) -> Digest | ParseError:
    """A file's digest, or the problem with it (returned, so one bad file stops nothing)."""
    try:
        return parse_document(read_document(path), options)
    except ParseError as exc:
        return exc


def parse_many(paths: Sequence[Path], options: ParseOptions) -> Iterator[tuple[Path, Digest | ParseError]]:
    """Each path with its digest or problem, in the order given.

    As with any multiprocessing, a script calling this must guard its entry point with
    ``if __name__ == "__main__":`` (the ``paperboy`` command does).
    """
    if len(paths) < 2 or _size(paths) < WORKER_THRESHOLD or (os.cpu_count() or 1) < 2:
        for path in paths:
            yield path, parse_one(path, options)
        return
    # forkserver: workers never inherit the caller's open database connections.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        # At most IN_FLIGHT files parsed ahead: a worker faster than the writes must not pile
        # parsed documents up in memory (Executor.map would submit every file at once).
        queue: deque[tuple[Path, Future[Digest | ParseError]]] = deque()
        for path in paths:
            queue.append((path, pool.submit(parse_one, path, options)))
            if len(queue) >= IN_FLIGHT:
                done, future = queue.popleft()
                yield done, future.result()
        while queue:
            done, future = queue.popleft()
            yield done, future.result()


def _size(paths: Sequence[Path]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):  # read_document reports it
            total += path.stat().st_size
    return total
