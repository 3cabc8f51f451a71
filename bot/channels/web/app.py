"""The web server's ASGI app (Starlette): the exported archive and its feeds, search, the feed
list, health, email sign-up, and the routes other channels bring (the Telegram webhook).

Routes are tried in order: other channels' first, then the server's own, then the archive's
files (``PAPERBOY_SITE_DIR``, as ``paperboy export-site`` and each publish write it). Errors
are pages that say what is wrong: never a traceback, whatever went wrong inside.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.archive.store import Archive
from bot.channels.email.signup import Mailer
from bot.channels.email.tokens import signer
from bot.channels.web.console.actions import Operations
from bot.channels.web.console.app import Console
from bot.channels.web.feedfiles import ATOM, RSS
from bot.channels.web.metrics import RequestMetrics
from bot.channels.web.pages import Pages
from bot.channels.web.reading import Reading
from bot.channels.web.security import HTML_HEADERS, Csrf, SecurityHeaders
from bot.channels.web.subscribe import Clock, SignupPages, _utcnow
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.render.environment import Templates


def make_app(
    settings: Settings,
    archive: Archive,
    routes: Sequence[BaseRoute] = (),
    mailer: Mailer | None = None,
    *,
    templates: Templates | None = None,
    clock: Clock = _utcnow,
    console: Operations | None = None,
) -> Starlette:
    """The app. Without a ``mailer`` there is no email sign-up (its pages answer 404); without
    ``console`` (what publishing and retrying from the console call) no console at /admin."""
    templates = templates or Templates(DEFAULT_TEMPLATES, settings.templates)
    pages = Pages(templates, settings.base_url)
    site = settings.site_dir
    site.mkdir(parents=True, exist_ok=True)  # before the first export, the archive is empty
    own: list[BaseRoute] = [*routes, *Reading(archive, site, settings.site_url, pages).routes()]
    admin = None
    if console is not None:
        csrf = Csrf(signer(settings), settings.base_url)
        admin = Console(archive, settings, templates, console, os.environ, csrf, clock=clock)
        own += admin.routes()
    if mailer is not None:
        own += SignupPages(archive, settings, mailer, pages, clock).routes()
    own.append(Mount("/", _SiteFiles(directory=site, html=True, check_dir=False), name="archive"))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            return _not_found(pages, request, signup=mailer is not None)
        if exc.status_code == 405:
            return pages.message(
                request, "Not here", f"{request.method} is not something this address answers.", status=405
            )
        return pages.message(request, "Not here", str(exc.detail), status=exc.status_code)

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette re-raises after this answer, and uvicorn logs the traceback: only the log has it.
        # This answer leaves from outside the middleware, so it takes the page headers itself.
        response = pages.message(
            request,
            "Something went wrong",
            "The server could not answer this request. It has been logged; try again later.",
            status=500,
        )
        response.headers.update({**HTML_HEADERS, "X-Content-Type-Options": "nosniff"})
        return response

    handlers: dict[Any, Any] = {HTTPException: http_error, Exception: server_error}
    return Starlette(
        routes=own,
        lifespan=admin.lifespan if admin else None,
        middleware=[
            Middleware(RequestMetrics),  # outermost: every answer counted, by route template
            Middleware(SecurityHeaders),
            # Pages are gzipped as they go; feeds come gzipped from their cache (feedfiles.py).
            Middleware(
                GZipMiddleware,
                minimum_size=1024,
                compresslevel=6,
                exclude_content_types=(
                    *DEFAULT_EXCLUDED_CONTENT_TYPES,
                    RSS.split(";")[0],
                    ATOM.split(";")[0],
                ),
            ),
        ],
        exception_handlers=handlers,
    )


class _SiteFiles(StaticFiles):
    """The exported files, but none whose name starts with a dot: the site's own record
    (``.paperboy-site/``) and the temporary files of an update under way are not pages."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if any(part.startswith(".") and part != "." for part in path.replace("\\", "/").split("/")):
            return "", None
        return super().lookup_path(path)


def _not_found(pages: Pages, request: Request, *, signup: bool) -> Response:
    if request.url.path in ("/", "/index.html"):
        text = "Nothing has been published yet: the archive appears here after the first digest."
        return pages.message(request, "Nothing here yet", text, status=404)
    if request.url.path.startswith(("/subscribe", "/confirm/", "/unsubscribe/")) and not signup:
        text = "Email sign-up is not set up on this server."
        return pages.message(
            request, "No email sign-up here", text, status=404, link=("index.html", "The archive")
        )
    return pages.message(
        request,
        "Not found",
        "There is no page at this address.",
        status=404,
        link=("index.html", "The archive"),
    )
