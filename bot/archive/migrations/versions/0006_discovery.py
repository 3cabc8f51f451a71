"""Discovery: tags the model suggests for papers the curator did not tag, and candidates pulled
from Hugging Face and arXiv for the curator to pick from.

``tag_suggestions``: one row per (paper, tag) the model is confident of, apart from the
curator's own tags (``paper_tags``); ``status`` is ``suggested``, ``accepted`` (it became the
curator's tag) or ``rejected`` (never suggested again).
``candidates``: papers pulled from a source, not in the archive's days; ``status`` is ``new``,
``drafted`` (a draft post was started from it) or ``dismissed``. ``pulled`` orders the listing
(newest pull first), hence its index.
``refreshed_upvotes``: Hugging Face's upvote count of an archived paper as last read from its
API, apart from what the documents said (``entries.upvotes``); reading a paper shows the highest.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_suggestions",
        sa.Column(
            "paper_id", sa.String(96), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_tag_suggestions_tag", "tag", "status", "score"),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("day", sa.Date, nullable=True, index=True),
        sa.Column("arxiv_id", sa.String(32), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("upvotes", sa.Integer, nullable=True),
        sa.Column("published", sa.Date, nullable=True),
        sa.Column("links", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pulled", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    op.create_table(
        "refreshed_upvotes",
        sa.Column(
            "paper_id", sa.String(96), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("upvotes", sa.Integer, nullable=False),
        sa.Column("day", sa.Date, nullable=True),
        sa.Column("checked", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("refreshed_upvotes")
    op.drop_table("candidates")
    op.drop_table("tag_suggestions")
