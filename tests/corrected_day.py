"""A seed day as it went out and as a curator corrects it, for the tests of corrections.

2024-07-11 has six papers: Telegram sends them as three messages (the header with papers 1-3,
papers 4-5, paper 6) and Discord as two (papers 1-4, papers 5-6). ``corrected`` changes the
title of paper 5, a sentence of paper 6's commentary and adds a tag to paper 6, so the day's
first Telegram message and first Discord message read as they did; ``longer`` adds two long
papers as well (more messages on each platform, and a new count in the header); ``shorter``
drops the last two papers (a message fewer on each).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from bot.archive.corrections import PaperChange, diff
from bot.archive.parsers import ParseOptions, parse_file
from bot.channels.base import Channel, Pace
from bot.models import Paper
from bot.render.context import DigestView, digest_view
from tests.conftest import SEEDS

DAY = dt.date(2024, 7, 11)
BASE_URL = "https://digest.paperboy.example"
TITLE = "Transformer Alignment in Large Language Models: Singular Vectors of Residual Jacobians"
SENTENCE = ("Few-shot Novel View Synthesis + Time.", "Few-shot Novel View Synthesis에 시간 축을 더한 4DiM.")
TAG = "video"


def published() -> tuple[Paper, ...]:
    """The day as the seed has it: what subscribers got."""
    digest = parse_file(SEEDS / f"daily-{DAY}.txt", ParseOptions(today=dt.date(2026, 11, 23)))
    assert digest.date == DAY and len(digest.entries) == 6
    return digest.entries


def corrected() -> list[Paper]:
    """A title, a commentary sentence and a tag corrected; the same papers, the same ids."""
    papers = list(published())
    papers[4] = replace(papers[4], title=TITLE)
    before, after = SENTENCE
    assert before in papers[5].commentary
    papers[5] = replace(
        papers[5], commentary=papers[5].commentary.replace(before, after), tags=(*papers[5].tags, TAG)
    )
    return papers


def longer() -> list[Paper]:
    """``corrected`` and two long papers more at the end."""
    papers = corrected()
    extra = [
        replace(
            papers[1],
            id=f"added-by-the-correction-{n}",
            title=f"A Paper Added by the Correction ({n})",
            abstract=" ".join([papers[1].abstract] * 3),  # long: it needs room of its own
            links=(f"https://arxiv.org/abs/2407.9999{n}",),
        )
        for n in (1, 2)
    ]
    return [*papers, *extra]


def shorter() -> list[Paper]:
    """The day without its last two papers."""
    return list(published())[:4]


def view(papers: list[Paper] | tuple[Paper, ...]) -> DigestView:
    return digest_view(DAY, papers, BASE_URL)


def changes(papers: list[Paper]) -> list[PaperChange]:
    """What ``papers`` change of the day as published (``bot.archive.corrections.diff``)."""
    return diff(published(), papers)


async def correct(
    channel: Channel,
    target: str,
    ids: Sequence[str],
    before: Sequence[Any],
    after: Sequence[Any],
    pace: Pace,
    *,
    mention: str | None = None,
) -> list[str]:
    """Bring a day's messages ``ids`` (showing ``before``) to ``after`` as ``scheduler/edits.py``
    does with the channel's primitives: a part that differs is edited, what the corrected day has
    more is sent after the last, what it has fewer is deleted. The corrected day's message ids."""
    ids = list(ids)
    for index, part in enumerate(after[: len(ids)]):
        if part != before[index]:
            await channel.edit_part(target, ids, index, part, pace, mention=mention)
    for part in after[len(ids) :]:
        ids.append(await channel.send_part(target, ids, part, pace, mention=mention))
    for index in range(len(after), len(before)):
        await channel.delete_part(target, ids, index, pace)
    return ids[: len(after)]
