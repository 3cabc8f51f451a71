"""Alembic migrations and ``schema.py`` describe the same database, on both engines."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.archive.schema import SEARCH_OBJECTS, metadata
from bot.archive.store import HEAD_REVISION, MIGRATIONS, make_engine, open_archive, schema_revision
from bot.errors import StoreError
from tests.conftest import ROOT


def alembic_config(conn: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def test_head_revision_constant_is_alembics_head() -> None:
    assert ScriptDirectory.from_config(alembic_config(None)).get_current_head() == HEAD_REVISION


def test_migrated_schema_matches_the_metadata(db_url: str) -> None:
    with open_archive(db_url) as archive, archive.engine.connect() as conn:
        search_objects = set(SEARCH_OBJECTS[conn.dialect.name])

        def include(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
            return name not in search_objects

        context = MigrationContext.configure(conn, opts={"include_object": include, "compare_type": True})
        assert compare_metadata(context, metadata) == []
        names = set(inspect(conn).get_table_names())
        assert {"papers", "entries", "sources", "paper_tags", "alembic_version"} <= names


def test_downgrade_and_upgrade_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    with open_archive(db_url):
        pass
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert schema_revision(engine) is None
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert schema_revision(engine) == HEAD_REVISION
    engine.dispose()


def test_a_schema_from_a_newer_paperboy_is_refused(db_url: str) -> None:
    with open_archive(db_url) as archive, archive.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer than this Paperboy knows"):
        open_archive(db_url)


def test_processes_starting_together_on_a_new_database_all_come_up(db_url: str) -> None:
    """The Procfile's web and worker (or several workers) start at once on an empty database:
    each migrates when it needs to, and none fails on a table the other has just created."""
    env = {**os.environ, "PAPERBOY_DATABASE_URL": db_url}
    upgrades = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    errors = [process.communicate(timeout=120)[1] for process in upgrades]
    assert [(process.returncode, err) for process, err in zip(upgrades, errors, strict=True)] == [
        (0, "")
    ] * len(upgrades)
    engine = make_engine(db_url)
    assert schema_revision(engine) == HEAD_REVISION
    engine.dispose()
