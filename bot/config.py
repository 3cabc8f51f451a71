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
#: The templates shipped with Paperboy (the repository's top-level templates/ folder).
DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL; SQLite file by default, ``postgresql+psycopg://...`` for PostgreSQL.
    database_url: str
    #: Where Paperboy keeps files of its own (the default SQLite database among them).
    data_dir: Path
    #: Show tracebacks of unexpected errors (PAPERBOY_DEBUG=1); off, users see one line.
    debug: bool = False
    #: A folder of templates that override the shipped ones, file by file (PAPERBOY_TEMPLATES).
    templates: Path | None = None
    #: Where the web archive is served (PAPERBOY_BASE_URL): links in chat, email and feeds.
    base_url: str | None = None
    #: The From of digest emails (PAPERBOY_EMAIL_FROM).
    email_from: str = "Paperboy <paperboy@localhost>"

    @property
    def site_url(self) -> str:
        """An absolute address for feeds, which must have one: the base URL, else local."""
        return self.base_url or "http://localhost:8000"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("PAPERBOY_DATA_DIR") or ".")
        url = env.get("PAPERBOY_DATABASE_URL") or f"sqlite:///{data_dir / DEFAULT_DB_NAME}"
        debug = env.get("PAPERBOY_DEBUG", "").lower() in ("1", "true", "yes")
        templates = Path(env["PAPERBOY_TEMPLATES"]) if env.get("PAPERBOY_TEMPLATES") else None
        base_url = (env.get("PAPERBOY_BASE_URL") or "").rstrip("/") or None
        email_from = env.get("PAPERBOY_EMAIL_FROM") or cls.email_from
        return cls(url, data_dir, debug=debug, templates=templates, base_url=base_url, email_from=email_from)
