"""Platform-neutral chat commands: what /tag, /search, /subscribe and the rest answer.

The Telegram and Discord adapters differ only in how they show an answer, so the whole of a
command's logic lives here and an adapter is one call plus a template per answer type::

    reply = answer(archive, "tag", "vq", chat="telegram:-100123", is_admin=False)
    page = turn_page(archive, callback_data)       # a "newer"/"older" button
    choices = complete_tags(archive, "vi")          # Discord autocomplete

No platform SDK, Jinja2 or scheduler is imported here (``tests/test_architecture.py``).

- ``catalogue``: the commands as data (names, English and Korean descriptions, usage);
- ``arguments``: cleaning untrusted argument text, the ``Request`` a command gets;
- ``cursor``: the stateless page cursors buttons carry (64 bytes at most);
- ``lookup``: the read-only commands and tag completion;
- ``related``: /similar and a paper's "similar" button;
- ``subscribe``: a chat's own subscription;
- ``results``: the answer types;
- ``dispatch``: ``answer`` and ``turn_page``, which never raise for a user's mistake.
"""

from __future__ import annotations

from bot.commands.arguments import MAX_ARGUMENT, PAGE_SIZE, Request, clean_argument
from bot.commands.catalogue import COMMANDS, CommandInfo, descriptions
from bot.commands.cursor import CURSOR_PATTERN, MAX_CURSOR_BYTES, SIMILAR_PATTERN, similar_cursor
from bot.commands.dispatch import HANDLERS, answer, turn_page
from bot.commands.lookup import complete_tags
from bot.commands.results import (
    Answer,
    ChatSettings,
    Error,
    Help,
    LatestDigest,
    Notice,
    NotSubscribed,
    PaperDetail,
    PapersPage,
    Refused,
    RelatedPaper,
    SimilarPapers,
    Subscribed,
    Suggestions,
    TagList,
    Unsubscribed,
)

__all__ = [
    "COMMANDS",
    "CURSOR_PATTERN",
    "HANDLERS",
    "MAX_ARGUMENT",
    "MAX_CURSOR_BYTES",
    "PAGE_SIZE",
    "SIMILAR_PATTERN",
    "Answer",
    "ChatSettings",
    "CommandInfo",
    "Error",
    "Help",
    "LatestDigest",
    "NotSubscribed",
    "Notice",
    "PaperDetail",
    "PapersPage",
    "Refused",
    "RelatedPaper",
    "Request",
    "SimilarPapers",
    "Subscribed",
    "Suggestions",
    "TagList",
    "Unsubscribed",
    "answer",
    "clean_argument",
    "complete_tags",
    "descriptions",
    "similar_cursor",
    "turn_page",
]
