"""Errors whose messages are written for the person who caused them.

The CLI (and later the chat adapters) print a ``PaperboyError`` as it is, without a traceback;
anything else is a bug and is reported as one.
"""

from __future__ import annotations


class PaperboyError(Exception):
    """A problem the user can fix; ``str(error)`` says what is wrong and where."""

    #: Process exit status the CLI uses for this kind of problem.
    exit_code = 1


class InputError(PaperboyError):
    """Bad input from the user (a malformed file, an odd argument): exit status 2."""

    exit_code = 2


class ParseError(InputError):
    """A source document that cannot be read, located as ``FILE:LINE: what is wrong``."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.message = message

    def __repr__(self) -> str:
        return f"ParseError({self.source!r}, {self.line}, {self.message!r})"

    def __reduce__(self) -> tuple[type[ParseError], tuple[str, int, str]]:
        # Parsers run in a worker process for bulk ingests; the error travels back pickled.
        return (ParseError, (self.source, self.line, self.message))


class ConfigError(InputError):
    """A setting that is wrong, named in the message (never with a secret's value): exit status 2.

    Every setting is checked when a command starts (``bot.config``, ``bot.channels.checks``); one
    that only shows at send time (a token the platform refuses) stops the fan-out instead, and
    the deliveries wait in the ledger: the operator's mistake is never a reader's failed delivery.
    """


class QueryError(InputError):
    """A lookup that cannot be answered as asked (an empty or over-long search, a bad page)."""


class NotFound(PaperboyError):
    """The thing asked for is not in the archive (exit status 1, like grep's "no match")."""


class StoreError(PaperboyError):
    """The database cannot be used as configured (bad URL, schema from a newer Paperboy)."""
