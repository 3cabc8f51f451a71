"""arXiv's API: ``GET /api/query?id_list=ID,ID&max_results=N``, answered with an Atom feed.

Each paper is an ``<entry>``: its ``<id>`` (``http://arxiv.org/abs/2406.11837v2``), ``<title>``,
``<summary>``, ``<author><name>``s and ``<published>``, with arXiv's line breaks inside titles and
summaries. The feed comes back in arXiv's order, not the order asked, so entries are matched to
the ids by id. arXiv's ways of saying no: an id it cannot read is an entry whose id points into
``/api/errors`` (titled "Error", HTTP 400 or 200); an id of the right shape that names no paper
is simply absent. Both are said in one line, and nothing of the pull is stored.

The feed is read by a real XML parser (ElementTree; expat refuses entity expansion bombs), never
by patterns, and checked strictly: not XML, not an Atom feed, or an entry without its id, title
or summary is an unexpected answer. Requests keep arXiv's pace (``pacing.py``); ids go
``BATCH`` to a request.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import replace

from bot.archive.arxiv_ids import ArxivId, parse_arxiv_id
from bot.archive.candidates import Candidate
from bot.errors import NotFound
from bot.pull.http import Source, SourceError

PATH = "/api/query"
ATOM = "{http://www.w3.org/2005/Atom}"
#: Ids per request: arXiv answers a long id_list in one page when max_results says so.
BATCH = 50
_SPACE = re.compile(r"\s+")


def papers(source: Source, refs: Sequence[ArxivId]) -> list[Candidate]:
    """The papers of ``refs``, in the order given; ``NotFound`` naming any arXiv does not have."""
    wanted = list(dict.fromkeys(refs))
    found: dict[ArxivId, Candidate] = {}
    for start in range(0, len(wanted), BATCH):
        batch = wanted[start : start + BATCH]
        params = {"id_list": ",".join(map(str, batch)), "max_results": str(len(batch))}
        response = source.get(PATH, params, accept=(200, 400))
        entries = parse_feed(source, response.content, response.headers.get("content-type", ""))
        if response.status_code == 400:  # arXiv said what it refused in an error entry, if at all
            raise source.fail("refused the query (HTTP 400) without saying why")
        found.update(_match(batch, entries))
    missing = [str(ref) for ref in wanted if ref not in found]
    if missing:
        raise NotFound(f"arXiv has no paper {', '.join(missing)}: check the id; nothing was stored")
    return [found[ref] for ref in wanted]


def parse_feed(source: Source, body: bytes, content_type: str = "") -> list[Candidate]:
    """The entries of an answer, or ``SourceError`` saying why it is not a feed of papers."""
    start = body.lstrip()[:15].lower()
    if "html" in content_type.lower() or start.startswith((b"<!doctype", b"<html")):
        raise source.fail("answered an HTML page, not its API's Atom feed (an error page, or a proxy's?)")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        line, column = exc.position
        raise source.fail(f"answered malformed XML (line {line}, column {column + 1})") from None
    if root.tag != f"{ATOM}feed":
        raise _shape(source, f"the document is <{_local(root.tag)}>, not an Atom <feed>")
    entries = [_entry(source, entry, n) for n, entry in enumerate(root.iter(f"{ATOM}entry"), start=1)]
    return [entry for entry in entries if entry is not None]


def _entry(source: Source, entry: ET.Element, n: int) -> Candidate | None:
    raw_id = _text(entry, "id")
    if "/api/errors" in raw_id:
        said = _line(_text(entry, "summary")) or "no reason given"
        raise source.fail(f"refused the query: {said[:200]}")
    if not raw_id:
        raise _shape(source, f"entry {n} has no <id>")
    try:
        ref = parse_arxiv_id(raw_id)
    except ValueError:
        raise _shape(source, f"entry {n} has an <id> that is not an arXiv paper's") from None
    title, summary = _line(_text(entry, "title")), _line(_text(entry, "summary"))
    if not title or not summary:
        raise _shape(source, f"entry {n} ({ref}) has no <{'title' if not title else 'summary'}>")
    authors = tuple(
        name for author in entry.findall(f"{ATOM}author") if (name := _line(_text(author, "name")))
    )
    return Candidate(
        id=ref.paper_id,
        source="arxiv",
        arxiv_id=str(ref),
        title=title,
        summary=summary,
        authors=authors,
        published=_date(_text(entry, "published")),
        links=(ref.abs_url,),
    )


def _match(asked: Sequence[ArxivId], entries: list[Candidate]) -> dict[ArxivId, Candidate]:
    """Each asked id with its entry: by paper (any version), the asked version if one was named."""
    by_paper: dict[str, list[Candidate]] = {}
    for entry in entries:
        by_paper.setdefault(entry.id, []).append(entry)
    found: dict[ArxivId, Candidate] = {}
    for ref in asked:
        same = by_paper.get(ref.paper_id, [])
        exact = [c for c in same if ref.version is None or c.arxiv_id == str(ref)]
        if exact:  # linked as asked: an id without a version links the latest
            found[ref] = replace(exact[0], links=(ref.abs_url,))
    return found


def _text(element: ET.Element, name: str) -> str:
    found = element.find(f"{ATOM}{name}")
    return "".join(found.itertext()) if found is not None else ""


def _line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _date(raw: str) -> dt.date | None:
    try:
        return dt.datetime.fromisoformat(raw.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _shape(source: Source, problem: str) -> SourceError:
    return source.fail(f"answered a feed of another shape than its API's: {problem}")
