"""``/metrics`` for Prometheus, and the count of the requests the web server answers.

The endpoint exists only when the operator sets ``PAPERBOY_METRICS_TOKEN``, and answers only a
request that carries it (``Authorization: Bearer …``, as Prometheus's ``authorization`` scrape
setting sends it): the numbers say how many people a channel reaches and when the service last
worked, which is the operator's business. Without the token the address is the archive's 404.

A scrape adds up every process's counts (``bot.metrics``) and reads two things from the
database: the ledger's backlog by state and the time of the last publish, so an alert can fire
when a day did not go out, whichever process published it, and across restarts.

Requests are counted by route template (``/search``, ``/confirm/{token}``, ``/{path}`` for the
archive's files), never by raw path, so the number of series stays bounded whatever is asked.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics
from bot.archive.backlog import backlog, last_publish
from bot.archive.store import Archive


def metrics_routes(archive: Archive, token: str | None) -> list[BaseRoute]:
    """``GET /metrics`` when a token is set; nothing otherwise."""
    if not token:
        return []
    expected = f"Bearer {token}".encode()
    ledger = LedgerCollector(archive)

    def scrape(request: Request) -> Response:  # sync: Starlette runs it in a thread (a query)
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            return Response(
                "A bearer token is needed: PAPERBOY_METRICS_TOKEN.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="paperboy metrics"'},
                media_type="text/plain",
            )
        return Response(metrics.exposition(ledger), media_type=metrics.CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"], name="metrics")]


class LedgerCollector(Collector):
    """The ledger's backlog and the last publish, read from the database at each scrape."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def collect(self) -> Iterator[GaugeMetricFamily]:
        waiting = GaugeMetricFamily(
            "paperboy_ledger_backlog",
            "Deliveries in the ledger not yet done, by state (pending: due now; waiting: due later).",
            labels=["status"],
        )
        for status, count in backlog(self.archive, dt.datetime.now(dt.UTC)).items():
            waiting.add_metric([status], count)
        yield waiting
        last = last_publish(self.archive)
        if last is not None:
            yield GaugeMetricFamily(
                "paperboy_last_publish_timestamp_seconds",
                "When the latest day was first published (Unix time).",
                value=last.timestamp(),
            )


class RequestMetrics:
    """ASGI middleware: each answered request counted by its route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # unless an answer starts: what the server's error page says

        async def counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            metrics.web_request(route_template(scope), status)


def route_template(scope: Scope) -> str:
    """The matched route's path template, under the mounts it was found in; else "unmatched"."""
    route = scope.get("route")
    prefix = str(scope.get("root_path", ""))[len(str(scope.get("app_root_path", ""))) :]
    if isinstance(route, Route):
        return prefix + route.path
    if isinstance(route, Mount):  # an app mounted whole (the archive's files): its prefix
        return (prefix or route.path) + "/{path}"
    return "unmatched"
