"""The templates page's render check, run off the visit path: compiling every template and
rendering a day of 100 papers for each channel takes most of a second, so a thread does it when
the console starts, when a visit finds the template files (or the newest day) changed, and when
the operator asks again. The page shows the last result and when it was taken."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.archive import queries
from bot.archive.store import Archive
from bot.channels.web.console.previews import TemplateCheck, check_templates

log = logging.getLogger("paperboy.console")
#: What a check depends on: each template file's path, size and modification time, and the day.
Key = tuple[object, ...]


@dataclass(frozen=True)
class Checked:
    checks: list[TemplateCheck]
    at: dt.datetime
    day: dt.date | None


@dataclass(frozen=True)
class CheckState:
    last: Checked | None
    #: A check is under way (its result replaces ``last`` when it ends).
    running: bool


class TemplateChecker:
    def __init__(
        self,
        shipped: Path,
        override: Path | None,
        archive: Archive,
        base_url: str | None,
        clock: Callable[[], dt.datetime],
    ) -> None:
        self.shipped, self.override = shipped, override
        self.archive, self.base_url, self.clock = archive, base_url, clock
        self._lock = threading.Lock()
        self._last: Checked | None = None
        self._key: Key | None = None  # what the last check started (or the running one) saw
        self._thread: threading.Thread | None = None

    def key(self) -> Key:
        """Cheap: two folders' listings and one small query."""
        newest = queries.newest_days(self.archive, 1)
        return (fingerprint(self.shipped), fingerprint(self.override), newest[0] if newest else None)

    def state(self) -> CheckState:
        """The last result; a visit that finds the files or the day changed starts a check."""
        key = self.key()
        with self._lock:
            if key != self._key:
                self._start(key)
            return CheckState(self._last, self._running())

    def start(self) -> None:
        """Check now (unless a check is under way), whatever changed."""
        key = self.key()
        with self._lock:
            self._start(key)

    def wait(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self, key: Key) -> None:
        if self._running():
            return  # the visit after it ends sees whether the files changed again meanwhile
        self._key = key
        self._thread = threading.Thread(target=self._run, args=(key,), name="template-check", daemon=True)
        self._thread.start()

    def _run(self, key: Key) -> None:
        day = key[-1] if isinstance(key[-1], dt.date) else None
        try:
            checks = check_templates(self.shipped, self.override, self.archive, day, self.base_url)
        except Exception as exc:  # the archive gone away (shutdown), a folder unreadable
            log.warning("the template check stopped: %s", exc)
            checks = [TemplateCheck("the check", f"stopped: {exc}")]
        with self._lock:
            self._last = Checked(checks, self.clock(), day)


def fingerprint(folder: Path | None) -> tuple[tuple[str, int, int], ...]:
    if folder is None or not folder.is_dir():
        return ()
    found = []
    for path in folder.rglob("*"):
        try:
            stat = path.stat()
        except OSError:  # gone between the listing and the look
            continue
        found.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))
