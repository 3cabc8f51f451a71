"""The ledger's counts by (day, channel, status), kept by the database as deliveries change.

The console's overview shows a week of deliveries counted by channel and status; counting them
from ``deliveries`` joined to ``subscriptions`` reads every row (2.7 s at a million). Triggers
keep ``delivery_counts`` in the same transaction as the delivery row they count, whatever
changes it (the ledger, a retry, a subscriber removed), so the count is never a second source
of truth that can drift, and the ledger's code is unchanged.

SQLite has one writer at a time: a row trigger keeps one row per (day, kind, status). PostgreSQL
has several workers writing at once: keeping one row per key would make every claim and every
"sent" wait on the same counter rows, and two transactions touching two counters in opposite
orders would deadlock. There, a statement trigger appends one row per (day, kind, status) a
statement changed (its delta, from the transition tables; inserts never wait on each other),
and readers sum them; ``bot.archive.counts.compact`` folds them together now and then.

A subscriber's deliveries are deleted before the subscriber (not by the cascade after it), so
the trigger still finds the subscriber's channel.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

KIND = "(SELECT kind FROM subscriptions WHERE id = {}.subscription_id)"


def _sqlite_change(row: str, sign: str) -> str:
    kind = KIND.format(row)
    return f"""
        INSERT INTO delivery_counts (day, kind, status, n)
        SELECT {row}.day, {kind}, {row}.status, 0
        WHERE {kind} IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM delivery_counts
            WHERE day = {row}.day AND kind = {kind} AND status = {row}.status);
        UPDATE delivery_counts SET n = n {sign} 1
        WHERE day = {row}.day AND kind = {kind} AND status = {row}.status;"""


SQLITE = [
    f"""CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries
    BEGIN {_sqlite_change("new", "+")}
    END""",
    f"""CREATE TRIGGER delivery_counts_update AFTER UPDATE OF status, day ON deliveries
    WHEN old.status IS NOT new.status OR old.day IS NOT new.day
    BEGIN {_sqlite_change("old", "-")} {_sqlite_change("new", "+")}
    END""",
    f"""CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries
    BEGIN {_sqlite_change("old", "-")}
    END""",
    """CREATE TRIGGER subscriptions_deliveries_first BEFORE DELETE ON subscriptions
    BEGIN DELETE FROM deliveries WHERE subscription_id = old.id; END""",
]

# One function for the three statement triggers: TG_OP says which transition tables exist.
POSTGRES_FUNCTION = """
CREATE FUNCTION delivery_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO delivery_counts (day, kind, status, n)
        SELECT d.day, s.kind, d.status, count(*)
        FROM new_rows d JOIN subscriptions s ON s.id = d.subscription_id
        GROUP BY d.day, s.kind, d.status;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO delivery_counts (day, kind, status, n)
        SELECT d.day, s.kind, d.status, -count(*)
        FROM old_rows d JOIN subscriptions s ON s.id = d.subscription_id
        GROUP BY d.day, s.kind, d.status;
    ELSE
        INSERT INTO delivery_counts (day, kind, status, n)
        SELECT c.day, s.kind, c.status, sum(c.n)
        FROM (
            SELECT day, subscription_id, status, 1 AS n FROM new_rows
            UNION ALL
            SELECT day, subscription_id, status, -1 AS n FROM old_rows
        ) c JOIN subscriptions s ON s.id = c.subscription_id
        GROUP BY c.day, s.kind, c.status
        HAVING sum(c.n) <> 0;
    END IF;
    RETURN NULL;
END $$"""

POSTGRES = [
    POSTGRES_FUNCTION,
    """CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_change()""",
    """CREATE TRIGGER delivery_counts_update AFTER UPDATE ON deliveries
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_change()""",
    """CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION delivery_counts_change()""",
    """CREATE FUNCTION subscriptions_deliveries_first() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN DELETE FROM deliveries WHERE subscription_id = OLD.id; RETURN OLD; END $$""",
    """CREATE TRIGGER subscriptions_deliveries_first BEFORE DELETE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION subscriptions_deliveries_first()""",
]

TRIGGERS = ["delivery_counts_insert", "delivery_counts_update", "delivery_counts_delete"]


def upgrade() -> None:
    op.create_table(
        "delivery_counts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Index("ix_delivery_counts_day", "day", "kind", "status"),
    )
    # The console's failed (or sending) deliveries, keyset-paged by id: an index range.
    op.create_index("ix_deliveries_status_id", "deliveries", ["status", "id"])
    # One channel's subscribers in id order (any status, a search, a tag): a range, not a sort.
    op.create_index("ix_subscriptions_kind_id", "subscriptions", ["kind", "id"])
    op.execute(
        """INSERT INTO delivery_counts (day, kind, status, n)
        SELECT d.day, s.kind, d.status, count(*)
        FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
        GROUP BY d.day, s.kind, d.status"""
    )
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}" + (" ON deliveries" if postgres else ""))
    op.execute("DROP TRIGGER subscriptions_deliveries_first" + (" ON subscriptions" if postgres else ""))
    if postgres:
        op.execute("DROP FUNCTION delivery_counts_change()")
        op.execute("DROP FUNCTION subscriptions_deliveries_first()")
    op.drop_index("ix_subscriptions_kind_id", "subscriptions")
    op.drop_index("ix_deliveries_status_id", "deliveries")
    op.drop_table("delivery_counts")
