"""SQL the two databases spell differently."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table


def insert_for(conn: Connection, table: Table) -> Any:
    """INSERT for this connection's dialect, with its ON CONFLICT methods (do_update, do_nothing).

    Imported on use: the PostgreSQL dialect costs ~0.1 s of start-up that SQLite lookups skip.
    """
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table)
