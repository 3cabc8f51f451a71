"""The sending channels, one line each, and whether this deployment has turned them on.

Adding a platform means one module under ``bot/channels/`` and one line here. A channel whose
setting is missing stays off, and ``paperboy run`` says which and why; deliveries for it wait in
the ledger and go out once it is on.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.archive.store import Archive
from bot.channels.base import Channel, Frontend
from bot.channels.checks import telegram_api_url
from bot.config import Settings
from bot.desk import Desk
from bot.models import Subscription

OnSubscribe = Callable[[Subscription], Awaitable[object]]
BotFactory = Callable[[Archive, Settings, Mapping[str, str], OnSubscribe, Desk | None], Frontend]


@dataclass(frozen=True)
class Registered:
    kind: str
    #: The environment variable that turns the channel on; None: always on (it needs no account).
    setting: str | None
    #: Builds the channel from the settings and the environment (its secrets stay there, out of
    #: ``Settings``, whose repr may be logged); None until this version ships one.
    factory: Callable[[Settings, Mapping[str, str]], Channel] | None = None
    #: The platform's chat bot, answering commands (and curators' posts, through the desk) while
    #: ``paperboy run`` runs, if it has one.
    bot: BotFactory | None = None


def _telegram(settings: Settings, env: Mapping[str, str]) -> Channel:
    from bot.channels.telegram.sender import TelegramChannel

    return TelegramChannel.from_settings(
        settings, env["PAPERBOY_TELEGRAM_TOKEN"], telegram_api_url(env.get("PAPERBOY_TELEGRAM_API_URL"))
    )


def _telegram_bot(
    archive: Archive, settings: Settings, env: Mapping[str, str], on_subscribe: OnSubscribe, desk: Desk | None
) -> Frontend:
    from bot.channels.telegram.bot import from_env

    return from_env(archive, settings, env, on_subscribe, desk)


def _discord(settings: Settings, env: Mapping[str, str]) -> Channel:
    from bot.channels.discord.sender import DiscordChannel

    return DiscordChannel.from_env(settings, env)


def _discord_webhook(settings: Settings, env: Mapping[str, str]) -> Channel:
    from bot.channels.discord.webhook import WebhookChannel

    return WebhookChannel.from_env(settings, env)


def _discord_bot(
    archive: Archive, settings: Settings, env: Mapping[str, str], on_subscribe: OnSubscribe, desk: Desk | None
) -> Frontend:
    from bot.channels.discord.bot import from_env

    return from_env(archive, settings, env, on_subscribe, desk)


def _email(settings: Settings, env: Mapping[str, str]) -> Channel:
    """SMTP when PAPERBOY_SMTP_URL is set, else a Maildir under the data folder."""
    from bot.channels.email.sender import email_channel

    return email_channel(settings, env)


CHANNELS: tuple[Registered, ...] = (
    Registered("telegram", "PAPERBOY_TELEGRAM_TOKEN", _telegram, _telegram_bot),
    Registered("discord", "PAPERBOY_DISCORD_TOKEN", _discord, _discord_bot),
    Registered("discord-webhook", None, _discord_webhook),
    Registered("email", None, _email),
)


def available(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Channel], dict[str, str]]:
    """The channels this process can send through, and why each other one is off."""
    env = os.environ if environ is None else environ
    on: dict[str, Channel] = {}
    off: dict[str, str] = {}
    for item in CHANNELS:
        if item.setting and not env.get(item.setting):
            off[item.kind] = f"{item.setting} is not set"
        elif item.factory is None:
            off[item.kind] = "this version of Paperboy has no sender for it yet"
        else:
            on[item.kind] = item.factory(settings, env)
    return on, off


def frontends(
    archive: Archive,
    settings: Settings,
    on_subscribe: OnSubscribe,
    environ: Mapping[str, str] | None = None,
    *,
    desk: Desk | None = None,
) -> list[Frontend]:
    """The chat bots whose tokens are set: each answers commands inside ``paperboy run``, and
    takes curators' posts to ``desk`` (None: posting from chat is off)."""
    env = os.environ if environ is None else environ
    return [
        item.bot(archive, settings, env, on_subscribe, desk)
        for item in CHANNELS
        if item.bot is not None and item.setting and env.get(item.setting)
    ]
