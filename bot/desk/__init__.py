"""The curator's desk, platform-neutral: who may post, drafts, previews and their buttons.

A curator sends the day's post in chat; the desk parses it as ``paperboy ingest`` would, keeps it
as a draft (nothing enters the archive yet) and answers with a preview; a button then publishes
it now, leaves it to the schedule, or discards it. The Telegram and Discord adapters
(``bot/channels/*/desk.py``) only find out who is asking and show the answers.

- ``intake``: what a post may be (a .txt/.md file of at most a megabyte, or text), read safely;
- ``drafts``: drafts in the database, their expiry and sweeping;
- ``preview``: the post rehearsed (stored and rolled back), its warnings, errors and correction;
- ``desk``: ``Desk``, which receives posts and does what the buttons say;
- ``picks``: the candidates offered to the curator (pulled by ``bot/pull``) and the draft post a
  pick starts, for the curator to complete.
"""

from __future__ import annotations

from bot.desk.desk import (
    ACTIONS,
    DROP,
    LATER,
    NOW,
    ONLY_CURATORS,
    Desk,
    OnPublish,
    Outcome,
    Received,
    buttons,
)
from bot.desk.drafts import LIFETIME, DraftGone
from bot.desk.preview import Preview, Problem

__all__ = [
    "ACTIONS",
    "DROP",
    "LATER",
    "LIFETIME",
    "NOW",
    "ONLY_CURATORS",
    "Desk",
    "DraftGone",
    "OnPublish",
    "Outcome",
    "Preview",
    "Problem",
    "Received",
    "buttons",
]
