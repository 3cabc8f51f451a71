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

INDEXED = "(SELECT indexed_upto FROM search_index WHERE id = 1)"
# paperboy_search_text splits "Latent를" into "Latent 를" (bot.archive.text.split_scripts); the
# store registers it on every SQLite connection.
SEARCH_COMMENTARY = "paperboy_search_text({}.commentary)"
SQLITE_SEARCH = [
    # What the index reads: entries with the commentary's scripts split apart.
    f"""CREATE VIEW entries_search AS SELECT pk, title, authors, abstract,
        {SEARCH_COMMENTARY.format("entries")} AS commentary FROM entries""",
    # Porter stems English words (images -> imag) and leaves Korean alone; Korean terms are
    # searched as prefixes ("코드북"* finds 코드북을: particles are suffixes). Indexing runs
    # several times faster than with the trigram tokenizer (see README).
    """CREATE VIRTUAL TABLE entries_fts USING fts5(
        title, authors, abstract, commentary, content='entries_search', content_rowid='pk',
        tokenize='porter unicode61 remove_diacritics 2')""",
    # New entries are indexed in bulk by bot.archive.ingest.index_pending (four times cheaper than
    # one small FTS segment per file); entries already indexed leave the index with their row.
    f"""CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries WHEN old.pk <= {INDEXED}
    BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, title, authors, abstract, commentary)
        VALUES ('delete', old.pk, old.title, old.authors, old.abstract, {SEARCH_COMMENTARY.format("old")});
    END""",
    # Paperboy replaces entries rather than editing them; this keeps a hand edit honest too.
    f"""CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, authors, abstract, commentary
    ON entries WHEN old.pk <= {INDEXED}
    BEGIN
        INSERT INTO entries_fts(entries_fts, rowid, title, authors, abstract, commentary)
        VALUES ('delete', old.pk, old.title, old.authors, old.abstract, {SEARCH_COMMENTARY.format("old")});
        INSERT INTO entries_fts(rowid, title, authors, abstract, commentary)
        VALUES (new.pk, new.title, new.authors, new.abstract, {SEARCH_COMMENTARY.format("new")});
    END""",
]

POSTGRES_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # The same expression appears in bot/archive/search.py; ILIKE '%word%' uses this index.
    """CREATE INDEX ix_entries_search_trgm ON entries USING gin (
        (title || ' ' || authors || ' ' || abstract || ' ' || commentary) gin_trgm_ops)""",
]


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("date", sa.Date, nullable=True),
        sa.Column("checksum", sa.String(64), nullable=False),
    )
    op.create_index("ix_sources_date", "sources", ["date"])
    op.create_table(
        "entries",
        sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "source", sa.String(255), sa.ForeignKey("sources.name", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer, nullable=False),
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
        sa.UniqueConstraint("source", "position", name="uq_entries_source_position"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_entries_paper_id", "entries", ["paper_id"])
    op.create_table(
        "papers",
        sa.Column("id", sa.String(96), primary_key=True),
        sa.Column("date", sa.Date, nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_papers_date", "papers", ["date"])
    op.create_table(
        "paper_tags",
        sa.Column(
            "paper_id", sa.String(96), sa.ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("date", sa.Date, nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_paper_tags_tag_date", "paper_tags", ["tag", "date", "paper_id"])
    op.create_table(
        "tags",
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column("papers", sa.Integer, nullable=False),
    )
    search_index = op.create_table(
        "search_index",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("indexed_upto", sa.Integer, nullable=False),
    )
    op.bulk_insert(search_index, [{"id": 1, "indexed_upto": 0}])

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_SEARCH, "postgresql": POSTGRES_SEARCH}.get(dialect, []):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS entries_fts")
        op.execute("DROP VIEW IF EXISTS entries_search")
    for table in ("search_index", "tags", "paper_tags", "papers", "entries", "sources"):
        op.drop_table(table)
