"""Subscriptions: who receives digests, where, and filtered to which tags.

Admins manage them from the CLI and (later) chat commands do; both go through here. A target
is written ``KIND:TARGET``: ``telegram:-100123`` (a chat), ``telegram:@channel``,
``telegram:-100123/45`` (a forum topic), ``discord:123456789012345678`` (a channel id),
``email:reader@example.org``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from bot.archive.schema import subscriptions
from bot.archive.store import Archive
from bot.archive.text import normalize_tag
from bot.errors import InputError, NotFound
from bot.models import KINDS, STATUSES, Subscription

# ASCII digits only: ``\d`` also matches other scripts' digits, which int() reads as the same id.
_TELEGRAM = re.compile(r"-?[0-9]{1,20}(/[0-9]{1,12})?|@[A-Za-z][A-Za-z0-9_]{3,31}")
_DISCORD = re.compile(r"[0-9]{15,20}")  # a snowflake: 64 bits, at most 20 digits
_ROLE = re.compile(r"<@&([0-9]{15,20})>|([0-9]{15,20})")  # as Discord writes a role mention, or its id
#: What Discord's "Copy Webhook URL" gives (any of its hosts), normalised to discord.com; the id and
#: token as discord.py's ``Webhook.from_url`` accepts them (17-20 digits; 60 or more of
#: ``[A-Za-z0-9._-]``), so every stored webhook can be sent to.
_WEBHOOK = re.compile(
    r"https://(?:(?:canary|ptb)\.)?discord(?:app)?\.com/api(?:/v[0-9]+)?/webhooks/([0-9]{17,20})"
    r"/([A-Za-z0-9._-]{60,100})/?"
)


#: A webhook's token wherever a URL to it is quoted (an error text, a log line): everything up to
#: where a URL's path segment ends.
_WEBHOOK_TOKEN = re.compile(r"(/webhooks/[0-9]+/)[^/?#\s'\"]+")


def hide_webhook_tokens(text: str, mask: str = "…") -> str:
    """``text`` with every Discord webhook token in it replaced by ``mask``: the token is the
    webhook's only secret, and its URL turns up in aiohttp's errors and discord.py's logs."""
    return _WEBHOOK_TOKEN.sub(lambda found: found[1] + mask, text) if "/webhooks/" in text else text


def parse_address(address: str) -> tuple[str, str]:
    """``KIND:TARGET`` checked for its platform; a clear ``InputError`` otherwise."""
    kind, _, target = address.strip().partition(":")
    kind, target = kind.lower(), target.strip()
    if kind not in KINDS:
        raise InputError(f"{address!r}: the kind must be one of {', '.join(KINDS)}, as in telegram:-100123")
    if not target:
        raise InputError(f"{address!r}: give the target after '{kind}:'")
    if kind == "telegram" and not _TELEGRAM.fullmatch(target):
        raise InputError(
            f"{address!r}: a Telegram target is a chat id (-100123), a chat and topic"
            " (-100123/45) or @channel"
        )
    if kind == "discord" and not _DISCORD.fullmatch(target):
        raise InputError(f"{address!r}: a Discord target is a channel id, 15 to 20 digits")
    if kind == "discord-webhook":
        found = _WEBHOOK.fullmatch(target)
        if not found:
            raise InputError(
                "a Discord webhook target is the URL Discord gives under Integrations → Webhooks →"
                " Copy Webhook URL: https://discord.com/api/webhooks/ID/TOKEN"
            )  # the address is not repeated: it holds the webhook's secret token
        target = f"https://discord.com/api/webhooks/{found[1]}/{found[2]}"
    if kind == "email":
        from email_validator import EmailNotValidError, validate_email

        try:
            target = validate_email(target, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InputError(f"{address!r}: {exc}") from None
    return kind, target


def parse_tags(raw: Sequence[str]) -> tuple[str, ...]:
    tags: list[str] = []
    for item in raw:
        for part in re.split(r"[,\s]+", item):
            if part:
                try:
                    tags.append(normalize_tag(part))
                except ValueError as exc:
                    raise InputError(str(exc)) from None
    return tuple(dict.fromkeys(tags))


def parse_mention(raw: str | None) -> str | None:
    """A Discord role to mention: its id, or ``<@&id>`` as Discord writes it; empty: none."""
    text = (raw or "").strip()
    if not text:
        return None
    found = _ROLE.fullmatch(text)
    if not found:
        raise InputError(f"{raw!r}: a role to mention is a Discord role id (15 to 20 digits) or <@&id>")
    return found[1] or found[2]


def add(
    archive: Archive,
    address: str,
    tags: Sequence[str] = (),
    *,
    now: dt.datetime | None = None,
    mention: str | None = None,
) -> Subscription:
    """Subscribe a target, or update the tags (and mention) of, and reactivate, an existing one."""
    kind, target = parse_address(address)
    wanted = json.dumps(list(parse_tags(tags)))
    role = parse_mention(mention)
    if role and kind not in ("discord", "discord-webhook"):
        raise InputError("only a Discord subscription (a channel or a webhook) can mention a role")
    when = now or dt.datetime.now(dt.UTC)
    with archive.engine.begin() as conn:
        existing = conn.execute(
            select(subscriptions.c.id).where(subscriptions.c.kind == kind, subscriptions.c.target == target)
        ).scalar()
        if existing is None:
            values = {
                "kind": kind,
                "target": target,
                "tags": wanted,
                "status": "active",
                "created": when,
                "mention": role,
            }
            conn.execute(insert(subscriptions).values(values))
        else:
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == existing)
                .values(tags=wanted, status="active", last_error=None, mention=role, bounces=0)
            )
    return get(archive, f"{kind}:{target}")


def get(archive: Archive, address: str) -> Subscription:
    kind, target = parse_address(address)
    with archive.engine.connect() as conn:
        row = conn.execute(
            select(subscriptions).where(subscriptions.c.kind == kind, subscriptions.c.target == target)
        ).first()
    if row is None:
        raise NotFound(f"no subscription for {kind}:{target}")
    return subscription_from_row(row._mapping)


def remove(archive: Archive, address: str) -> Subscription:
    found = get(archive, address)
    with archive.engine.begin() as conn:
        conn.execute(delete(subscriptions).where(subscriptions.c.id == found.id))
    return found


def all_subscriptions(
    archive: Archive, *, status: str | None = None, kind: str | None = None
) -> list[Subscription]:
    stmt = select(subscriptions).order_by(subscriptions.c.kind, subscriptions.c.target)
    if status:
        stmt = stmt.where(subscriptions.c.status == status)
    if kind:
        stmt = stmt.where(subscriptions.c.kind == kind)
    with archive.engine.connect() as conn:
        return [subscription_from_row(row._mapping) for row in conn.execute(stmt)]


def status_counts(archive: Archive) -> Counter[tuple[str, str]]:
    """How many subscriptions there are of each (kind, status)."""
    stmt = select(subscriptions.c.kind, subscriptions.c.status, func.count()).group_by(
        subscriptions.c.kind, subscriptions.c.status
    )
    with archive.engine.connect() as conn:
        return Counter({(kind, status): n for kind, status, n in conn.execute(stmt)})


def active_pages(archive: Archive, size: int = 1000) -> Iterator[list[Subscription]]:
    """Every active subscription, ``size`` at a time in id order, each page its own short read
    (no cursor held open while the caller writes, which SQLite would make wait)."""
    after = 0
    while True:
        stmt = (
            select(subscriptions)
            .where(subscriptions.c.status == "active", subscriptions.c.id > after)
            .order_by(subscriptions.c.id)
            .limit(size)
        )
        with archive.engine.connect() as conn:
            page = [subscription_from_row(row._mapping) for row in conn.execute(stmt)]
        if not page:
            return
        yield page
        after = page[-1].id


def set_status(archive: Archive, subscription_id: int, status: str, error: str | None = None) -> None:
    """Pause, reactivate or retire a subscription (a blocked bot, a deleted chat: gone)."""
    if status not in STATUSES:
        raise InputError(f"status must be one of {', '.join(STATUSES)}")
    with archive.engine.begin() as conn:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == subscription_id)
            .values(status=status, last_error=error)
        )


def note_error(archive: Archive, subscription_id: int, error: str) -> None:
    """Keep a subscription's last failure for ``subscriptions list`` (it stays active)."""
    with archive.engine.begin() as conn:
        conn.execute(
            update(subscriptions).where(subscriptions.c.id == subscription_id).values(last_error=error)
        )


def move(archive: Archive, subscription_id: int, new_target: str) -> None:
    """A chat that moved (a group upgraded to a supergroup) keeps its subscription."""
    with archive.engine.begin() as conn:
        conn.execute(
            update(subscriptions).where(subscriptions.c.id == subscription_id).values(target=new_target)
        )


def bounced(archive: Archive, subscription_id: int, error: str, limit: int) -> bool:
    """Count a hard bounce (an email address the receiving server refused); at ``limit`` bounces
    in a row the subscription is gone. Returns whether it is. One statement counts, so two
    workers bouncing the same address at once both count."""
    table = subscriptions.c
    with archive.engine.begin() as conn:
        count = conn.execute(
            update(subscriptions)
            .where(table.id == subscription_id)
            .values(bounces=table.bounces + 1, last_error=error)
            .returning(table.bounces)
        ).scalar()
        if count is None or count < limit:
            return False
        conn.execute(update(subscriptions).where(table.id == subscription_id).values(status="gone"))
    return True


def reset_bounces(archive: Archive, subscription_id: int) -> None:
    """A delivery was accepted: the bounces so far were not in a row. (The fan-out calls this only
    for a subscription that has bounced, so thousands of sends a second write nothing more.)"""
    with archive.engine.begin() as conn:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == subscription_id, subscriptions.c.bounces > 0)
            .values(bounces=0)
        )


def subscription_from_row(row: Any) -> Subscription:
    created = row["created"]
    if created.tzinfo is None:  # SQLite hands back naive datetimes; they are stored in UTC
        created = created.replace(tzinfo=dt.UTC)
    return Subscription(
        id=row["id"],
        kind=row["kind"],
        target=row["target"],
        tags=tuple(json.loads(row["tags"])),
        status=row["status"],
        created=created,
        last_error=row["last_error"],
        mention=row["mention"],
        bounces=row["bounces"],
        confirm_sent=_utc(row["confirm_sent"]),
    )


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite: naive, stored in UTC
        return value.replace(tzinfo=dt.UTC)
    return value
