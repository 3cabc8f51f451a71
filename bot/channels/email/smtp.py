"""Sending over SMTP (aiosmtplib): a few connections, kept open and reused, one message each at a time.

A connection costs a TCP handshake, a greeting, EHLO, often STARTTLS and AUTH: more than a
message. So ``SmtpPool`` keeps up to ``size`` of them open (PAPERBOY_SMTP_CONCURRENCY) and sends
each message on one that is free. SMTP answers per command, so a refusal says what it is about:

- 4xx (421, 450, 451, 452) anywhere, a connection that drops or times out: ``Transient`` (the
  fan-out retries). The message was not accepted, so a retry cannot make a duplicate; a
  recipient whose message was accepted (250 after DATA) is marked sent and never sent again.
- 5xx to RCPT, the recipient's address (550 no such user, 551, 552 mailbox full, 553, 554):
  ``Bounced``, counted against the address, unless the enhanced status says the problem is
  ours (5.7.x "relay access denied", 5.3/5.4/5.5: the server's or the protocol's), which is
  ``Permanent``, as is a 5xx to MAIL or DATA (the sender or the message, not the reader).
- A refused login or a failed TLS handshake: ``Misconfigured`` (settings to fix: the fan-out
  stops and the deliveries wait), remembered for a minute so that nothing tries again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
import time
from email.message import EmailMessage

import aiosmtplib

from bot.channels.base import Bounced, DeliveryError, Misconfigured, Permanent, Transient
from bot.channels.email.smtp_url import SmtpUrl
from bot.channels.email.smtp_url import parse_smtp_url as parse_smtp_url  # where callers look for it
from bot.channels.email.transport import Outgoing, envelope

#: Enhanced status classes (RFC 3463) that blame the sender's side, not the recipient's address.
_NOT_THE_ADDRESS = re.compile(r"^5\.[3457]\.\d{1,3}\b")
_LINE_ENDS = re.compile(rb"\r\n|\n|\r(?!\n)")
#: How long a refused login or TLS failure is answered from memory instead of reconnecting.
BROKEN_FOR = 60.0


class SmtpPool:
    """Up to ``size`` SMTP connections, opened when first needed and kept for the next message."""

    def __init__(
        self,
        url: SmtpUrl,
        size: int = 4,
        *,
        timeout: float = 60.0,
        check_after: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.size = max(1, size)
        self.timeout = timeout
        self.check_after = check_after  # an idle connection older than this gets a NOOP first
        self.tls_context = tls_context
        self.connections_opened = 0
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._slots: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broken: tuple[float, DeliveryError] | None = None
        self._local_hostname: str | None = None

    async def deliver(self, message: EmailMessage | Outgoing) -> None:
        slots = self._bind()
        async with slots:
            smtp = await self._take()
            answered = False  # the server replied (250 or a refusal): the connection is in step
            try:
                await self._send(smtp, message)
                answered = True
            except DeliveryError:
                answered = True  # a lost connection is closed by _send; 421 by aiosmtplib
                raise
            finally:
                if answered and smtp.is_connected:
                    self._idle.append((smtp, time.monotonic()))
                elif not answered:  # cancelled half-way (the process is stopping): never reuse
                    smtp.close()

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for smtp, _since in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, RuntimeError):
                await smtp.quit()  # polite; the server drops it anyway
            smtp.close()

    def _bind(self) -> asyncio.Semaphore:
        """Connections and the semaphore belong to one event loop: new ones if the loop changed."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._slots is None:
            for smtp, _since in self._idle:  # of a loop that is gone: drop, never await
                if isinstance(smtp.transport, asyncio.Transport):
                    with contextlib.suppress(RuntimeError):  # "Event loop is closed"
                        smtp.transport.abort()
            self._idle = []
            self._loop = loop
            self._slots = asyncio.Semaphore(self.size)
        return self._slots

    async def _take(self) -> aiosmtplib.SMTP:
        while self._idle:
            smtp, since = self._idle.pop()  # the most recently used: the least likely to be stale
            if not smtp.is_connected:
                continue
            if time.monotonic() - since < self.check_after:
                return smtp
            try:
                await smtp.noop()
                return smtp
            except (aiosmtplib.SMTPException, OSError):
                smtp.close()
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        if self._broken and time.monotonic() - self._broken[0] < BROKEN_FOR:
            raise self._broken[1]
        if self._local_hostname is None:  # once: getfqdn() may ask DNS
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        url = self.url
        smtp = aiosmtplib.SMTP(
            hostname=url.host,
            port=url.port,
            username=url.username,
            password=url.password,
            use_tls=url.implicit_tls,
            start_tls=False if url.implicit_tls else None,  # None: STARTTLS when the server offers it
            timeout=self.timeout,
            tls_context=self.tls_context,
            local_hostname=self._local_hostname,
        )
        try:
            await smtp.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            smtp.close()  # connected, then refused: the socket is ours to close
            refused = f"{url.safe} refused the login: {exc.code} {exc.message}"
            raise self._break(Misconfigured(f"{refused} (PAPERBOY_SMTP_URL's user or password)")) from exc
        except ssl.SSLError as exc:
            smtp.close()
            raise self._break(
                Misconfigured(
                    f"TLS with {url.safe} failed: {exc} (a private certificate authority?"
                    " point SSL_CERT_FILE at its certificate)"
                )
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            smtp.close()
            raise _by_code(exc.code, f"{url.safe} refused the connection: {exc.code} {exc.message}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise Transient(f"could not connect to {url.safe}: {exc}") from exc
        self._broken = None
        self.connections_opened += 1
        return smtp

    def _break(self, error: DeliveryError) -> DeliveryError:
        self._broken = (time.monotonic(), error)
        return error

    async def _send(self, smtp: aiosmtplib.SMTP, message: EmailMessage | Outgoing) -> None:
        try:
            if isinstance(message, Outgoing):
                await _transaction(smtp, message)
            else:
                sender, recipients = envelope(message)
                await smtp.send_message(message, sender=sender, recipients=recipients)
        except aiosmtplib.SMTPRecipientsRefused as exc:  # every recipient (a digest has one)
            first = exc.recipients[0]
            raise _refused(first.code, first.message, first.recipient) from exc
        except aiosmtplib.SMTPRecipientRefused as exc:  # the one recipient of an ``Outgoing``
            raise _refused(exc.code, exc.message, exc.recipient) from exc
        except aiosmtplib.SMTPSenderRefused as exc:
            refused = f"the sender {exc.sender} was refused: {exc.code} {exc.message}"
            raise _by_code(exc.code, refused) from exc
        except aiosmtplib.SMTPDataError as exc:
            raise _by_code(exc.code, f"the message was refused: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, f"{self.url.safe}: {exc.code} {exc.message}") from exc
        except aiosmtplib.SMTPNotSupported as exc:
            raise Permanent(f"{self.url.safe}: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # dropped, timed out: nothing accepted
            smtp.close()
            raise Transient(f"the connection to {self.url.safe} was lost: {exc}") from exc


def wire(data: bytes) -> tuple[bytes, int]:
    """A message as DATA carries it (CRLF line ends, dot-stuffed, ending CRLF.CRLF) and its size
    for MAIL's SIZE= (RFC 1870: with CRLFs, before the stuffing).

    aiosmtplib does the same with three regular-expression passes over each message (1.4 ms for
    36 KB here: a third of what a copy costs); a copy from ``BulkEmail`` has only LF line ends,
    so plain ``bytes.replace`` does it, and anything with a CR takes aiosmtplib's general rule."""
    # a lone CR or LF becomes CRLF; with no CR at all, every LF is a lone one
    data = _LINE_ENDS.sub(b"\r\n", data) if b"\r" in data else data.replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    size = len(data)
    stuffed = data.replace(b"\r\n.", b"\r\n..")
    return (b"." + stuffed if stuffed.startswith(b".") else stuffed) + b".\r\n", size


async def _transaction(smtp: aiosmtplib.SMTP, message: Outgoing) -> None:
    """MAIL, RCPT, DATA for one copy: aiosmtplib's ``sendmail`` with the data made by ``wire``.

    The pool lends a connection to one delivery at a time, so nothing else speaks on it between
    the 354 and the message. A refusal resets the envelope (RSET), as ``sendmail`` does, so the
    connection can carry the next message."""
    utf8 = not (message.sender + message.recipient).isascii()
    if utf8 and not smtp.supports_extension("smtputf8"):
        raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
    data, size = wire(message.data)
    options = [f"SIZE={size}"] if smtp.supports_extension("size") else []
    options += ["SMTPUTF8"] if utf8 else []
    encoding = "utf-8" if utf8 else "ascii"
    try:
        await smtp.mail(message.sender, options=options, encoding=encoding)
        await smtp.rcpt(message.recipient, encoding=encoding)
        started = await smtp.execute_command(b"DATA")
        if started.code != 354:
            raise aiosmtplib.SMTPDataError(started.code, started.message)
        if smtp.protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        smtp.protocol.write(data)
        try:
            done = await smtp.protocol.read_response(timeout=smtp.timeout)
        except aiosmtplib.SMTPException:
            smtp.close()  # out of step with the server: never reuse
            raise
        if done.code != 250:
            raise aiosmtplib.SMTPDataError(done.code, done.message)
    except aiosmtplib.SMTPResponseException as exc:
        if exc.code == 421:  # the server is closing the connection
            smtp.close()
        elif smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.rset()
        raise


def _by_code(code: int, message: str) -> DeliveryError:
    return Transient(message) if 400 <= code < 500 else Permanent(message)


def _refused(code: int, reply: str, recipient: str) -> DeliveryError:
    """A refused RCPT: 4xx try later; 5xx the address bounced, unless the server blames us."""
    message = f"{recipient} was refused: {code} {reply}"
    if 400 <= code < 500:
        return Transient(message)
    if _NOT_THE_ADDRESS.match(reply):
        return Permanent(message)
    return Bounced(message)
