"""A stand-in for arXiv's API on 127.0.0.1: ``GET /api/query?id_list=…&max_results=…``, Atom.

Strict where arXiv is (its user manual, and what it is seen to do):

- the feed is written as arXiv writes it (``tests/fixtures/arxiv_query.xml`` is a real answer's
  structure): the query as the feed's title, ``opensearch:`` counts, and per paper an entry with
  its versioned ``<id>``, ``<published>``, a ``<title>`` and ``<summary>`` broken over lines,
  its ``<author>``s, its links and categories;
- entries come back in arXiv's order (by id here), not the order asked;
- an id that is not one (arXiv's pattern) is answered with HTTP 400 and arXiv's error feed,
  an entry whose ``<id>`` points into ``/api/errors``; a well-formed id of no paper is absent;
- ``max_results`` defaults to 10, and only that many entries come back;
- arXiv asks for one request every three seconds: a request arriving sooner after the last one
  is answered 503 with ``Retry-After``, and counted in ``too_soon`` for the tests to assert.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from tests.http_standin import ThreadedStandIn

#: arXiv's own id pattern, with an optional version.
ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
INTERVAL = 3.0
OPENSEARCH = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'


@dataclass(frozen=True)
class Paper:
    base: str
    title: str
    summary: str
    authors: tuple[str, ...]
    published: dt.datetime
    versions: int = 1
    category: str = "cs.LG"


PAPERS = (
    Paper(
        "2406.11837",
        "Scaling the Codebook Size of VQGAN to 100,000 with a Utilization Rate of\n  99%",
        "  In the realm of image quantization exemplified by VQGAN, the process encodes\nimages into"
        " discrete tokens drawn from a codebook with a predefined size.\n",
        ("Lei Zhu", "Fangyun Wei", "Yanye Lu", "Dong Chen"),
        dt.datetime(2024, 6, 17, 17, 59, 57, tzinfo=dt.UTC),
        category="cs.CV",
    ),
    Paper(
        "2512.04030",
        "A Candidate the Curator\n  Names by Its Id",
        "  We study what a curator pulls from arXiv by its identifier,\nand how it becomes a post.\n",
        ("Ada Lovelace", "Alan Turing"),
        dt.datetime(2025, 12, 3, 18, 59, 57, tzinfo=dt.UTC),
        versions=2,
    ),
    Paper(
        "hep-th/9901001",
        "Conformal Field Theory and the\n  Old-Style Identifier",
        "  An entry with an old-style identifier.\n",
        ("A. Physicist",),
        dt.datetime(1999, 1, 4, 14, 26, 29, tzinfo=dt.UTC),
        category="hep-th",
    ),
)


class ArxivStandIn(ThreadedStandIn):
    def __init__(self, papers: tuple[Paper, ...] = PAPERS, *, interval: float = INTERVAL) -> None:
        super().__init__()
        self.papers = {p.base: p for p in papers}
        self.interval = interval
        #: Requests that came sooner than ``interval`` after the one before.
        self.too_soon = 0
        self._last: float | None = None

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/api/query", self._query)

    async def _query(self, request: web.Request) -> web.Response:
        arrived = self.requests[-1].at
        if self._last is not None and arrived - self._last < self.interval:
            self.too_soon += 1
            self._last = arrived
            return web.Response(status=503, text="Rate exceeded.", headers={"Retry-After": "3"})
        self._last = arrived
        asked = [part for part in request.query.get("id_list", "").split(",") if part]
        for raw in asked:
            if not ID.fullmatch(raw):
                return _atom(error_feed(request.query_string, raw), status=400)
        try:
            limit = int(request.query.get("max_results", "10"))
            start = int(request.query.get("start", "0"))
        except ValueError:
            return _atom(error_feed(request.query_string, "max_results"), status=400)
        found = sorted({p for raw in asked if (p := self._find(raw)) is not None})
        shown = found[start : start + limit]
        entries = "".join(entry(self.papers[base], version) for base, version in shown)
        return _atom(feed(request.query_string, len(found), start, len(shown), entries))

    def _find(self, raw: str) -> tuple[str, int] | None:
        match = re.fullmatch(r"(?P<base>.+?)(?:v(?P<version>\d+))?", raw)
        assert match is not None
        base, version = match["base"], match["version"]
        paper = self.papers.get(base)
        if paper is None or (version and int(version) > paper.versions):
            return None
        return base, int(version) if version else paper.versions


def feed(query: str, total: int, start: int, per_page: int, entries: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
        f"  <link href={quoteattr('http://arxiv.org/api/query?' + query)}"
        ' rel="self" type="application/atom+xml"/>\n'
        f'  <title type="html">ArXiv Query: {escape(query)}</title>\n'
        "  <id>http://arxiv.org/api/Hm1cRkGkXv6sWl3V0m5d1d2Yx4w</id>\n"
        "  <updated>2025-12-11T00:00:00-05:00</updated>\n"
        f"  <opensearch:totalResults {OPENSEARCH}>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex {OPENSEARCH}>{start}</opensearch:startIndex>\n"
        f"  <opensearch:itemsPerPage {OPENSEARCH}>{per_page}</opensearch:itemsPerPage>\n"
        f"{entries}</feed>\n"
    )


def entry(paper: Paper, version: int) -> str:
    url = f"http://arxiv.org/abs/{paper.base}v{version}"
    when = paper.published.strftime("%Y-%m-%dT%H:%M:%SZ")
    authors = "".join(f"    <author>\n      <name>{escape(n)}</name>\n    </author>\n" for n in paper.authors)
    return (
        "  <entry>\n"
        f"    <id>{url}</id>\n    <updated>{when}</updated>\n    <published>{when}</published>\n"
        f"    <title>{escape(paper.title)}</title>\n    <summary>{escape(paper.summary)}</summary>\n"
        f"{authors}"
        f'    <link href="{url}" rel="alternate" type="text/html"/>\n'
        f'    <link title="pdf" href="http://arxiv.org/pdf/{paper.base}v{version}"'
        ' rel="related" type="application/pdf"/>\n'
        f'    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="{paper.category}"'
        ' scheme="http://arxiv.org/schemas/atom"/>\n'
        f'    <category term="{paper.category}" scheme="http://arxiv.org/schemas/atom"/>\n'
        "  </entry>\n"
    )


def error_feed(query: str, bad: str) -> str:
    """arXiv's answer to an id it cannot read: one entry, titled Error, pointing into /api/errors."""
    where = f"http://arxiv.org/api/errors#incorrect_id_format_for_{bad}"
    error = (
        "  <entry>\n"
        f"    <id>{escape(where)}</id>\n    <title>Error</title>\n"
        f"    <summary>incorrect id format for {escape(bad)}</summary>\n"
        "    <updated>2025-12-11T00:00:00-05:00</updated>\n"
        f'    <link href={quoteattr(where)} rel="alternate" type="text/html"/>\n'
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n"
    )
    return feed(query, 1, 0, 1, error)


def _atom(text: str, *, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=text.encode(), headers={"Content-Type": "application/atom+xml; charset=utf-8"}
    )
