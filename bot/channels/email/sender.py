"""The email channel: a day's digest to each subscriber's inbox, with a one-click way out.

Every copy is its own message to one address (its own delivery in the ledger), so a refusal or a
dropped connection concerns that reader only and a retry never resends to the others. Each copy
carries, for that reader:

- ``List-Unsubscribe: <https://SITE/unsubscribe/TOKEN>`` (and ``<mailto:...>`` when
  PAPERBOY_UNSUBSCRIBE_MAILTO is set) with ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
  (RFC 8058): mail clients show an Unsubscribe button that POSTs there, and the web server
  removes the subscription at once. The footer of both parts links to the same page (a GET
  shows one button). TOKEN is the address signed with PAPERBOY_SECRET_KEY (``tokens.py``).
- a Message-ID on the site's own domain (PAPERBOY_BASE_URL's host), Date, From, Reply-To.

The digest is rendered once per tag filter (``render``); each copy is then addressed in tens of
microseconds (``bot.render.email.BulkEmail``). A sent email cannot be corrected: when the curator
asks, subscribers get a short correction email instead (``render_correction``), sent the same way.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from bot.archive.corrections import PaperChange
from bot.channels.base import Channel, Pace
from bot.channels.email.tokens import UNSUBSCRIBE, Signer, signer
from bot.channels.email.transport import Outgoing, Transport, transport_from_env
from bot.config import DEFAULT_TEMPLATES, Settings
from bot.errors import InputError
from bot.render.context import DigestView
from bot.render.correction import render_correction_email
from bot.render.email import UNSUBSCRIBE_MARK, BulkEmail, RenderedEmail, render_email
from bot.render.environment import Templates

ONE_CLICK = "List-Unsubscribe=One-Click"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def site_domain(settings: Settings) -> str:
    """The host of the site's URL: Message-IDs are ours, whoever relays the mail."""
    return urlsplit(settings.site_url).hostname or "localhost"


def sender_address(settings: Settings) -> str:
    """The bare address of PAPERBOY_FROM (SMTP's MAIL FROM); an ``InputError`` if it has none."""
    address = parseaddr(settings.email_from)[1]
    if "@" not in address:
        raise InputError(
            f"PAPERBOY_FROM is {settings.email_from!r}: give an address, such as"
            " 'Paperboy <digest@example.org>' or digest@example.org"
        )
    return address


def unsubscribe_url(settings: Settings, signer: Signer, address: str) -> str:
    """The one-click link for ``address`` (the web server answers GET with a page, POST at once)."""
    return f"{settings.site_url.rstrip('/')}/unsubscribe/{signer.sign(UNSUBSCRIBE, address)}"


def list_unsubscribe(url: str, mailto: str | None) -> str:
    """The List-Unsubscribe value: the https link first (RFC 8058 needs one), then the mailto."""
    links = [f"<{url}>"]
    if mailto:
        links.append(f"<mailto:{quote(mailto, safe='@')}?subject=unsubscribe>")
    return ", ".join(links)


def build_notice(
    settings: Settings,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """A one-off message (a confirmation, a notice) with the digests' From, Reply-To, Date and
    Message-ID rules: plain text, and HTML as the preferred alternative when given."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = to
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Date"] = format_datetime(now or utcnow())
    message["Message-ID"] = make_msgid(domain=site_domain(settings))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class EmailChannel(Channel):
    kind = "email"

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        links: Signer | Callable[[], Signer],
        templates: Templates,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.templates = templates
        self.clock = clock
        self.sender = sender_address(settings)
        self.domain = site_domain(settings)
        self._links = links

    @property
    def signer(self) -> Signer:
        """Made on first use: a command that sends no email writes no key file."""
        if not isinstance(self._links, Signer):
            self._links = self._links()
        return self._links

    def render(self, digest: DigestView) -> BulkEmail:
        """The digest once for every reader with these tags; ``send`` addresses each copy."""
        rendered = render_email(self.templates, digest, unsubscribe_url=UNSUBSCRIBE_MARK)
        return self._bulk(rendered)

    def render_correction(self, digest: DigestView, changes: Sequence[PaperChange]) -> BulkEmail:
        """What a correction changed of the day, once for every reader; ``send`` sends it as it
        sends a digest (same From, List-Id and one-click unsubscribe, its own Message-ID)."""
        rendered = render_correction_email(self.templates, digest, changes, unsubscribe_url=UNSUBSCRIBE_MARK)
        return self._bulk(rendered)

    def _bulk(self, rendered: RenderedEmail) -> BulkEmail:
        shared = {
            "Reply-To": self.settings.reply_to or "",
            "List-Id": f"Paperboy digest <digest.{self.domain}>",
            "List-Unsubscribe-Post": ONE_CLICK,
        }
        return BulkEmail(rendered, sender=self.settings.email_from, headers=shared)

    async def send(self, target: str, rendered: Any, pace: Pace, *, mention: str | None = None) -> list[str]:
        """One copy to ``target``, an address; its Message-ID is what the ledger keeps."""
        assert isinstance(rendered, BulkEmail)
        link = unsubscribe_url(self.settings, self.signer, target)
        message_id = make_msgid(domain=self.domain)
        data = rendered.message(
            recipient=target,
            date=self.clock(),
            message_id=message_id,
            unsubscribe_url=link,
            headers={"List-Unsubscribe": list_unsubscribe(link, self.settings.unsubscribe_mailto)},
        )
        await pace()
        await self.transport.deliver(Outgoing(self.sender, target, data))
        return [message_id]

    async def close(self) -> None:
        await self.transport.close()


def email_channel(settings: Settings, environ: Mapping[str, str] | None = None) -> EmailChannel:
    """SMTP when PAPERBOY_SMTP_URL is set, else a Maildir under the data folder."""
    env = os.environ if environ is None else environ
    return EmailChannel(
        settings,
        transport_from_env(settings, env),
        lambda: signer(settings, env),
        Templates(DEFAULT_TEMPLATES, settings.templates),
    )
