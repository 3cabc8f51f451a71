"""Subscriber options: a Discord role to mention, and what email sign-ups need.

``mention`` is a Discord role id named on each digest that has the subscription's tags;
``bounces`` counts hard bounces in a row (an address is retired after a set number);
``confirm_sent`` is when the last double opt-in email went out (status ``pending`` until
the link is opened), so asking again resends no more often than a set interval.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("mention", sa.String(32), nullable=True))
        batch.add_column(sa.Column("bounces", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("confirm_sent", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        for column in ("confirm_sent", "bounces", "mention"):
            batch.drop_column(column)
