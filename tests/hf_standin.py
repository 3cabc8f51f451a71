"""A stand-in for Hugging Face's Daily Papers API on 127.0.0.1: ``GET /api/daily_papers?date=``.

It answers as Hugging Face does: a JSON list of the day's papers (``tests/fixtures/
hf_daily_papers.json`` holds a real answer's structure: the item with its ``paper`` object, the
authors with their ``_id`` and ``hidden``, the submitter, the AI summary and keywords, the
thumbnail, comments; its texts trimmed), ``[]`` for a day with none, a 400 with Hugging Face's
``{"error": ...}`` for a date that is not one, and its 404 body for any other path or method.
Faults (``fail``, ``stall``, ``answer``) come from ``ThreadedStandIn``.

    with HfStandIn() as hf:
        hf.listings["2025-12-11"][0]["paper"]["upvotes"] = 99
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.http_standin import ThreadedStandIn

FIXTURE = Path(__file__).with_name("fixtures") / "hf_daily_papers.json"
DAY = "2025-12-11"
NOT_FOUND = {"error": "Sorry, we can't find the page you are looking for."}


def fixture() -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(FIXTURE.read_text())
    return data


class HfStandIn(ThreadedStandIn):
    def __init__(self, listings: dict[str, list[dict[str, Any]]] | None = None) -> None:
        super().__init__()
        self.listings = listings if listings is not None else {DAY: fixture()}

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/daily_papers", self._daily_papers)
        app.router.add_route("*", "/{tail:.*}", self._not_found)

    async def _daily_papers(self, request: web.Request) -> web.Response:
        raw = request.query.get("date")
        if raw is not None:
            try:
                day = dt.date.fromisoformat(raw)
                if raw != day.isoformat():
                    raise ValueError(raw)
            except ValueError:
                return web.json_response({"error": f"Invalid date: {raw}"}, status=400)
        else:
            day = max(map(dt.date.fromisoformat, self.listings), default=dt.date(2025, 1, 1))
        return web.json_response(copy.deepcopy(self.listings.get(day.isoformat(), [])))

    async def _not_found(self, request: web.Request) -> web.Response:
        return web.json_response(NOT_FOUND, status=404)


def paper(arxiv_id: str, title: str, upvotes: int, *, summary: str = "An abstract.") -> dict[str, Any]:
    """One item of a listing, shaped as the fixture's are (for listings a test makes up)."""
    item = copy.deepcopy(fixture()[0])
    item["paper"].update({"id": arxiv_id, "title": title, "upvotes": upvotes, "summary": summary})
    item.update({"title": title, "summary": summary})
    item["thumbnail"] = f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{arxiv_id}.png"
    return item
