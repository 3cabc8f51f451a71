"""HTML pages the server renders per request (search, sign-up, errors), from ``templates/web``
through the same ``Templates`` as the exported archive, so they share its look and escaping.

Links stay relative, as in the export: ``root`` is the way back to the site's top from the
page's own path, so the server also works behind a proxy that mounts it under a prefix.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from bot.channels.web.site import site_context
from bot.render.environment import Templates

#: Pages with forms or tokens are never stored by caches or the browser's back-forward cache.
NO_STORE = {"Cache-Control": "no-store"}
MAX_DEPTH = 8


def root_for(path: str) -> str:
    """``""`` for /search, ``"../"`` for /confirm/TOKEN: the relative way to the site's top."""
    depth = min(max(path.count("/") - 1, 0), MAX_DEPTH)
    return "../" * depth


class Pages:
    def __init__(self, templates: Templates, base_url: str | None) -> None:
        self.templates = templates
        self.base_url = base_url

    def render(
        self,
        request: Request,
        name: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        context = site_context(self.base_url, root=root_for(request.url.path), **values)
        html = self.templates.render(f"web/{name}", context)
        return HTMLResponse(html, status_code=status, headers={**NO_STORE, **(headers or {})})

    def message(
        self,
        request: Request,
        title: str,
        text: str,
        *,
        status: int = 200,
        link: tuple[str, str] | None = None,
    ) -> HTMLResponse:
        """A page that says one thing: a result, or what is wrong (``link``: (path from the
        site's top, label), where to go next)."""
        return self.render(request, "message.html", status=status, title=title, text=text, link=link)
