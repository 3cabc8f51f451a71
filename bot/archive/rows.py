"""Entry rows to and from ``Paper``: the one place that knows how a paper is laid out in SQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from bot.archive.text import storable
from bot.models import Paper


class Encoded(dict[tuple[str, ...], str]):
    """JSON text of tuples, encoded once (many entries share an author list or a tag set)."""

    def __missing__(self, values: tuple[str, ...]) -> str:
        self[values] = text = storable(json.dumps(list(values), ensure_ascii=False))
        return text


def entry_row(source: str, position: int, paper: Paper, encoded: Encoded) -> dict[str, Any]:
    return {
        "source": source,
        "position": position,
        "paper_id": paper.id,
        "line": paper.line,
        "title": storable(paper.title),
        "authors": encoded[paper.authors],
        "author_count": paper.author_count,
        "abstract": storable(paper.abstract),
        "commentary": storable(paper.commentary),
        "tags": encoded[paper.tags],
        "links": encoded[paper.links],
        "published": paper.published,
        "upvotes": paper.upvotes,
    }


def entry_to_paper(row: Mapping[Any, Any]) -> Paper:
    """An entry row joined with its source's ``date`` (the digest day) as a ``Paper``."""
    return Paper(
        id=row["paper_id"],
        title=row["title"],
        authors=tuple(json.loads(row["authors"])),
        author_count=row["author_count"],
        abstract=row["abstract"],
        commentary=row["commentary"],
        tags=tuple(json.loads(row["tags"])),
        links=tuple(json.loads(row["links"])),
        published=row["published"],
        upvotes=row["upvotes"],
        source=row["source"],
        line=row["line"],
        date=row["date"],
    )


def paper_to_json(paper: Paper) -> dict[str, Any]:
    """A paper as plain JSON values (a correction keeps the day as it read before it)."""
    return {
        key: (value.isoformat() if isinstance(value, dt.date) else value)
        for key, value in asdict(paper).items()
        if key != "days"
    }


def paper_from_json(data: Mapping[str, Any]) -> Paper:
    def day(value: Any) -> dt.date | None:
        return dt.date.fromisoformat(value) if value else None

    return Paper(
        **{
            **data,
            "authors": tuple(data["authors"]),
            "tags": tuple(data["tags"]),
            "links": tuple(data["links"]),
            "published": day(data.get("published")),
            "date": day(data.get("date")),
            "corrected": dt.datetime.fromisoformat(data["corrected"]) if data.get("corrected") else None,
        }
    )
