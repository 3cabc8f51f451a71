"""Double opt-in for email subscribers: sign up, confirm from the inbox, unsubscribe in one click.

Platform-neutral (the web server's routes are thin adapters over this). An address that asks is
stored ``pending`` and gets a signed confirmation link; only opening it makes the subscription
``active``, and only active subscriptions ever receive digests. Asking again resends at most once
per ``confirm_resend_minutes``, decided by one conditional UPDATE so two servers racing on the
same address still send one mail; an address already subscribed gets a short reminder instead
(throttled the same way), and the form answers every case with the same words, so it cannot be
used to learn who is subscribed or to flood someone's inbox.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.archive.queries import closest_tags, tag_counts
from bot.archive.schema import subscriptions
from bot.archive.store import Archive
from bot.channels.email.sender import build_notice
from bot.channels.email.tokens import CONFIRM, UNSUBSCRIBE, BadToken, Signer, signer
from bot.channels.email.transport import Transport
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.errors import InputError
from bot.render.environment import Templates
from bot.subscriptions import parse_tags, subscription_from_row

MAX_ADDRESS = 254  # RFC 5321's limit on a forward path
MAX_TAGS = 20
CONFIRM_SUBJECT = "Confirm your Paperboy subscription"
REMIND_SUBJECT = "You are already subscribed to Paperboy"

Outcome = Literal["confirm", "remind", "throttled"]


class SignupGone(InputError):
    """A confirmation link for a sign-up that no longer waits (cancelled, or retired since)."""


@dataclass(frozen=True)
class Signup:
    """What a sign-up request came to. ``token`` is set when an email should go out now."""

    outcome: Outcome
    address: str
    tags: tuple[str, ...]
    subscription_id: int
    token: str | None
    #: ``confirm_sent`` before this request, to put back if the email could not be sent.
    previous_sent: dt.datetime | None


def parse_email(raw: str) -> str:
    """The address as stored (normalised); an ``InputError`` that says what is wrong with it."""
    text = raw.strip()
    if not text:
        raise InputError("Give an email address.")
    if any(char in text for char in "\r\n"):
        raise InputError("An email address cannot contain line breaks.")
    if len(text) > MAX_ADDRESS:
        raise InputError(f"That email address is {len(text)} characters long; at most {MAX_ADDRESS} work.")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InputError(f"That is not a valid email address: {exc}") from None


def check_tags(archive: Archive, raw: Sequence[str]) -> tuple[str, ...]:
    """The tags asked for, each one the archive knows; a typo is refused with the closest tags."""
    tags = parse_tags(raw)
    if len(tags) > MAX_TAGS:
        raise InputError(f"Choose at most {MAX_TAGS} tags, not {len(tags)}.")
    known = {tc.tag for tc in tag_counts(archive)}
    for tag in tags:
        if tag not in known:
            near = ", ".join(f"#{tc.tag}" for tc in closest_tags(archive, tag))
            hint = f" Did you mean {near}?" if near else ""
            raise InputError(f"No paper has the tag #{tag} yet.{hint}")
    return tags


def request_signup(
    archive: Archive,
    signer: Signer,
    address: str,
    tags: Sequence[str],
    now: dt.datetime,
    *,
    resend_after: dt.timedelta = dt.timedelta(minutes=10),
) -> Signup:
    """Record a sign-up (``pending``), or note a repeated one; never changes an active one."""
    target = parse_email(address)
    wanted = parse_tags(tags)
    try:
        return _request(archive, signer, target, wanted, now, resend_after)
    except IntegrityError:  # another request inserted the same address first: now it exists
        return _request(archive, signer, target, wanted, now, resend_after)


def _request(
    archive: Archive,
    signer: Signer,
    target: str,
    tags: tuple[str, ...],
    now: dt.datetime,
    resend_after: dt.timedelta,
) -> Signup:
    table = subscriptions.c
    with archive.engine.begin() as conn:
        row = conn.execute(select(subscriptions).where(table.kind == "email", table.target == target)).first()
        if row is None:
            values = {
                "kind": "email",
                "target": target,
                "tags": json.dumps(list(tags)),
                "status": "pending",
                "created": now,
                "confirm_sent": now,
            }
            inserted = conn.execute(insert(subscriptions).values(values)).inserted_primary_key
            assert inserted is not None
            return Signup("confirm", target, tags, int(inserted[0]), signer.sign(CONFIRM, target), None)
        existing = subscription_from_row(row._mapping)
        waiting = existing.status in ("pending", "gone")
        changes: dict[str, object] = {"confirm_sent": now}
        if waiting:  # the newest request's tags are the ones its link confirms
            changes.update(status="pending", tags=json.dumps(list(tags)))
        claimed = conn.execute(
            update(subscriptions)
            .where(
                table.id == existing.id,
                or_(table.confirm_sent.is_(None), table.confirm_sent <= now - resend_after),
            )
            .values(**changes)
        ).rowcount
    if not claimed:
        return Signup("throttled", target, existing.tags, existing.id, None, existing.confirm_sent)
    if waiting:
        return Signup(
            "confirm", target, tags, existing.id, signer.sign(CONFIRM, target), existing.confirm_sent
        )
    token = signer.sign(UNSUBSCRIBE, target)
    return Signup("remind", target, existing.tags, existing.id, token, existing.confirm_sent)


def unsent(archive: Archive, signup: Signup) -> None:
    """The email for ``signup`` could not go: let the address ask again at once."""
    with archive.engine.begin() as conn:
        conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == signup.subscription_id)
            .values(confirm_sent=signup.previous_sent)
        )


@dataclass(frozen=True)
class Confirmed:
    address: str
    #: False when the link had been opened before (the subscription was active already).
    new: bool
    tags: tuple[str, ...]


def confirm(archive: Archive, signer: Signer, token: str, max_age_s: int, now: dt.datetime) -> Confirmed:
    """Open a confirmation link: ``pending`` becomes ``active`` (subscribed from ``now`` on)."""
    target = signer.verify(CONFIRM, token, max_age_s=max_age_s)
    table = subscriptions.c
    with archive.engine.begin() as conn:
        done = conn.execute(
            update(subscriptions)
            .where(table.kind == "email", table.target == target, table.status == "pending")
            .values(status="active", created=now, bounces=0, last_error=None)
        ).rowcount
        row = conn.execute(select(subscriptions).where(table.kind == "email", table.target == target)).first()
    if row is None or row.status != "active":
        raise SignupGone(
            "There is no sign-up waiting for this address any more (it was cancelled or unsubscribed)."
            " Sign up again to get a new link."
        )
    return Confirmed(target, bool(done), tuple(json.loads(row.tags)))


def unsubscribe(archive: Archive, signer: Signer, token: str) -> str | None:
    """Remove the subscription a genuine unsubscribe token names: its address, or None if there
    was none (a second click). A forged or altered token raises ``BadToken`` and changes nothing."""
    target = signer.verify(UNSUBSCRIBE, token)
    table = subscriptions.c
    with archive.engine.begin() as conn:
        removed = conn.execute(
            delete(subscriptions).where(table.kind == "email", table.target == target)
        ).rowcount
    return target if removed else None


class Mailer:
    """Sign-up mail (confirmations, reminders) rendered from templates/email/confirm.* and handed
    to a ``Transport``; also the signer every sign-up link is checked with."""

    def __init__(
        self, settings: Settings, signer: Signer, transport: Transport, templates: Templates
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.transport = transport
        self.templates = templates

    def message(self, signup: Signup, now: dt.datetime) -> EmailMessage:
        assert signup.token is not None, "only a sign-up with a token gets an email"
        site = self.settings.site_url
        remind = signup.outcome == "remind"
        context = {
            "site_url": site,
            "address": signup.address,
            "tags": signup.tags,
            "already": remind,
            "confirm_url": None if remind else f"{site}/confirm/{signup.token}",
            "unsubscribe_url": f"{site}/unsubscribe/{signup.token}" if remind else None,
            "hours": self.settings.confirm_hours,
        }
        subject = REMIND_SUBJECT if remind else CONFIRM_SUBJECT
        text = self.templates.render("email/confirm.txt", context).strip() + "\n"
        html = self.templates.render("email/confirm.html", {**context, "subject": subject})
        # RFC 3834: this mail answers a request, so autoresponders should not answer it.
        headers = {"Auto-Submitted": "auto-generated"}
        return build_notice(self.settings, signup.address, subject, text, html, headers=headers, now=now)

    async def send(self, signup: Signup, now: dt.datetime) -> None:
        """Deliver the sign-up's email; the transport's errors (``bot.channels.base``) propagate."""
        await self.transport.deliver(self.message(signup, now))

    async def close(self) -> None:
        await self.transport.close()


def mailer_from_env(settings: Settings, env: Mapping[str, str]) -> Mailer:
    """Sign-up mail as the deployment sends mail: over PAPERBOY_SMTP_URL, else into the Maildir."""
    from bot.channels.email.transport import transport_from_env

    templates = Templates(DEFAULT_TEMPLATES, settings.templates)
    return Mailer(settings, signer(settings, env), transport_from_env(settings, env), templates)


__all__ = [
    "BadToken",
    "Confirmed",
    "Mailer",
    "Signup",
    "SignupGone",
    "check_tags",
    "confirm",
    "mailer_from_env",
    "parse_email",
    "request_signup",
    "unsent",
    "unsubscribe",
]
