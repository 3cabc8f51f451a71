"""``PAPERBOY_SMTP_URL``, read: where mail goes, how (STARTTLS or TLS) and as whom.

Apart from the SMTP client (``smtp.py``) so that every command can check the setting when it
starts without importing aiosmtplib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from bot.errors import ConfigError

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
_ENV = "PAPERBOY_SMTP_URL"
_HINT = "give smtp://USER:PASSWORD@HOST:587 (STARTTLS) or smtps://USER:PASSWORD@HOST:465 (TLS)"
_ESCAPES = "write / ? # @ : in the user name or password as %2F %3F %23 %40 %3A"


@dataclass(frozen=True)
class SmtpUrl:
    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def safe(self) -> str:
        """The URL as logs and errors show it: never the password."""
        user = f"{self.username}@" if self.username else ""
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{user}{self.host}:{self.port}"


def parse_smtp_url(raw: str) -> SmtpUrl:
    """``smtp://user:pass@host:587`` (STARTTLS where offered), ``smtps://...`` (TLS from the start).

    A malformed URL is an ``ConfigError`` saying what is wrong; it never repeats the URL, whose
    password may be anywhere in it once the URL is malformed."""
    parts = urlsplit(raw.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f" (not {scheme}://)" if scheme.isalpha() else ""  # before any ':', so no password
        raise ConfigError(f"{_ENV} must start with smtp:// or smtps://{shown}: {_HINT}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{_ENV}: the port is not a number from 1 to 65535; {_ESCAPES}") from None
    if not parts.hostname:
        raise ConfigError(f"{_ENV} has no host name: {_HINT}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"{_ENV} has something after the host and port: {_HINT}; {_ESCAPES}")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if bool(username) != bool(password):
        raise ConfigError(f"{_ENV} has a user name without a password, or a password without a user: {_HINT}")
    return SmtpUrl(parts.hostname, port or DEFAULT_PORTS[scheme], scheme == "smtps", username, password)
