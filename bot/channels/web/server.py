"""The web server: the exported archive and its feeds, with ETag and Last-Modified, so a feed
reader that polls gets 304 Not Modified until something changed (aiohttp's FileResponse)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

CONTENT_TYPES = {".xml": "application/rss+xml", ".atom": "application/atom+xml"}


def make_app(site: Path, routes: Sequence[web.RouteDef] = ()) -> web.Application:
    """The archive, after ``routes`` of other channels (the Telegram webhook), which go first."""

    async def serve(request: web.Request) -> web.StreamResponse:
        relative = request.match_info.get("path", "")
        root = site.resolve()
        target = (root / relative).resolve()
        if root != target and root not in target.parents:
            raise web.HTTPNotFound()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            raise web.HTTPNotFound(text="Not here. The archive's index is at /")
        response = web.FileResponse(target)
        if target.suffix in CONTENT_TYPES:
            response.content_type = CONTENT_TYPES[target.suffix]
        return response

    app = web.Application()
    app.router.add_routes(routes)
    app.router.add_get("/{path:.*}", serve)
    return app


async def start(site: Path, host: str, port: int, routes: Sequence[web.RouteDef] = ()) -> web.AppRunner:
    runner = web.AppRunner(make_app(site, routes), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
