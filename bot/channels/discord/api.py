"""Where discord.py sends its REST requests: Discord itself, or ``PAPERBOY_DISCORD_API_URL``.

discord.py has no option for another base URL: every request, webhooks' and interaction
callbacks' too, is built from the class attribute ``discord.http.Route.BASE``. So the setting is
process-wide, and the bot and the sender apply the same value from the same environment; a test
stand-in or a proxy sees every call either makes. The bot's gateway (``use_gateway``) is then the
one that API's ``GET /gateway/bot`` names, as Discord recommends.
"""

from __future__ import annotations

import discord
import yarl

from bot.channels.checks import discord_api_url

DISCORD_GATEWAY = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


def api_base(url: str | None) -> str:
    """``url`` checked and without a trailing slash; Discord's own base when None or empty."""
    return discord_api_url(url)


def use_api_base(url: str | None) -> str:
    """Point discord.py's REST client at ``url`` (None: Discord's own API); returns the base used."""
    base = api_base(url)
    discord.http.Route.BASE = base
    return base


def use_gateway(url: str | None) -> None:
    """Connect discord.py's gateway to ``url`` (None: Discord's own). discord.py takes the URL of a
    new session (every connection of a plain ``Client``, and an ``AutoShardedClient``'s with a set
    shard count or after an invalidated session) from ``DiscordWebSocket.DEFAULT_GATEWAY``, a
    class attribute like ``Route.BASE``: so this too is process-wide."""
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url) if url else DISCORD_GATEWAY
