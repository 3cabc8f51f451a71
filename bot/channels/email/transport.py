"""How a finished email leaves Paperboy: over SMTP, or into a Maildir when no server is set.

Digests (the ``EmailChannel``) and one-off mail (sign-up confirmations) both go through a
``Transport``, so a fresh machine with no SMTP server still works end to end: every message
lands in a Maildir any mail client can open.
"""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Transport(Protocol):
    async def deliver(self, message: EmailMessage) -> None:
        """Hand one message over; raise ``bot.channels.base`` errors (Transient, Permanent, ...)."""
        ...

    async def close(self) -> None: ...
