"""Shared fixtures: archives on SQLite and on a real throwaway PostgreSQL, the seeds, the CLI.

Store and lookup tests take ``db_url`` (or ``archive``/``seeded``) and so run once per engine.
Without PostgreSQL binaries those runs are skipped, unless PAPERBOY_REQUIRE_POSTGRES=1 (as in
CI), which turns the skip into a failure; so are the browser tests without Chromium
(PAPERBOY_REQUIRE_CHROMIUM) and the checkers' tests without Java or SpamAssassin
(PAPERBOY_REQUIRE_CHECKERS, tests/checkers.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import create_engine, text

from bot.archive.parsers import ParseOptions, parse_file
from bot.archive.store import Archive, open_archive
from bot.cli import main
from bot.config import DEFAULT_TEMPLATES
from bot.render.environment import Templates
from tests.pg_server import PostgresServer, find_bin_dir

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SEED_FILES = sorted(SEEDS.iterdir())
#: "Today" for the tests, so nothing depends on the clock.
TODAY = dt.date(2026, 11, 23)


def unavailable(requirement: str, message: str) -> NoReturn:
    """Skip for want of a server or browser, unless ``requirement`` is set (as CI sets it)."""
    if os.environ.get(requirement) == "1":
        pytest.fail(f"{message} ({requirement}=1)")
    pytest.skip(message)


def run_env(db: str, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``paperboy run`` subprocess that publishes today as it starts (midnight
    UTC has passed at any hour) from the seeds, plus a platform's ``settings``."""
    return {
        **os.environ,
        "PAPERBOY_DATABASE_URL": db,
        "PAPERBOY_SITE_DIR": str(folder / "site"),
        "PAPERBOY_INBOX": str(SEEDS),
        "PAPERBOY_PUBLISH_AT": "00:00",
        "PAPERBOY_TIMEZONE": "UTC",
        **settings,
    }


@pytest.fixture(scope="session", autouse=True)
def nothing_left_beside_the_code() -> Iterator[None]:
    """Tests keep their databases and the tag model's features in their own folders: one left
    in the checkout (a default PAPERBOY_DATA_DIR of ".") is shared by every later test and run."""
    before = {p.name for p in ROOT.iterdir()}
    yield
    left = sorted(
        name
        for name in {p.name for p in ROOT.iterdir()} - before
        if name.endswith((".suggest", ".db", ".db-wal", ".db-shm"))
    )
    assert not left, f"tests left {left} in {ROOT}"


@pytest.fixture(scope="session")
def templates() -> Templates:
    return Templates(DEFAULT_TEMPLATES)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    external = os.environ.get("PAPERBOY_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable(
            "PAPERBOY_REQUIRE_POSTGRES",
            "no PostgreSQL server binaries (install Debian's postgresql, or set PAPERBOY_PG_BIN)",
        )
    server = PostgresServer(bin_dir)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/archive.db"
    url: str = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def archive(db_url: str) -> Iterator[Archive]:
    with open_archive(db_url) as opened:
        yield opened


def ingest_seeds(archive: Archive, files: list[Path] | None = None) -> None:
    for path in files or SEED_FILES:
        archive.ingest(parse_file(path, ParseOptions(today=TODAY)))


@pytest.fixture
def seeded(archive: Archive) -> Archive:
    ingest_seeds(archive)
    return archive


@pytest.fixture
def seeded_sqlite(tmp_path: Path) -> Iterator[Archive]:
    """The seeds on SQLite only: for tests of a platform, where the database is not the subject."""
    with open_archive(f"sqlite:///{tmp_path}/archive.db") as opened:
        ingest_seeds(opened)
        yield opened


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


CliRunner = Callable[..., Result]


@pytest.fixture
def cli_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/cli.db"


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, cli_db: str) -> CliRunner:
    """Run ``paperboy ARGS`` in process, through the same ``main`` the console script calls."""

    def run(*args: str, db: str | None = None) -> Result:
        monkeypatch.setenv("PAPERBOY_DATABASE_URL", db or cli_db)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(list(args))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return Result(code, out.getvalue(), err.getvalue())

    return run
