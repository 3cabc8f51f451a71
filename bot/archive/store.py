"""Opening the archive database: engine settings per dialect and schema migrations.

Every command opens the archive, so this path stays cheap: it reads the schema revision with
one query and imports Alembic only when the schema is behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from bot.archive.ingest import IngestReport, index_pending
from bot.archive.text import split_scripts
from bot.errors import StoreError
from bot.models import Digest

#: The newest migration this code knows; ``tests/test_migrations.py`` checks it is Alembic's head.
HEAD_REVISION = "0008"
MIGRATIONS = Path(__file__).with_name("migrations")
SEARCH_TEXT_FUNCTION = "paperboy_search_text"
#: Any constant: the PostgreSQL advisory lock that lets one process at a time migrate.
MIGRATION_LOCK = 7_262_110_906


def parse_url(raw: str) -> URL:
    """A SQLAlchemy URL, accepting the ``postgres://`` form hosting providers hand out."""
    try:
        url = make_url(raw)
    except ArgumentError:
        scheme = raw.split(":", 1)[0] if ":" in raw else raw[:20]
        raise StoreError(
            f"PAPERBOY_DATABASE_URL is not a database URL (it starts {scheme!r});"
            " use sqlite:///path/to/paperboy.db or postgresql+psycopg://user@host/db"
        ) from None
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def describe(url: URL) -> str:
    """The URL with its password hidden: safe for messages and logs."""
    return url.render_as_string(hide_password=True)


def make_engine(raw_url: str) -> Engine:
    url = parse_url(raw_url)
    options: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(url, **options)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise StoreError(f"no database driver for {describe(url)}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets lookups read while an ingest writes; foreign keys are off by default in SQLite.
    # A checkpoint (two fsyncs) every 10,000 pages instead of 1,000 makes a bulk ingest 20-25%
    # faster here; the WAL may reach ~40 MB and is trimmed back to 64 MB at most afterwards.
    cursor = dbapi_connection.cursor()
    # The search index reads commentary through this function (migration 0001): every
    # connection that may change entries must know it, or SQLite refuses the change.
    dbapi_connection.create_function(SEARCH_TEXT_FUNCTION, 1, split_scripts, deterministic=True)
    for pragma in (
        "foreign_keys=ON",
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "wal_autocheckpoint=10000",
        "journal_size_limit=67108864",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def schema_revision(engine: Engine) -> str | None:
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        raise StoreError(f"cannot open the database at {describe(engine.url)}: {_short(exc)}") from None
    with conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            conn.rollback()
            return None


def upgrade(engine: Engine) -> None:
    """Bring the schema to ``HEAD_REVISION`` (creates it on an empty database).

    Processes that start together on a new database (the Procfile's web and worker, several
    workers) take turns: each migrates inside one transaction that first takes the database's
    write lock, and looks at the revision again once it has it, so the second finds the work
    done instead of failing on "table already exists"."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # DDL is transactional there; the lock ends with it
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        elif conn.dialect.name == "sqlite":  # the write lock now, not at the first write
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        if inspect(conn).has_table("alembic_version"):
            done = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            if done == HEAD_REVISION:
                return
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def ensure_schema(engine: Engine) -> None:
    current = schema_revision(engine)
    if current == HEAD_REVISION:
        return
    if current is not None and not any((MIGRATIONS / "versions").glob(f"{current}_*.py")):
        raise StoreError(
            f"the database at {describe(engine.url)} has schema {current!r}, newer than this"
            f" Paperboy knows ({HEAD_REVISION!r}): upgrade Paperboy"
        )
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the database at {describe(engine.url)}: {_short(exc)}") from None


def _short(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__


class Archive:
    """An open archive: the engine plus the write path. Lookups live in ``queries``/``search``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def ingest(self, digest: Digest, *, index: bool = True) -> IngestReport:
        """Store one document's digest in one transaction: all of it, or nothing.

        Bulk callers pass ``index=False`` and call ``index_pending()`` once at the end.
        """
        from bot.archive.published import write_post  # it reads the archive: queries import this module

        with self.engine.begin() as conn:
            report = write_post(conn, digest)
        if index:
            self.index_pending()
        return report

    def index_pending(self) -> int:
        """Bring the full-text index up to date (see ``ingest.index_pending``)."""
        with self.engine.begin() as conn:
            return index_pending(conn)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive(url: str, *, migrate: bool = True) -> Archive:
    engine = make_engine(url)
    if migrate:
        try:
            ensure_schema(engine)
        except BaseException:
            engine.dispose()  # don't leave pooled connections to be garbage-collected
            raise
    return Archive(engine)
