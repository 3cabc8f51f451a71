"""One call per chat event: ``answer`` for a command, ``turn_page`` for a button's cursor.

Adapters hand over what the platform gave them (the command's name, its raw argument text,
the chat and whether the caller administers it) and render whatever comes back. Commands are
looked up in ``HANDLERS``, one line per command rather than an if/elif chain (a test checks it
names exactly the catalogue's commands). A user's mistake never reaches the adapter as an
exception: ``InputError`` (and its ``QueryError``) becomes an ``Error`` with the command's
usage, ``NotFound`` an ``Error`` without. Anything else (a damaged database, a bug) is
raised for the adapter's error handler.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from bot.archive.store import Archive
from bot.commands import lookup, related, subscribe
from bot.commands.arguments import MAX_PAGE_SIZE, PAGE_SIZE, Request, clean_argument, sentence
from bot.commands.catalogue import BY_NAME, COMMANDS, closest_command, command_name
from bot.commands.cursor import SIMILAR, read_cursor, read_similar
from bot.commands.results import Answer, Error
from bot.errors import InputError, NotFound
from bot.suggest.similar import SimilarIndex

Handler = Callable[[Request], Answer]

HANDLERS: dict[str, Handler] = {
    "start": lookup.show_help,
    "help": lookup.show_help,
    "tag": lookup.tag,
    "tags": lookup.tags,
    "search": lookup.search,
    "latest": lookup.latest,
    "paper": lookup.paper,
    "similar": related.similar_papers,
    "subscribe": subscribe.subscribe,
    "unsubscribe": subscribe.unsubscribe,
    "settings": subscribe.settings,
}


def answer(
    archive: Archive,
    command: str,
    args: str = "",
    *,
    chat: str | None = None,
    is_admin: bool = False,
    page_size: int = PAGE_SIZE,
    base_url: str | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    index: SimilarIndex | None = None,
) -> Answer:
    """The answer to ``/command args`` (``command`` as typed: ``/Tag@PaperboyBot`` is ``tag``).

    ``chat`` is the chat's ``KIND:TARGET`` address (needed by the subscription commands),
    ``is_admin`` whether the caller may change its subscription, ``today`` the deployment's
    date (``/latest`` shows nothing dated after it), ``now`` a new subscription's start,
    ``index`` the features ``/similar`` reads (kept open by the bot).
    """
    size = _page_size(page_size)
    name = command_name(command)
    handler = HANDLERS.get(name)
    if handler is None:
        return unknown_command(name)
    usage = BY_NAME[name].usage
    try:
        cleaned = clean_argument(args)
        request = Request(archive, name, cleaned, chat, is_admin, size, base_url, today, now, index)
        return handler(request)
    except InputError as exc:
        return Error(sentence(str(exc)), usage)
    except NotFound as exc:
        return Error(sentence(str(exc)))


def turn_page(
    archive: Archive,
    cursor: str,
    *,
    page_size: int = PAGE_SIZE,
    base_url: str | None = None,
    index: SimilarIndex | None = None,
) -> Answer:
    """The page a button's cursor (``PapersPage.older``/``newer``) asks for, or for a paper's
    "similar" button (``similar:ID``) what ``/similar ID`` answers.

    The cursor comes back from the client: a garbled or forged one answers an ``Error`` that
    asks for the command again; a page past the end answers the last page.
    """
    size = _page_size(page_size)
    try:
        if cursor.startswith(SIMILAR):
            return related.related(archive, index, read_similar(cursor), base_url=base_url)
        found = read_cursor(cursor)
        if found.kind == "search":
            query = clean_argument(found.key)
            return lookup.search_page(archive, query, found.page, size=size, base_url=base_url)
        tag = lookup.resolve_tag(archive, found)
        return lookup.tag_page(archive, tag, found.page, size=size, base_url=base_url)
    except (InputError, NotFound) as exc:
        return Error(sentence(str(exc)))


def unknown_command(name: str) -> Error:
    """No such command: the closest one if a typo is likely, and the list of commands."""
    shown = re.sub(r"\W", "", name)[:32]
    close = closest_command(shown) if shown else None
    text = f"There is no /{shown} command." if shown else "That is not a command."
    if close:
        text += f" Did you mean /{close}?"
    return Error(text, "Commands: " + " ".join(f"/{info.name}" for info in COMMANDS))


def _page_size(size: int) -> int:
    # A deployment's setting, not a user's input: a wrong one is a bug to raise.
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be from 1 to {MAX_PAGE_SIZE}, not {size}")
    return size
