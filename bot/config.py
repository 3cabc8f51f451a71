"""Settings, read once from ``PAPERBOY_*`` environment variables and passed down.

This is the only module that reads the environment, so tests can build ``Settings`` from a
plain dict and nothing else changes behaviour behind their back.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DB_NAME = "paperboy.db"


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; SQLite file by default, ``postgresql+psycopg://...`` for PostgreSQL.
    database_url: str
    #: Where Paperboy keeps files of its own (the default SQLite database among them).
    data_dir: Path
    #: Show tracebacks of unexpected errors (PAPERBOY_DEBUG=1); off, users see one line.
    debug: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("PAPERBOY_DATA_DIR") or ".")
        url = env.get("PAPERBOY_DATABASE_URL") or f"sqlite:///{data_dir / DEFAULT_DB_NAME}"
        debug = env.get("PAPERBOY_DEBUG", "").lower() in ("1", "true", "yes")
        return cls(database_url=url, data_dir=data_dir, debug=debug)
