"""The JSON shapes of the CLI contract, and printing them. Other tools rely on these keys."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from bot.archive.corrections import Correction, changes_to_json
from bot.models import Digest, Paper, TagCount


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def paper_summary(paper: Paper) -> dict[str, Any]:
    """A paper in a list (tag pages, search results, the queue)."""
    return {
        "id": paper.id,
        "title": paper.title,
        "date": iso(paper.date),
        "published": iso(paper.published),
        "tags": list(paper.tags),
        "authors": list(paper.authors),
        "author_count": paper.author_count,
        "upvotes": paper.upvotes,
        "links": list(paper.links),
    }


def paper_full(paper: Paper) -> dict[str, Any]:
    return {
        **paper_summary(paper),
        "days": [day.isoformat() for day in paper.days],
        "abstract": paper.abstract,
        "commentary": paper.commentary,
        "source": paper.source,
        "line": paper.line,
    }


def digest_json(digest: Digest, shown_source: str) -> dict[str, Any]:
    return {
        "date": iso(digest.date),
        "source": shown_source,
        "format": digest.format,
        "entries": [
            {key: value for key, value in paper_full(paper).items() if key not in ("date", "days")}
            for paper in digest.entries
        ],
    }


def tag_count(tc: TagCount) -> dict[str, Any]:
    return {"tag": tc.tag, "count": tc.count}


def emit(obj: dict[str, Any]) -> None:
    """One JSON object on stdout."""
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))


def correction_json(correction: Correction, created: dt.datetime | None = None) -> dict[str, Any]:
    """A correction of a day that had gone out: what changed, paper by paper."""
    return {
        "id": correction.id,
        "date": iso(correction.day),
        "source": correction.source,
        **({"created": created.isoformat()} if created else {}),
        "changes": changes_to_json(correction.changes),
    }
