"""The archive's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

``entries`` is the record of what each source document said, kept as written; ``papers`` is
the merge of a paper's entries across sources (see ``merge.py``), the table lookups read.
Keeping both means re-ingesting a file replaces exactly that file's contribution, and a paper
that appears in two sources loses nothing from either.

Alembic migrations (``migrations/versions``) create these tables; a test checks that the
migrated schema and this module agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

SOURCE_NAME = String(255)
PAPER_ID = String(96)

sources = Table(
    "sources",
    metadata,
    Column("name", SOURCE_NAME, primary_key=True),
    Column("format", String(32), nullable=False),
    # The digest day; NULL for a document of undated papers (the queue).
    Column("date", Date, nullable=True, index=True),
)

entries = Table(
    "entries",
    metadata,
    Column("source", SOURCE_NAME, ForeignKey("sources.name", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("paper_id", PAPER_ID, nullable=False, index=True),
    Column("line", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON list
    Column("author_count", Integer, nullable=True),
    Column("abstract", Text, nullable=False),
    Column("commentary", Text, nullable=False),
    Column("tags", Text, nullable=False),  # JSON list
    Column("links", Text, nullable=False),  # JSON list
    Column("published", Date, nullable=True),
    Column("upvotes", Integer, nullable=True),
)

papers = Table(
    "papers",
    metadata,
    # An integer key for SQLite's full-text index (FTS5 content_rowid); ``id`` is the public one.
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", PAPER_ID, nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON list
    Column("author_count", Integer, nullable=True),
    Column("abstract", Text, nullable=False),
    Column("commentary", Text, nullable=False),
    Column("links", Text, nullable=False),  # JSON list
    Column("published", Date, nullable=True),
    Column("upvotes", Integer, nullable=True),
    # The first day a digest featured the paper; NULL while it only waits in the queue.
    Column("date", Date, nullable=True, index=True),
    Column("source", SOURCE_NAME, nullable=False),
    Column("line", Integer, nullable=False),
)

paper_tags = Table(
    "paper_tags",
    metadata,
    Column("tag", String(64), primary_key=True),
    Column("paper_id", PAPER_ID, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    # A copy of papers.date, so a tag page is one range scan of the index below.
    Column("date", Date, nullable=True),
    Column("position", Integer, nullable=False),
    Index("ix_paper_tags_tag_date", "tag", "date", "paper_id"),
    Index("ix_paper_tags_paper_id", "paper_id"),
)

#: Objects the migrations create outside this metadata (full-text indexes), by dialect.
SEARCH_OBJECTS = {
    "sqlite": (
        "papers_fts",
        "papers_fts_data",
        "papers_fts_idx",
        "papers_fts_docsize",
        "papers_fts_config",
        "papers_fts_content",
    ),
    "postgresql": ("ix_papers_search_trgm",),
}
