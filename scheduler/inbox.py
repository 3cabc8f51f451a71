"""The inbox: a folder a curator drops posts into; new or changed files are ingested."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from bot.archive.parsers import ParseOptions, parse_document, read_document
from bot.archive.store import Archive
from bot.errors import ParseError

log = logging.getLogger("paperboy.inbox")


class Inbox:
    def __init__(self, archive: Archive, folder: Path) -> None:
        self.archive = archive
        self.folder = folder
        self.seen: dict[Path, tuple[int, int]] = {}
        #: Days that posts corrected since the service last looked (it edits what was sent).
        self.corrected: list[dt.date] = []

    def scan(self) -> list[str]:
        """Ingest what changed since the last scan; the sources ingested (problems are logged)."""
        if not self.folder.is_dir():
            return []
        ingested = []
        for path in sorted(p for p in self.folder.iterdir() if p.is_file() and not p.name.startswith(".")):
            stat = path.stat()
            mark = (stat.st_mtime_ns, stat.st_size)
            if self.seen.get(path) == mark:
                continue
            self.seen[path] = mark
            try:
                report = self.archive.ingest(parse_document(read_document(path), ParseOptions()))
            except ParseError as exc:
                log.warning("inbox: %s", exc)
                continue
            if not report.unchanged:
                log.info("inbox: %s ingested, %d papers (%d new)", path.name, report.papers, report.new)
                ingested.append(report.source)
            if report.correction is not None:
                log.info(
                    "inbox: %s corrects %s (%s): the messages sent are edited",
                    path.name,
                    report.correction.day,
                    report.correction.summary(),
                )
                self.corrected.append(report.correction.day)
        return ingested
