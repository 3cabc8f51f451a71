"""The first archive schema: sources, entries, papers, tags, and the full-text index.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SQLITE_SEARCH = [
    # unicode61 with prefix queries: "코드북"* finds 코드북을 (Korean particles are suffixes),
    # and indexing runs several times faster than the trigram tokenizer (see README).
    """CREATE VIRTUAL TABLE papers_fts USING fts5(
        title, authors, abstract, commentary,
        content='papers', content_rowid='pk', tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
        INSERT INTO papers_fts(rowid, title, authors, abstract, commentary)
        VALUES (new.pk, new.title, new.authors, new.abstract, new.commentary);
    END""",
    """CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, authors, abstract, commentary)
        VALUES ('delete', old.pk, old.title, old.authors, old.abstract, old.commentary);
    END""",
    """CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, authors, abstract, commentary
    ON papers WHEN old.title IS NOT new.title OR old.authors IS NOT new.authors
        OR old.abstract IS NOT new.abstract OR old.commentary IS NOT new.commentary
    BEGIN
        INSERT INTO papers_fts(papers_fts, rowid, title, authors, abstract, commentary)
        VALUES ('delete', old.pk, old.title, old.authors, old.abstract, old.commentary);
        INSERT INTO papers_fts(rowid, title, authors, abstract, commentary)
        VALUES (new.pk, new.title, new.authors, new.abstract, new.commentary);
    END""",
]

POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # The same expression appears in bot/archive/search.py; ILIKE '%word%' uses this index.
    """CREATE INDEX ix_papers_search_trgm ON papers USING gin (
        (title || ' ' || authors || ' ' || abstract || ' ' || commentary) gin_trgm_ops)""",
]


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("date", sa.Date, nullable=True),
    )
    op.create_index("ix_sources_date", "sources", ["date"])
    op.create_table(
        "entries",
        sa.Column(
            "source", sa.String(255), sa.ForeignKey("sources.name", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("paper_id", sa.String(96), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("author_count", sa.Integer, nullable=True),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("commentary", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("links", sa.Text, nullable=False),
        sa.Column("published", sa.Date, nullable=True),
        sa.Column("upvotes", sa.Integer, nullable=True),
    )
    op.create_index("ix_entries_paper_id", "entries", ["paper_id"])
    op.create_table(
        "papers",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(96), nullable=False, unique=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("authors", sa.Text, nullable=False),
        sa.Column("author_count", sa.Integer, nullable=True),
        sa.Column("abstract", sa.Text, nullable=False),
        sa.Column("commentary", sa.Text, nullable=False),
        sa.Column("links", sa.Text, nullable=False),
        sa.Column("published", sa.Date, nullable=True),
        sa.Column("upvotes", sa.Integer, nullable=True),
        sa.Column("date", sa.Date, nullable=True),
        sa.Column("source", sa.String(255), nullable=False),
        sa.Column("line", sa.Integer, nullable=False),
    )
    op.create_index("ix_papers_date", "papers", ["date"])
    op.create_table(
        "paper_tags",
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column(
            "paper_id", sa.String(96), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("date", sa.Date, nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
    )
    op.create_index("ix_paper_tags_tag_date", "paper_tags", ["tag", "date", "paper_id"])
    op.create_index("ix_paper_tags_paper_id", "paper_tags", ["paper_id"])

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRES_SEARCH}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TABLE IF EXISTS papers_fts")
    for table in ("paper_tags", "papers", "entries", "sources"):
        op.drop_table(table)
