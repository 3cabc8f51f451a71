"""Who is logged in to the console, who is locked out, and what was done: all in the database,
so every worker process (and a restart) agrees.

A session's cookie value is 32 random bytes; the table keeps only its SHA-256, so a copy of the
database opens no session. Each session has its own CSRF token, which every form carries. Ten
failed logins from one address within 15 minutes lock that address out for 15 minutes: counted
in the database rather than in ``limits``' memory, which each process would keep apart (the
project runs no Redis or Memcached ``limits`` could share).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select

from bot.archive.schema import admin_audit, admin_failures, admin_lockouts, admin_sessions
from bot.archive.store import Archive

log = logging.getLogger("paperboy.console")
SESSION_LIFETIME = dt.timedelta(hours=12)
LOCK_AFTER = 10
LOCK_WINDOW = dt.timedelta(minutes=15)
LOCK_FOR = dt.timedelta(minutes=15)
Clock = Callable[[], dt.datetime]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Session:
    csrf: str
    address: str
    expires: dt.datetime


@dataclass(frozen=True)
class AuditEntry:
    at: dt.datetime
    address: str
    action: str
    detail: str


class Sessions:
    def __init__(self, archive: Archive, clock: Clock = _utcnow) -> None:
        self.archive = archive
        self.clock = clock

    def open(self, address: str) -> str:
        """A new session (a fresh random id whatever the browser had): the cookie's value."""
        cookie = secrets.token_urlsafe(32)
        now = self.clock()
        with self.archive.engine.begin() as conn:
            conn.execute(delete(admin_sessions).where(admin_sessions.c.expires < now))
            conn.execute(
                insert(admin_sessions).values(
                    id=_key(cookie),
                    csrf=secrets.token_urlsafe(32),
                    address=address[:64],
                    created=now,
                    expires=now + SESSION_LIFETIME,
                )
            )
        return cookie

    def find(self, cookie: str | None) -> Session | None:
        if not cookie or len(cookie) > 128:
            return None
        with self.archive.engine.connect() as conn:
            row = conn.execute(select(admin_sessions).where(admin_sessions.c.id == _key(cookie))).first()
        if row is None or _aware(row.expires) <= self.clock():
            return None
        return Session(row.csrf, row.address, _aware(row.expires))

    def end(self, cookie: str | None) -> None:
        if cookie:
            with self.archive.engine.begin() as conn:
                conn.execute(delete(admin_sessions).where(admin_sessions.c.id == _key(cookie)))

    def locked_until(self, address: str) -> dt.datetime | None:
        with self.archive.engine.connect() as conn:
            until = conn.execute(
                select(admin_lockouts.c.until).where(admin_lockouts.c.address == address[:64])
            ).scalar()
        if until is None or _aware(until) <= self.clock():
            return None
        return _aware(until)

    def failed(self, address: str) -> dt.datetime | None:
        """Count a failed login; the time the address is locked out until, if this one locks it."""
        now, key = self.clock(), address[:64]
        with self.archive.engine.begin() as conn:
            conn.execute(delete(admin_failures).where(admin_failures.c.at < now - LOCK_WINDOW))
            conn.execute(insert(admin_failures).values(address=key, at=now))
            count = conn.execute(
                select(func.count()).where(
                    admin_failures.c.address == key, admin_failures.c.at >= now - LOCK_WINDOW
                )
            ).scalar_one()
            if count < LOCK_AFTER:
                return None
            until = now + LOCK_FOR
            conn.execute(delete(admin_lockouts).where(admin_lockouts.c.address == key))
            conn.execute(insert(admin_lockouts).values(address=key, until=until))
            conn.execute(delete(admin_failures).where(admin_failures.c.address == key))
        return until

    def succeeded(self, address: str) -> None:
        with self.archive.engine.begin() as conn:
            conn.execute(delete(admin_failures).where(admin_failures.c.address == address[:64]))

    def audit(self, address: str, action: str, **changed: Any) -> None:
        """Record an action (and log it): when, from where, what, and what it changed."""
        detail = json.dumps(changed, ensure_ascii=False, sort_keys=True, default=str)
        with self.archive.engine.begin() as conn:
            conn.execute(
                insert(admin_audit).values(
                    at=self.clock(), address=address[:64], action=action, detail=detail
                )
            )
        log.info("console: %s from %s: %s", action, address, detail)

    def audit_log(self, limit: int = 50) -> list[AuditEntry]:
        stmt = select(admin_audit).order_by(admin_audit.c.id.desc()).limit(limit)
        with self.archive.engine.connect() as conn:
            return [AuditEntry(_aware(r.at), r.address, r.action, r.detail) for r in conn.execute(stmt)]
