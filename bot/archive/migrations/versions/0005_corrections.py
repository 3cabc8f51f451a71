"""Corrections of published days, the edits they make to messages already sent, and drafts.

``papers.corrected``: when a correction last changed the paper (its feed entry's ``updated``).
``sources.superseded_by``: a post for a day that has gone out replaces the day's earlier post
of its format; the earlier one's row stays (its checksum), so the same file read again (a
restart re-reading the inbox) is recognised and does not undo the correction.
``corrections``: what each correction changed, and the papers as they were before it.
``deliveries.version``: the correction a delivery's messages show (0: as first published).
``edits``: the ledger of corrections' work, one row per (correction, delivery): its messages
edited in place, extra ones sent, surplus ones deleted (chat), or a correction email (email).
``drafts``: a curator's post awaiting confirmation in chat; deleted once published or
discarded, and after it expires.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.add_column(sa.Column("corrected", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("superseded_by", sa.String(255), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_deliveries_day", "deliveries", ["day", "status"])
    op.create_table(
        "corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False, index=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("before", sa.Text, nullable=False),
        sa.Column("changes", sa.Text, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "edits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "correction_id", sa.Integer, sa.ForeignKey("corrections.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "delivery_id", sa.Integer, sa.ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message_ids", sa.Text, nullable=True),
        sa.Column("edited", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("correction_id", "delivery_id", name="uq_edits_correction_delivery"),
        sa.Index("ix_edits_status", "status", "not_before"),
    )
    op.create_table(
        "drafts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("curator", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("reply_to", sa.String(255), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("drafts")
    op.drop_table("edits")
    op.drop_table("corrections")
    op.drop_index("ix_deliveries_day", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("version")
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("superseded_by")
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("corrected")
