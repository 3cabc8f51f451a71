"""A real SMTP server for the email tests: aiosmtpd on 127.0.0.1, in a thread of its own.

``Inbox`` keeps what it accepted (one entry per message and recipient, after the 250 to DATA)
and when it came in, and the connections that sent mail, and can be scripted to misbehave the
ways real servers do: answer RCPT for an address with 4xx or 5xx replies (``refuse``), drop the
connection instead of answering DATA (``drop_data``), or close a connection after N messages
(``close_after``).
``smtp_server(...)`` starts one, optionally with STARTTLS or implicit TLS and AUTH, on a port
picked free first (aiosmtpd's own readiness probe cannot use port 0).
"""

from __future__ import annotations

import email
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipient: str
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


class Inbox:
    """The handler: accepts everything unless told otherwise, and remembers it all."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[Received] = []
        self.sessions: list[Session] = []  # each connection that sent MAIL, once
        self.encrypted: list[bool] = []  # and whether it was over TLS (STARTTLS or from the start)
        self.refusals: list[tuple[str, str]] = []  # (recipient, reply) as answered
        self.mail_options: list[list[str]] = []  # MAIL FROM's parameters (SIZE=, SMTPUTF8), each time
        self.arrivals: list[float] = []  # when each accepted message came in (time.monotonic)
        self._refuse: dict[str, list[str]] = {}
        self._drop_data: dict[str, int] = {}
        self._close_after: int | None = None
        self._per_session: dict[int, int] = {}

    # -- scripting ------------------------------------------------------------------------------
    def refuse(self, recipient: str, *replies: str) -> None:
        """Answer RCPT TO for ``recipient`` with these replies, one per attempt, then accept."""
        self._refuse.setdefault(recipient, []).extend(replies)

    def drop_data(self, recipient: str, times: int = 1) -> None:
        """Close the connection once a message to ``recipient`` is in, without answering DATA."""
        self._drop_data[recipient] = times

    def close_after(self, messages: int) -> None:
        """Each connection is dropped (no reply, no QUIT) right after its N-th accepted message."""
        self._close_after = messages

    # -- what happened ----------------------------------------------------------------------------
    def to(self, recipient: str) -> list[Received]:
        with self.lock:
            return [item for item in self.accepted if item.recipient == recipient]

    @property
    def connections(self) -> int:
        return len(self.sessions)

    # -- aiosmtpd hooks ---------------------------------------------------------------------------
    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            if not any(known is session for known in self.sessions):
                self.sessions.append(session)
                self.encrypted.append(server.transport.get_extra_info("ssl_object") is not None)
            self.mail_options.append(list(options))
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        with self.lock:
            scripted = self._refuse.get(address)
            reply = scripted.pop(0) if scripted else None
            if reply:
                self.refusals.append((address, reply))
        if reply:
            if reply.startswith("421"):
                server.transport.close()  # 421 means the server is closing the connection
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes) and envelope.mail_from is not None
        with self.lock:
            for recipient in envelope.rcpt_tos:
                if self._drop_data.get(recipient):
                    self._drop_data[recipient] -= 1
                    server.transport.abort()  # gone before the 250: the message is not taken
                    return "451 never seen"
            self.accepted.extend(Received(envelope.mail_from, r, envelope.content) for r in envelope.rcpt_tos)
            self.arrivals.extend(time.monotonic() for _ in envelope.rcpt_tos)
            count = self._per_session[id(session)] = self._per_session.get(id(session), 0) + 1
        if self._close_after and count >= self._close_after:
            loop = server.loop
            loop.call_soon(server.transport.abort)  # after the 250 goes out
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def accept_login(user: str, password: str) -> Any:
    """An aiosmtpd authenticator that knows one user."""

    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return authenticate


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def self_signed(folder: Path) -> Certificate | None:
    """A certificate for 127.0.0.1 made by the openssl command (None where there is none)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subject = ("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
    files = ("-keyout", str(key), "-out", str(cert))
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", *subject, *files],
        check=True,
        capture_output=True,
    )
    return Certificate(cert, key)


@contextmanager
def smtp_server(inbox: Inbox | None = None, **options: Any) -> Iterator[tuple[Inbox, int]]:
    """aiosmtpd on 127.0.0.1:PORT with ``inbox`` as handler; ``options`` go to aiosmtpd's SMTP
    (tls_context, require_starttls, authenticator, auth_required, ...) or, as ``ssl_context``,
    make it implicit TLS."""
    handler = inbox or Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
