"""The server's reading routes: feeds (with 304s), the feed list as OPML, search, health.

Database work (search, the health check) runs in a worker thread: SQLAlchemy here is
synchronous, and the event loop also answers feed readers and the Telegram webhook.
"""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.archive.search import MAX_QUERY_LENGTH, search
from bot.archive.store import HEAD_REVISION, Archive, schema_revision
from bot.channels.feeds import feed_path
from bot.channels.web.feedfiles import ATOM, RSS, FeedFiles, feed_response
from bot.channels.web.pages import Pages
from bot.errors import QueryError
from bot.render.context import paper_view

log = logging.getLogger("paperboy.web")
#: Results a search page shows (queued papers, not yet published, are left out).
RESULTS = 30
#: A query string longer than this is refused before anything else looks at it.
MAX_RAW_QUERY = 4 * MAX_QUERY_LENGTH


class Reading:
    def __init__(self, archive: Archive, site: Path, site_url: str, pages: Pages) -> None:
        self.archive = archive
        self.site = site
        self.site_url = site_url
        self.pages = pages
        self.feeds = FeedFiles(site)
        self._opml: tuple[tuple[int, int], bytes] | None = None

    def routes(self) -> list[Route]:
        return [
            Route("/feed.xml", self.main_rss, methods=["GET"]),
            Route("/atom.xml", self.main_atom, methods=["GET"]),
            Route("/tags/{tag}.xml", self.tag_rss, methods=["GET"]),
            Route("/tags/{tag}.atom", self.tag_atom, methods=["GET"]),
            Route("/feeds.opml", self.opml, methods=["GET"]),
            # The pages' forms send to search.html: on a static host, the exported page that
            # searches in the browser; here, the server's own search, with no script.
            Route("/search.html", self.search, methods=["GET"]),
            Route("/search", self.search, methods=["GET"]),
            Route("/healthz", self.health, methods=["GET"]),
        ]

    async def main_rss(self, request: Request) -> Response:
        return self._feed(request, feed_path("rss"), RSS)

    async def main_atom(self, request: Request) -> Response:
        return self._feed(request, feed_path("atom"), ATOM)

    async def tag_rss(self, request: Request) -> Response:
        return self._tag_feed(request, "rss")

    async def tag_atom(self, request: Request) -> Response:
        return self._tag_feed(request, "atom")

    def _tag_feed(self, request: Request, kind: str) -> Response:
        tag = request.path_params["tag"]
        # The path parameter never holds '/', but it could be '..' or hidden: only tag names pass.
        if tag.startswith(".") or "\\" in tag or "\x00" in tag or len(tag) > 100:
            return self._missing(request)
        if kind == "rss":
            return self._feed(request, feed_path("rss", tag), RSS)
        return self._feed(request, feed_path("atom", tag), ATOM)

    def _feed(self, request: Request, relative: str, media_type: str) -> Response:
        feed = self.feeds.get(relative)
        if feed is None:
            return self._missing(request)
        return feed_response(feed, media_type, request.headers)

    def _missing(self, request: Request) -> Response:
        return self.pages.message(
            request,
            "No such feed",
            "There is no feed at this address. The feeds of the archive and of every tag are"
            " listed in feeds.opml.",
            status=404,
            link=("feeds.opml", "All feeds (OPML)"),
        )

    async def opml(self, request: Request) -> Response:
        """The main feed and every tag's (RSS), so a reader imports them all in one go. Built
        from the feeds on disk, again only when an export has replaced the tags folder."""
        folder = self.site / "tags"
        try:
            info = folder.stat()
            version = (info.st_ino, info.st_mtime_ns)
        except OSError:
            version = (0, 0)
        if self._opml is None or self._opml[0] != version:
            tags = sorted(p.stem for p in folder.glob("*.xml")) if version != (0, 0) else []
            self._opml = (version, _opml(self.site_url, tags))
        return Response(self._opml[1], media_type="text/x-opml; charset=utf-8")

    async def search(self, request: Request) -> Response:
        if "q" not in request.query_params:
            return self.pages.render(request, "search.html", query="", results=[], error=None)
        raw = request.query_params["q"]
        problem = None
        if not raw.strip():
            problem = "Type a word or two to search for."
        elif len(raw) > MAX_RAW_QUERY:
            problem = f"The search is {len(raw)} characters long; keep it under {MAX_QUERY_LENGTH}."
        if problem is None:
            try:
                found = await asyncio.to_thread(search, self.archive, raw, RESULTS * 2)
            except QueryError as exc:
                problem = _sentence(str(exc))
        if problem is not None:
            query = raw[:MAX_QUERY_LENGTH]
            return self.pages.render(
                request, "search.html", status=400, query=query, results=[], error=problem
            )
        published = [paper_view(p, self.pages.base_url) for p in found.papers if p.date][:RESULTS]
        return self.pages.render(request, "search.html", query=found.query, results=published, error=None)

    async def health(self, request: Request) -> Response:
        """200 "ok" when the database answers with the schema this Paperboy uses, else 503."""
        try:
            revision = await asyncio.to_thread(schema_revision, self.archive.engine)
        except Exception as exc:  # any database failure: say so, don't crash the check
            log.warning("health check: the database does not answer: %s", type(exc).__name__)
            return PlainTextResponse("database unavailable\n", status_code=503)
        if revision != HEAD_REVISION:
            text = (
                f"database schema is {revision or 'missing'}, not {HEAD_REVISION}: run paperboy db upgrade\n"
            )
            return PlainTextResponse(text, status_code=503)
        return PlainTextResponse("ok\n")


def _opml(site_url: str, tags: list[str]) -> bytes:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = "Paperboy feeds"
    body = ET.SubElement(root, "body")
    main = ET.SubElement(body, "outline", text="Paperboy", title="Paperboy", type="rss")
    main.set("xmlUrl", f"{site_url}/{feed_path('rss')}")
    main.set("htmlUrl", f"{site_url}/")
    group = ET.SubElement(body, "outline", text="Paperboy tags", title="Paperboy tags")
    for tag in tags:
        item = ET.SubElement(group, "outline", text=f"Paperboy · #{tag}", title=f"Paperboy · #{tag}")
        item.set("type", "rss")
        item.set("xmlUrl", f"{site_url}/{feed_path('rss', tag)}")
        item.set("htmlUrl", f"{site_url}/tags/{tag}.html")
    ET.indent(root)
    xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return xml + b"\n"


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
