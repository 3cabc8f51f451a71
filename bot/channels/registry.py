"""The sending channels, one line each, and whether this deployment has turned them on.

Adding a platform means one module under ``bot/channels/`` and one line here. A channel whose
setting is missing stays off, and ``paperboy run`` says which and why; deliveries for it wait in
the ledger and go out once it is on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.channels.base import Channel
from bot.config import Settings


@dataclass(frozen=True)
class Registered:
    kind: str
    #: The environment variable that turns the channel on.
    setting: str
    #: Builds the channel from the settings and the environment (its secrets stay there, out of
    #: ``Settings``, whose repr may be logged); None until this version ships one.
    factory: Callable[[Settings, Mapping[str, str]], Channel] | None = None


def _telegram(settings: Settings, env: Mapping[str, str]) -> Channel:
    from bot.channels.telegram.sender import TelegramChannel

    return TelegramChannel.from_settings(
        settings, env["PAPERBOY_TELEGRAM_TOKEN"], env.get("PAPERBOY_TELEGRAM_API_URL") or None
    )


CHANNELS: tuple[Registered, ...] = (
    Registered("telegram", "PAPERBOY_TELEGRAM_TOKEN", _telegram),
    Registered("discord", "PAPERBOY_DISCORD_TOKEN"),
    Registered("email", "PAPERBOY_SMTP_HOST"),
)


def available(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Channel], dict[str, str]]:
    """The channels this process can send through, and why each other one is off."""
    env = os.environ if environ is None else environ
    on: dict[str, Channel] = {}
    off: dict[str, str] = {}
    for item in CHANNELS:
        if not env.get(item.setting):
            off[item.kind] = f"{item.setting} is not set"
        elif item.factory is None:
            off[item.kind] = "this version of Paperboy has no sender for it yet"
        else:
            on[item.kind] = item.factory(settings, env)
    return on, off
