"""How a finished email leaves Paperboy: over SMTP, or into a Maildir when no server is set.

Digests (the ``EmailChannel``) and one-off mail (sign-up confirmations) both go through a
``Transport``, so a fresh machine with no SMTP server still works end to end: every message
lands in a Maildir any mail client can open.

A message is handed over either as an ``EmailMessage`` (one-off mail) or as an ``Outgoing``:
its bytes already made, as a newsletter's thousands of copies are (``bot.render.email.BulkEmail``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Protocol

from bot.config import Settings


@dataclass(frozen=True)
class Outgoing:
    """One message as it travels: the envelope's sender and recipient, and the message's bytes."""

    sender: str
    recipient: str
    data: bytes


class Transport(Protocol):
    async def deliver(self, message: EmailMessage | Outgoing) -> None:
        """Hand one message over; raise ``bot.channels.base`` errors (Transient, Bounced, ...)."""
        ...

    async def close(self) -> None: ...


def envelope(message: EmailMessage) -> tuple[str, list[str]]:
    """Who an ``EmailMessage`` is from and to, as SMTP's MAIL FROM and RCPT TO take them."""
    sender = parseaddr(str(message.get("Sender") or message.get("From") or ""))[1]
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    return sender, [address for _, address in getaddresses(fields) if address]


def maildir_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "maildir"


def transport_from_env(settings: Settings, environ: Mapping[str, str] | None = None) -> Transport:
    """SMTP when PAPERBOY_SMTP_URL is set (a pool of ``smtp_concurrency`` connections), else a
    Maildir under the data folder. Nothing connects or is created until the first message."""
    env = os.environ if environ is None else environ
    url = env.get("PAPERBOY_SMTP_URL", "").strip()
    if url:
        from bot.channels.email.smtp import SmtpPool, parse_smtp_url

        return SmtpPool(parse_smtp_url(url), size=settings.smtp_concurrency)
    from bot.channels.email.maildir import MaildirTransport

    return MaildirTransport(maildir_path(settings))
