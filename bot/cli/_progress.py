"""Progress bars for long work, on a terminal only.

An operator ingesting a folder of thousands of posts or fanning a day out to thousands of
subscribers wants to see it move; a log file, a pipe or a Procfile runner wants plain lines and
nothing else. tqdm decides by whether stderr is a terminal (``disable=None``), and short work
(under ``MIN_TOTAL`` items) never shows a bar at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm

MIN_TOTAL = 20


@contextmanager
def progress(total: int, desc: str, unit: str = "it") -> Iterator[Callable[[int], None]]:
    """Advance the bar by calling the yielded function with a count."""
    with tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        disable=None if total >= MIN_TOTAL else True,
        dynamic_ncols=True,
        leave=False,
    ) as bar:

        def advance(count: int) -> None:
            bar.update(count)

        yield advance


def say(line: str) -> None:
    """A line on stdout that does not tear a bar drawn on stderr."""
    tqdm.write(line, file=sys.stdout)
