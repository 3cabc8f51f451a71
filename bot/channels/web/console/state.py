"""What the overview and the deliveries page show, read from the archive and the ledger's
tables in a few grouped queries (a million deliveries are counted by the index on day and
status, never loaded)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.archive import counts, queries
from bot.archive.schema import corrections, deliveries, drafts, publications, subscriptions
from bot.archive.store import Archive
from bot.config import Settings
from bot.models import Subscription
from bot.subscriptions import subscription_from_row

#: The ledger's statuses as the console shows them: "waiting" is pending with a set time ahead
#: (a platform's retry-after, the email window).
SHOWN = ("sent", "pending", "waiting", "sending", "failed", "gone")
DAYS_SHOWN = 7
PAGE = 100


@dataclass
class DayCounts:
    day: dt.date
    #: channel -> status -> count
    by_channel: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelState:
    kind: str
    on: bool
    why: str


@dataclass(frozen=True)
class LedgerRow:
    id: int
    day: dt.date
    subscription: Subscription
    status: str
    attempts: int
    last_error: str | None
    not_before: dt.datetime | None


def next_publish(settings: Settings, now: dt.datetime) -> dt.datetime:
    """The next PAPERBOY_PUBLISH_AT, in the operator's time zone."""
    local = now.astimezone(settings.timezone)
    when = dt.datetime.combine(local.date(), settings.publish_at, tzinfo=settings.timezone)
    return when if when > local else when + dt.timedelta(days=1)


def channel_states(env: Mapping[str, str]) -> list[ChannelState]:
    """Each channel on or off, and why: the registry's own rule (its setting present), without
    building a channel (no client is opened to render a page)."""
    from bot.channels.registry import CHANNELS

    states = []
    for item in CHANNELS:
        if item.setting and not env.get(item.setting):
            states.append(ChannelState(item.kind, False, f"{item.setting} is not set"))
        elif item.factory is None:
            states.append(ChannelState(item.kind, False, "no sender in this version"))
        elif item.kind == "email":
            smtp = bool(env.get("PAPERBOY_SMTP_URL", "").strip())
            why = "through PAPERBOY_SMTP_URL" if smtp else "into a Maildir: PAPERBOY_SMTP_URL is not set"
            states.append(ChannelState(item.kind, True, why))
        else:
            states.append(ChannelState(item.kind, True, f"{item.setting} is set" if item.setting else "on"))
    return states


def recent_days(archive: Archive, now: dt.datetime, count: int = DAYS_SHOWN) -> list[DayCounts]:
    """The last days published, with their deliveries counted by channel and status (from the
    counts the database keeps as deliveries change: ``bot.archive.counts``)."""
    with archive.engine.connect() as conn:
        days = list(conn.scalars(select(publications.c.day).order_by(publications.c.day.desc()).limit(count)))
        found = counts.by_day(conn, days, now)
    return [DayCounts(day, found[day]) for day in days]


def ledger_page(
    archive: Archive,
    now: dt.datetime,
    *,
    day: dt.date | None,
    status: str | None,
    after: int = 0,
    size: int = PAGE,
) -> list[LedgerRow]:
    """One page of the ledger (newest day first, keyset-paged by id within the filter)."""
    stmt = (
        select(deliveries, subscriptions.c.id.label("sub_id"), *_subscription_columns())
        .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
        .where(deliveries.c.id > after)
        .order_by(deliveries.c.id)
        .limit(size)
    )
    if day is not None:
        stmt = stmt.where(deliveries.c.day == day)
    if status == "waiting":
        stmt = stmt.where(deliveries.c.status == "pending", deliveries.c.not_before > now)
    elif status == "pending":
        stmt = stmt.where(deliveries.c.status == "pending").where(
            (deliveries.c.not_before.is_(None)) | (deliveries.c.not_before <= now)
        )
    elif status:
        stmt = stmt.where(deliveries.c.status == status)
    with archive.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [
        LedgerRow(
            row.id,
            row.day,
            subscription_from_row(
                {
                    name.removeprefix("s_"): value
                    for name, value in row._mapping.items()
                    if name.startswith("s_")
                }
                | {"id": row.sub_id}
            ),
            "waiting"
            if row.status == "pending" and row.not_before and _aware(row.not_before) > now
            else row.status,
            row.attempts,
            row.last_error,
            _aware(row.not_before) if row.not_before else None,
        )
        for row in rows
    ]


def _subscription_columns() -> list[Any]:
    return [column.label(f"s_{column.name}") for column in subscriptions.c if column.name != "id"]


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Desk:
    inbox: list[str]
    queued: int
    queue_head: list[str]
    drafts: int
    corrections: list[tuple[dt.date, int]]


def desk_state(archive: Archive, inbox: Path) -> Desk:
    """The inbox folder, the undated queue, drafts waiting in chat, and recent corrections."""
    files = sorted(p.name for p in inbox.iterdir() if p.is_file()) if inbox.is_dir() else []
    queued = queries.queue(archive)
    with archive.engine.connect() as conn:
        waiting = int(conn.execute(select(func.count()).select_from(drafts)).scalar_one())
        fixes = conn.execute(
            select(corrections.c.day, func.count())
            .group_by(corrections.c.day)
            .order_by(corrections.c.day.desc())
            .limit(DAYS_SHOWN)
        ).all()
    return Desk(
        files[:20], len(queued), [p.title for p in queued[:5]], waiting, [(d, int(n)) for d, n in fixes]
    )
