"""Feeds as RSS readers expect them: the right Content-Type, ETag and Last-Modified, 304 when
nothing changed, gzip when asked for.

Readers poll every few minutes, so a poll must cost next to nothing. Each feed file is read,
hashed and gzipped once per version of the file on disk (known by inode, size and mtime, which
an export's folder swap always changes) and kept in a small LRU; a poll then costs one stat().
The ETag is the content's hash, so an export that rewrites identical bytes still answers 304.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import os
from collections import OrderedDict
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response

RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
#: Readers may reuse a feed this long before asking again (and then mostly get a 304).
CACHE_CONTROL = "public, max-age=300"
CAPACITY = 512


@dataclass(frozen=True)
class FeedFile:
    version: tuple[int, int, int]  # inode, size, mtime_ns
    body: bytes
    gzipped: bytes
    etag: str  # the quoted hash of the bytes
    #: The gzipped bytes are another representation, so they get their own tag.
    gzip_etag: str
    modified: dt.datetime  # whole seconds, as Last-Modified carries them
    last_modified: str  # the same, as the header writes it


class FeedFiles:
    """The feed files under ``site``, read once per version."""

    def __init__(self, site: Path, capacity: int = CAPACITY) -> None:
        self.site = site
        self.capacity = capacity
        self._cache: OrderedDict[str, FeedFile] = OrderedDict()

    def get(self, relative: str) -> FeedFile | None:
        """The feed at ``relative`` (a path this module's callers built, never user text as is)."""
        path = self.site / relative
        try:
            info = os.stat(path)
        except (OSError, ValueError):  # missing, a name too long, a NUL byte
            return None
        version = (info.st_ino, info.st_size, info.st_mtime_ns)
        cached = self._cache.get(relative)
        if cached is not None and cached.version == version:
            self._cache.move_to_end(relative)
            return cached
        try:
            body = path.read_bytes()
        except OSError:
            return None
        modified = dt.datetime.fromtimestamp(info.st_mtime_ns // 1_000_000_000, dt.UTC)
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        zipped = gzip.compress(body, compresslevel=6, mtime=0)
        http_date = format_datetime(modified, usegmt=True)
        loaded = FeedFile(version, body, zipped, f'"{digest}"', f'"{digest}-gz"', modified, http_date)
        self._cache[relative] = loaded
        self._cache.move_to_end(relative)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return loaded


def feed_response(feed: FeedFile, media_type: str, request_headers: Headers) -> Response:
    """200 with the feed (gzipped if the reader takes gzip), or 304 if the reader has it already."""
    zipped = accepts_gzip(request_headers.get("accept-encoding", ""))
    headers = {
        "ETag": feed.gzip_etag if zipped else feed.etag,
        "Last-Modified": feed.last_modified,
        "Cache-Control": CACHE_CONTROL,
        "Vary": "Accept-Encoding",
    }
    if not_modified(feed, request_headers):
        return Response(status_code=304, headers=headers)
    if zipped:
        headers["Content-Encoding"] = "gzip"
    return Response(feed.gzipped if zipped else feed.body, media_type=media_type, headers=headers)


def not_modified(feed: FeedFile, request_headers: Headers) -> bool:
    """RFC 9110 §13.1: If-None-Match decides when present (weak comparison), else If-Modified-Since."""
    if_none_match = request_headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or bool(tags & {feed.etag, feed.gzip_etag})
    since = request_headers.get("if-modified-since")
    if not since:
        return False
    try:
        when = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False  # a date we cannot read: send the feed
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return feed.modified <= when


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``gzip`` (or ``*``) is listed without ``q=0``."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        if name.strip() not in ("gzip", "x-gzip", "*"):
            continue
        quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            continue
    return False
