"""Where discord.py sends its REST requests: Discord itself, or ``PAPERBOY_DISCORD_API_URL``.

discord.py has no option for another base URL: every request, webhooks' and interaction
callbacks' too, is built from the class attribute ``discord.http.Route.BASE``. So the setting is
process-wide, and the bot and the sender apply the same value from the same environment; a test
stand-in or a proxy sees every call either makes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import discord

from bot.errors import InputError

DISCORD_API = "https://discord.com/api/v10"


def api_base(url: str | None) -> str:
    """``url`` checked and without a trailing slash; Discord's own base when None or empty."""
    if not url:
        return DISCORD_API
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"PAPERBOY_DISCORD_API_URL is {url!r}: it must be an http(s) URL like {DISCORD_API}")
    return url.strip().rstrip("/")


def use_api_base(url: str | None) -> str:
    """Point discord.py's REST client at ``url`` (None: Discord's own API); returns the base used."""
    base = api_base(url)
    discord.http.Route.BASE = base
    return base
