"""The ``paperboy`` command: the composition root that wires settings, archive and channels.

Command groups live in their own modules and register on ``cli``. ``main`` turns a user's
mistake (a ``PaperboyError``, a usage error) into one line on stderr and an exit status; only
a bug prints a traceback.
"""

from __future__ import annotations

import os
import sys

import click

from bot import __version__
from bot.channels.checks import check_environment, metrics_token
from bot.config import Settings
from bot.errors import PaperboyError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paperboy")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Paperboy keeps an archive of curated ML papers and publishes daily digests of them.

    Settings come from PAPERBOY_* environment variables (PAPERBOY_DATABASE_URL: a SQLite file
    in the working directory by default).
    """
    settings = ctx.obj = Settings.from_env()
    # Before anything is opened or sent: a wrong setting stops here, with one line (exit 2).
    check_environment(settings, os.environ)
    if metrics_token(os.environ):  # /metrics is on: every process counts where the web adds up
        from bot import metrics

        metrics.count_in(settings.metrics_dir)


def main(argv: list[str] | None = None) -> None:
    try:
        status = cli.main(args=argv, prog_name="paperboy", standalone_mode=False)
    except click.exceptions.Exit as exc:
        status = exc.exit_code
    except click.ClickException as exc:
        exc.show()
        status = exc.exit_code
    except click.Abort:
        click.echo("paperboy: interrupted", err=True)
        status = 130
    except PaperboyError as exc:
        click.echo(f"paperboy: {exc}", err=True)
        status = exc.exit_code
    except BrokenPipeError:
        status = 0  # `paperboy tags | head` closed the pipe: not an error
    except Exception as exc:  # a bug or a broken database: one line, the traceback on request
        if Settings.from_env().debug:
            raise
        click.echo(f"paperboy: {describe_failure(exc)} (PAPERBOY_DEBUG=1 shows the details)", err=True)
        status = 70  # EX_SOFTWARE
    sys.exit(status if isinstance(status, int) else 0)


def describe_failure(exc: Exception) -> str:
    """One line about an unexpected error, without SQL or parameters (they may hold user data)."""
    orig = getattr(exc, "orig", None)
    if orig is not None:  # a SQLAlchemy DBAPIError: the driver's own first line says what failed
        first = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return f"database error: {first}"
    return f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(
        ": "
    )


# Each module registers its commands on ``cli``.
from bot.cli import admin as _admin  # noqa: E402,F401
from bot.cli import archive as _archive  # noqa: E402,F401
from bot.cli import corrections as _corrections  # noqa: E402,F401
from bot.cli import discovery as _discovery  # noqa: E402,F401
from bot.cli import publishing as _publishing  # noqa: E402,F401
from bot.cli import pull as _pull  # noqa: E402,F401
from bot.cli import render as _render  # noqa: E402,F401
from bot.cli import service as _service  # noqa: E402,F401
from bot.cli import subscriptions as _subscriptions  # noqa: E402,F401
