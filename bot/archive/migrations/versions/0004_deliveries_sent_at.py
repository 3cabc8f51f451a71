"""An index on ``deliveries.sent_at``: the email window (PAPERBOY_SMTP_WINDOW) counts the sends of
its last hour or day at each claim, which without it would read every delivery ever made.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_sent_at", table_name="deliveries")
