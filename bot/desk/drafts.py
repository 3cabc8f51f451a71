"""Drafts: a curator's post between its preview and "publish" or "discard".

A draft is the post's text and nothing else: nothing of it enters the archive until a curator
confirms, a discarded draft is deleted (no row is left), and a draft nobody acts on expires
(``LIFETIME``): it is refused from then on and swept away by the running service. Its id goes
into the preview's buttons, so it is random (a button cannot be guessed for another draft) and
short (Telegram's callback data holds 64 bytes, Discord's custom_id 100 characters).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from bot.archive.schema import drafts
from bot.archive.store import Archive
from bot.errors import PaperboyError

#: How long a draft waits for its curator.
LIFETIME = dt.timedelta(days=1)
#: The characters of a draft id: what ``secrets.token_urlsafe`` makes.
ID_PATTERN = r"[A-Za-z0-9_-]{8,32}"


class DraftGone(PaperboyError):
    """The draft a button names is not there any more: published, discarded, expired, or never was."""


@dataclass(frozen=True)
class Draft:
    id: str
    #: Who sent it: ``telegram:USER_ID``, ``discord:USER_ID``, ``telegram-channel:CHAT_ID``.
    curator: str
    #: The file name the post is stored under once published.
    name: str
    text: str
    #: Where its preview was shown (a chat's address), for the record.
    reply_to: str | None
    created: dt.datetime
    expires: dt.datetime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    """16 random characters of ``[A-Za-z0-9_-]`` (96 bits)."""
    return secrets.token_urlsafe(12)


def create(
    archive: Archive,
    curator: str,
    name: str,
    text: str,
    *,
    draft_id: str | None = None,
    reply_to: str | None = None,
    now: dt.datetime | None = None,
) -> Draft:
    now = now or utcnow()
    draft = Draft(draft_id or new_id(), curator, name, text, reply_to, now, now + LIFETIME)
    with archive.engine.begin() as conn:
        conn.execute(insert(drafts).values(_row(draft)))
    return draft


def get(archive: Archive, draft_id: str, *, now: dt.datetime | None = None) -> Draft:
    """The draft, or ``DraftGone`` saying why not; an expired one is deleted on the way."""
    with archive.engine.begin() as conn:
        draft = _load(conn, draft_id)
        stale = draft is not None and draft.expires <= (now or utcnow())
        if stale:
            conn.execute(delete(drafts).where(drafts.c.id == draft_id))
    if draft is None:
        raise DraftGone(GONE)
    if stale:
        raise DraftGone(expired(draft))
    return draft


def claim(conn: Connection, draft_id: str, *, now: dt.datetime | None = None) -> Draft:
    """Delete the draft inside the caller's transaction (the one that stores its post) and
    return it: of two curators pressing "publish" at once, one gets it, the other ``DraftGone``."""
    draft = _load(conn, draft_id)
    if draft is None:
        raise DraftGone(GONE)
    conn.execute(delete(drafts).where(drafts.c.id == draft_id))
    if draft.expires <= (now or utcnow()):
        raise DraftGone(expired(draft))
    return draft


def update_text(archive: Archive, draft_id: str, text: str) -> None:
    """Replace the draft's text (a tag accepted in its preview); ``DraftGone`` if it is not there."""
    with archive.engine.begin() as conn:
        changed = conn.execute(update(drafts).where(drafts.c.id == draft_id).values(text=text)).rowcount
    if not changed:
        raise DraftGone(GONE)


def discard(archive: Archive, draft_id: str) -> bool:
    """Delete the draft; False if it was not there."""
    with archive.engine.begin() as conn:
        return bool(conn.execute(delete(drafts).where(drafts.c.id == draft_id)).rowcount)


def sweep(archive: Archive, *, now: dt.datetime | None = None) -> int:
    """Delete every expired draft; how many went."""
    with archive.engine.begin() as conn:
        return int(conn.execute(delete(drafts).where(drafts.c.expires <= (now or utcnow()))).rowcount)


def count(archive: Archive) -> int:
    """How many drafts wait (expired ones included until they are swept)."""
    with archive.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(drafts)).scalar_one())


GONE = "That draft is gone: it was published or discarded already. Send the post again to start over."


def expired(draft: Draft) -> str:
    return (
        f"That draft expired at {draft.expires:%Y-%m-%d %H:%M} UTC (drafts wait {_hours(LIFETIME)} hours)."
        " Send the post again."
    )


def _hours(span: dt.timedelta) -> int:
    return int(span.total_seconds() // 3600)


def _row(draft: Draft) -> dict[str, object]:
    return {
        "id": draft.id,
        "curator": draft.curator,
        "name": draft.name,
        "text": draft.text,
        "reply_to": draft.reply_to,
        "created": draft.created,
        "expires": draft.expires,
    }


def _load(conn: Connection, draft_id: str) -> Draft | None:
    row = conn.execute(select(drafts).where(drafts.c.id == draft_id)).first()
    if row is None:
        return None
    return Draft(
        row.id, row.curator, row.name, row.text, row.reply_to, _aware(row.created), _aware(row.expires)
    )


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
