"""The embedded default: with no SMTP server set, every message goes into a Maildir.

``paperboy run`` on a fresh machine then works end to end: the newcomer opens
``DATA_DIR/maildir`` in any mail client (mutt -f, Thunderbird, Evolution) and finds the sign-up
confirmation and every digest there. Each message keeps its To and gets the ``Return-Path`` and
``Delivered-To`` a mail server would add, so one Maildir can hold mail for many readers and
still say whose each one is.
"""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from bot.channels.base import Permanent, Transient
from bot.channels.email.transport import Outgoing, envelope


class MaildirTransport:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._box: mailbox.Maildir | None = None
        self.delivered = 0

    async def deliver(self, message: EmailMessage | Outgoing) -> None:
        if isinstance(message, Outgoing):
            sender, recipients, data = message.sender, [message.recipient], message.data
        else:
            sender, recipients = envelope(message)
            data = message.as_bytes(policy=default)  # LF line ends, as files keep them
        if not recipients:
            raise Permanent("the message has no recipient (To, Cc or Bcc)")
        trace = f"Return-Path: <{sender}>\n" + "".join(f"Delivered-To: {r}\n" for r in recipients)
        try:
            self._maildir().add(trace.encode() + data.replace(b"\r\n", b"\n"))
        except OSError as exc:  # a full disk, a folder made read-only: may pass
            raise Transient(f"could not write to the Maildir {self.path}: {exc}") from exc
        self.delivered += 1

    async def close(self) -> None:
        self._box = None

    def _maildir(self) -> mailbox.Maildir:
        """Made on the first message, so commands that send nothing leave no folder behind."""
        if self._box is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._box = mailbox.Maildir(self.path, create=True)
        return self._box
