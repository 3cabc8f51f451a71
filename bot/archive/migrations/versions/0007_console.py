"""The operator console: its sessions, the failed logins that lock an address out, and the
audit log of what was done from it.

``admin_sessions``: one row per logged-in browser, keyed by a hash of the cookie's value (the
database never holds a usable session id), with its CSRF token and when it ends.
``admin_failures``: one row per failed login (address, time), counted over 15 minutes;
``admin_lockouts``: an address refused until a time. ``admin_audit``: time, who (address),
what was done and what changed. ``ix_subscriptions_kind_status`` keeps the console's subscriber
pages (one channel, one status, keyset-paged by id) an index walk at 100,000 subscribers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "admin_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_admin_failures_address", "address", "at"),
    )
    op.create_table(
        "admin_lockouts",
        sa.Column("address", sa.String(64), primary_key=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_subscriptions_kind_status", "subscriptions", ["kind", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_subscriptions_kind_status", "subscriptions")
    op.drop_table("admin_audit")
    op.drop_table("admin_lockouts")
    op.drop_table("admin_failures")
    op.drop_table("admin_sessions")
