"""Hugging Face's Daily Papers API: ``GET /api/daily_papers?date=YYYY-MM-DD``.

It answers a JSON list, one item per paper of that day's listing (its shape, as Hugging Face
sends it, is copied in ``tests/fixtures/hf_daily_papers.json``)::

    [{"paper": {"id": "2512.04030", "title": ..., "summary": ..., "upvotes": 31,
                "authors": [{"_id": ..., "name": "Ada Lovelace", "hidden": false}, ...],
                "publishedAt": "2025-12-03T18:59:57.000Z", "githubRepo": ..., "projectPage": ...},
      "title": ..., "summary": ..., "publishedAt": ..., "numComments": 2, "submittedBy": {...}}]

Only what a candidate needs is read, and read strictly: an answer missing any of it (a paper
without an arXiv id, a title, a summary, authors or an upvote count) is an unexpected answer,
said in one line, and nothing of the day is stored. An HTML page (a proxy's error, a login
wall) or text that is not JSON is said as such.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from bot.archive.arxiv_ids import parse_arxiv_id
from bot.archive.candidates import Candidate
from bot.pull.http import Source, SourceError

PATH = "/api/daily_papers"
PAGE = "https://huggingface.co/papers/"
_SPACE = re.compile(r"\s+")


def daily_papers(source: Source, day: dt.date) -> list[Candidate]:
    """The papers of ``day``'s listing, in its order (an empty list: the day has none)."""
    response = source.get(PATH, {"date": day.isoformat()})
    data = _json(source, response.content, response.headers.get("content-type", ""))
    return parse_listing(source, data, day)


def parse_listing(source: Source, data: Any, day: dt.date) -> list[Candidate]:
    if not isinstance(data, list):
        raise _shape(source, f"a JSON {type(data).__name__} where the list of papers belongs")
    return [_paper(source, item, n, day) for n, item in enumerate(data, start=1)]


def _paper(source: Source, item: Any, n: int, day: dt.date) -> Candidate:
    where = f"item {n}"
    if not isinstance(item, dict) or not isinstance(item.get("paper"), dict):
        raise _shape(source, f"{where} has no 'paper' object")
    paper = item["paper"]
    raw_id = _text(source, paper, "id", where)
    where = f"item {n} ({raw_id[:40]})"
    try:
        ref = parse_arxiv_id(raw_id)
    except ValueError:
        raise _shape(source, f"{where} has an id that is not an arXiv id") from None
    authors = paper.get("authors")
    if not isinstance(authors, list) or not all(
        isinstance(a, dict) and isinstance(a.get("name"), str) for a in authors
    ):
        raise _shape(source, f"{where} has no list of authors with names")
    upvotes = paper.get("upvotes")
    if not isinstance(upvotes, int) or isinstance(upvotes, bool) or upvotes < 0:
        raise _shape(source, f"{where} has no upvote count")
    links = [ref.abs_url, PAGE + ref.base]
    links += [
        url
        for key in ("githubRepo", "projectPage")
        if isinstance(url := paper.get(key), str) and url.startswith(("https://", "http://"))
    ]
    return Candidate(
        id=ref.paper_id,
        source="hf",
        arxiv_id=str(ref),
        title=_line(_text(source, paper, "title", where)),
        summary=_line(_text(source, paper, "summary", where, empty=True)),
        authors=tuple(_line(a["name"]) for a in authors if a["name"].strip()),
        upvotes=upvotes,
        published=_date(paper.get("publishedAt")),
        links=tuple(dict.fromkeys(links)),
        day=day,
    )


def _json(source: Source, body: bytes, content_type: str) -> Any:
    start = body.lstrip()[:15].lower()
    if "html" in content_type.lower() or start.startswith((b"<!doctype", b"<html")):
        raise source.fail("answered an HTML page, not its API's JSON (an error page, or a proxy's?)")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise source.fail("answered something that is not text, not the JSON of its API") from None
    except json.JSONDecodeError as exc:
        raise source.fail(
            f"answered malformed JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def _text(source: Source, obj: dict[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not (empty or value.strip()):
        raise _shape(source, f"{where} has no {key!r}")
    return value


def _line(text: str) -> str:
    """Text on one line: the API keeps arXiv's line breaks in summaries and long titles."""
    return _SPACE.sub(" ", text).strip()


def _date(raw: Any) -> dt.date | None:
    if not isinstance(raw, str):
        return None
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _shape(source: Source, problem: str) -> SourceError:
    return source.fail(f"answered JSON of another shape than its Daily Papers API: {problem}")
