"""Signed links for email subscribers: confirm a sign-up, unsubscribe in one click.

A token names the subscription it acts on (its address: one email subscription per address)
and is signed with HMAC-SHA256
under ``PAPERBOY_SECRET_KEY`` (itsdangerous), each purpose with its own salt, so a confirm token
cannot unsubscribe and a forged or altered token is refused before anything is looked up.
Confirm tokens expire (``confirm_hours``); unsubscribe tokens never do: a digest read a year
later must still be able to stop the next one.

With no key set, ``paperboy run`` on a fresh machine makes one and keeps it in the data folder
(readable by its owner only), so links keep working across restarts.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from bot.channels.checks import KEY_FILE, check_key, secret_key
from bot.config import Settings
from bot.errors import InputError

log = logging.getLogger(__name__)

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
#: The web forms' anti-forgery tokens (bot/channels/web/security.py): they name a random value.
CSRF = "csrf"


class BadToken(InputError):
    """A link that is not ours, was altered, or has expired; the message says which."""


class Signer:
    def __init__(self, key: str) -> None:
        check_key(key, "PAPERBOY_SECRET_KEY is")
        self._serializers = {
            purpose: URLSafeTimedSerializer(key, salt=f"paperboy-{purpose}")
            for purpose in (CONFIRM, UNSUBSCRIBE, CSRF)
        }

    def sign(self, purpose: str, address: str) -> str:
        """A token for ``purpose`` (CONFIRM or UNSUBSCRIBE) naming the subscriber's address."""
        return str(self._serializers[purpose].dumps(address))

    def verify(self, purpose: str, token: str, *, max_age_s: int | None = None) -> str:
        """The address a genuine token names; ``BadToken`` for anything else (before any lookup)."""
        try:
            value = self._serializers[purpose].loads(token, max_age=max_age_s)
        except SignatureExpired:
            raise BadToken("This link has expired. Sign up again to get a new one.") from None
        except BadSignature:
            raise BadToken("This link is not valid: it may have been cut short when copied.") from None
        if not isinstance(value, str) or not value:
            raise BadToken("This link is not valid.")
        return value


def signer(settings: Settings, environ: Mapping[str, str] | None = None) -> Signer:
    """The key from PAPERBOY_SECRET_KEY, else one kept in the data folder (made on first use)."""
    env = os.environ if environ is None else environ
    key = secret_key(env, settings.data_dir)  # checked: the setting, else the kept key
    if key:
        return Signer(key)
    path = Path(settings.data_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and linked into place: a second process starting at the same moment
        # either wins the link or reads the winner's whole key, never a half-written one.
        draft = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(draft, path)
            log.warning("PAPERBOY_SECRET_KEY is not set: made one in %s (keep it; links depend on it)", path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return Signer(path.read_text().strip())
