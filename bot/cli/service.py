"""The long-running commands: ``run`` (the service) and ``serve`` (only the web server)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import click

from bot.cli import cli
from bot.cli.archive import open_settings_archive, pass_settings
from bot.cli.publishing import check_site_search, close_channels, publisher_for
from bot.config import Settings
from bot.errors import InputError


@cli.command()
@click.option("--no-web", is_flag=True, help="Leave the web server to a `paperboy serve` process.")
@pass_settings
def run(settings: Settings, no_web: bool) -> None:
    """The service: publishes each day at PAPERBOY_PUBLISH_AT, watches the inbox, retries,
    serves the web archive and feeds. Stop it with Ctrl-C (or SIGTERM)."""
    import signal

    from tqdm.contrib.logging import logging_redirect_tqdm

    from bot.channels.checks import metrics_token
    from bot.channels.email.signup import mailer_from_env
    from bot.channels.registry import frontends
    from bot.channels.web.metrics import metrics_routes
    from bot.cli._logging import configure as configure_logging
    from bot.cli._logging import notice
    from bot.cli.admin import ConsoleOperations
    from bot.desk import Desk
    from scheduler.service import Service

    check_site_search(settings)
    configure_logging(fmt=settings.log_format)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        with open_settings_archive(settings) as archive:
            service = Service(archive, settings, publisher_for(settings, archive))

            async def on_publish(day: dt.date) -> int:
                return (await service.publish_now(day)).audience

            desk = Desk(archive, settings, on_publish)
            bots = frontends(archive, settings, service.subscribed, desk=desk)
            if bots and not settings.curators:
                notice("paperboy: PAPERBOY_CURATORS is not set: posts sent in chat are refused")
            if no_web and any(bot.routes for bot in bots):
                raise InputError(
                    "PAPERBOY_TELEGRAM_WEBHOOK_URL needs the web server in this process: run without --no-web"
                )
            notice(
                f"paperboy: publishing daily at {settings.publish_at:%H:%M} {settings.timezone.key};"
                f" inbox {settings.inbox}; site {settings.site_dir}",
            )
            if no_web and settings.base_url is None:
                notice(
                    f"paperboy: PAPERBOY_BASE_URL is not set: feeds and emails link {settings.site_url},"
                    " where this process serves nothing (--no-web); set it to the web process's address"
                )
            mailer = None if no_web else mailer_from_env(settings, os.environ)
            console = ConsoleOperations(service.publisher, service.publish_now)
            try:
                routes = metrics_routes(archive, metrics_token(os.environ))
                await service.run(
                    stop, web=not no_web, frontends=bots, mailer=mailer, routes=routes, console=console
                )
            finally:
                if mailer is not None:
                    await mailer.close()
                await close_channels(service.publisher.channels)

    with logging_redirect_tqdm():  # log lines print above a fan-out's bar instead of through it
        asyncio.run(main())


@cli.command()
@pass_settings
def serve(settings: Settings) -> None:
    """Only the web server (at PAPERBOY_HOST:PAPERBOY_PORT): the archive in PAPERBOY_SITE_DIR and
    its feeds, search, email sign-up. Stop it with Ctrl-C (or SIGTERM)."""
    from bot.channels.checks import metrics_token
    from bot.channels.email.signup import mailer_from_env
    from bot.channels.web.app import make_app
    from bot.channels.web.metrics import metrics_routes
    from bot.channels.web.server import serve_forever
    from bot.cli._logging import configure as configure_logging
    from bot.cli._logging import notice
    from bot.cli.admin import ConsoleOperations

    configure_logging(fmt=settings.log_format)
    # It migrates like every command: beside a worker starting at the same moment (the Procfile),
    # the two take turns (bot.archive.store.upgrade), so search and sign-up work from the start.
    with open_settings_archive(settings) as archive:
        mailer = mailer_from_env(settings, os.environ)
        # The console's publish and retry send from this process, as `paperboy publish` would.
        publisher = publisher_for(settings, archive)
        routes = metrics_routes(archive, metrics_token(os.environ))
        app = make_app(settings, archive, routes, mailer, console=ConsoleOperations(publisher))
        notice(f"paperboy: serving {settings.site_dir} on http://{settings.host}:{settings.port}")

        async def cleanup() -> None:
            await mailer.close()
            await close_channels(publisher.channels)

        serve_forever(app, settings.host, settings.port, cleanup=cleanup)
