"""The subscribers pages' queries and actions: one channel at a time, filtered by status, tag
and a search of the target, keyset-paged by id (``ix_subscriptions_kind_status``), so page 1,000
of 100,000 subscribers costs what page 1 does."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update

from bot.archive.schema import subscriptions
from bot.archive.store import Archive
from bot.models import Subscription
from bot.subscriptions import hide_webhook_tokens, subscription_from_row

STATUSES = ("active", "pending", "paused", "gone")
PAGE = 50
#: What each action sets the status to (None: the row goes).
ACTIONS = {"deactivate": "paused", "reactivate": "active", "remove": None}


@dataclass(frozen=True)
class Filter:
    kind: str
    status: str | None = None
    tag: str | None = None
    query: str | None = None

    def statement(self) -> object:
        stmt = select(subscriptions).where(subscriptions.c.kind == self.kind)
        if self.status:
            stmt = stmt.where(subscriptions.c.status == self.status)
        if self.query:
            pattern = "%" + self.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(subscriptions.c.target.like(pattern, escape="\\"))
        if self.tag:
            # tags is a JSON list of normalized tags: '"vq"' inside it is the tag itself.
            stmt = stmt.where(subscriptions.c.tags.like(f"%{json.dumps(self.tag)}%"))
        return stmt


def kinds(archive: Archive) -> dict[str, int]:
    stmt = select(subscriptions.c.kind, func.count()).group_by(subscriptions.c.kind)
    with archive.engine.connect() as conn:
        return {kind: int(n) for kind, n in conn.execute(stmt)}


class Kinds:
    """The channel tabs' counts, kept ``keep`` seconds: counting 100,000 subscribers on every
    page turn is most of a page's time, and a tab's count a few seconds old misleads nobody.
    An action from this console forgets them (``forget``)."""

    def __init__(
        self, archive: Archive, keep: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.archive = archive
        self.keep = keep
        self.clock = clock
        self._last: tuple[float, dict[str, int]] | None = None

    def __call__(self) -> dict[str, int]:
        now = self.clock()
        if self._last is None or now - self._last[0] >= self.keep:
            self._last = (now, kinds(self.archive))
        return self._last[1]

    def forget(self) -> None:
        self._last = None


def page(archive: Archive, wanted: Filter, after: int = 0, size: int = PAGE) -> list[Subscription]:
    stmt = wanted.statement().where(subscriptions.c.id > after).order_by(subscriptions.c.id).limit(size)  # type: ignore[attr-defined]
    with archive.engine.connect() as conn:
        return [subscription_from_row(row._mapping) for row in conn.execute(stmt)]


def rows(archive: Archive, wanted: Filter, size: int = 1000) -> Iterator[list[Subscription]]:
    """Every match, ``size`` at a time, each chunk its own short read."""
    after = 0
    while chunk := page(archive, wanted, after, size):
        yield chunk
        after = chunk[-1].id


def csv_lines(archive: Archive, wanted: Filter) -> Iterator[str]:
    """The filtered subscribers as CSV, streamed. A webhook's secret token is left out."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["kind", "target", "status", "tags", "created", "last_error"])
    for chunk in rows(archive, wanted):
        for sub in chunk:
            writer.writerow(
                [
                    sub.kind,
                    shown_target(sub),
                    sub.status,
                    " ".join(sub.tags),
                    sub.created.isoformat(),
                    hide_webhook_tokens(sub.last_error or ""),
                ]
            )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def shown_target(sub: Subscription) -> str:
    return sub.label.split(":", 1)[1]


def act(archive: Archive, subscription_id: int, action: str) -> Subscription | None:
    """Do ``action`` to one subscription; what it was before (None: there is no such one)."""
    status = ACTIONS[action]
    with archive.engine.begin() as conn:
        row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()
        if row is None:
            return None
        if status is None:
            conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))
        else:
            conn.execute(
                update(subscriptions).where(subscriptions.c.id == subscription_id).values(status=status)
            )
    return subscription_from_row(row._mapping)
