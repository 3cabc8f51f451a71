"""The archive's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

``entries`` hold what each source document said, as written: the only copy of the text, and
what full-text search indexes. ``papers`` is the identity of each paper (its id and the day a
digest first featured it) and ``paper_tags`` its merged tags, both kept in step by the ingest;
reading a paper merges its entries (``merge.py``). So re-ingesting a file replaces exactly that
file's contribution, and a paper that appears in two sources loses nothing from either.

Alembic migrations (``migrations/versions``) create these tables; a test checks that the
migrated schema and this module agree.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
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
    # Hash of what the document said: re-ingesting an unchanged file writes nothing.
    Column("checksum", String(64), nullable=False),
    # The post that corrected this one's day (migration 0005): its entries are gone, its row and
    # checksum stay, so reading the same file again does not undo the correction.
    Column("superseded_by", SOURCE_NAME, nullable=True),
)

entries = Table(
    "entries",
    metadata,
    # An integer key for SQLite's full-text index (FTS5 content_rowid). Keys only grow, so
    # "every entry above the watermark" is exactly what the index still lacks.
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("source", SOURCE_NAME, ForeignKey("sources.name", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
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
    UniqueConstraint("source", "position", name="uq_entries_source_position"),
    sqlite_autoincrement=True,
)

# WITHOUT ROWID on SQLite: rows live in their primary key's B-tree, one B-tree fewer to
# update per row; with paper ids spread at random, that was most of a bulk ingest's writes.
papers = Table(
    "papers",
    metadata,
    Column("id", PAPER_ID, primary_key=True),
    # The first day a digest featured the paper; NULL while it only waits in the queue.
    Column("date", Date, nullable=True, index=True),
    # When a correction last changed it (migration 0005): a feed entry's <updated>.
    Column("corrected", DateTime(timezone=True), nullable=True),
    sqlite_with_rowid=False,
)

paper_tags = Table(
    "paper_tags",
    metadata,
    Column("paper_id", PAPER_ID, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    # A copy of papers.date, so a tag page is one range scan of the index below.
    Column("date", Date, nullable=True),
    Column("position", Integer, nullable=False),
    Index("ix_paper_tags_tag_date", "tag", "date", "paper_id"),
    sqlite_with_rowid=False,
)

#: Each tag with its number of papers, kept in step by the ingest: listing tags, counting a
#: tag's papers and suggesting close tags never count the whole paper_tags table.
tags = Table(
    "tags",
    metadata,
    Column("tag", String(64), primary_key=True),
    Column("papers", Integer, nullable=False),
)

#: One row: entries with pk <= indexed_upto are in SQLite's full-text index (see ingest.py).
search_index = Table(
    "search_index",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("indexed_upto", Integer, nullable=False),
)

#: Objects the migrations create outside this metadata (full-text indexes), by dialect.
SEARCH_OBJECTS = {
    "sqlite": (
        "entries_search",
        "entries_fts",
        "entries_fts_data",
        "entries_fts_idx",
        "entries_fts_docsize",
        "entries_fts_config",
        "entries_fts_content",
    ),
    "postgresql": ("ix_entries_search_trgm",),
}

# --- Publishing (migration 0002) ---

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # telegram, discord, email, ...
    Column("target", String(255), nullable=False),  # chat id, channel id, address
    Column("tags", Text, nullable=False),  # JSON list; empty: every paper
    Column("status", String(16), nullable=False),  # pending (email, until confirmed), active, paused, gone
    Column("created", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("mention", String(32), nullable=True),  # a Discord role id to mention
    Column("bounces", Integer, nullable=False, server_default="0"),  # hard bounces in a row
    Column("confirm_sent", DateTime(timezone=True), nullable=True),  # last opt-in email
    UniqueConstraint("kind", "target", name="uq_subscriptions_kind_target"),
    Index("ix_subscriptions_kind_status", "kind", "status", "id"),  # the console's pages (0007)
    Index("ix_subscriptions_kind_id", "kind", "id"),  # one channel's pages, any status (0008)
)

#: What each day published (paper ids in order): a second publish sends the same papers.
publications = Table(
    "publications",
    metadata,
    Column("day", Date, primary_key=True),
    Column("papers", Text, nullable=False),  # JSON list of paper ids
    Column("created", DateTime(timezone=True), nullable=False),
)

#: Undated papers given a day by publishing (a day with no digest takes the next ones).
releases = Table(
    "releases",
    metadata,
    Column("paper_id", PAPER_ID, primary_key=True),
    Column("day", Date, nullable=False, index=True),
    Column("position", Integer, nullable=False),
)

#: The outbox: one row per (day, subscription), written before anything is sent.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("subscription_id", Integer, ForeignKey("subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),  # pending, sending, sent, failed, gone
    Column("attempts", Integer, nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=True),  # when a retry may go
    Column("claimed_by", String(64), nullable=True),  # the worker sending it right now
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("message_ids", Text, nullable=True),  # JSON list, the platform's ids once sent
    Column("last_error", Text, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    # The correction its messages show (corrections.id; 0: the day as first published).
    Column("version", Integer, nullable=False, server_default="0"),
    UniqueConstraint("day", "subscription_id", name="uq_deliveries_day_subscription"),
    Index("ix_deliveries_status", "status", "not_before"),
    Index("ix_deliveries_day", "day", "status"),
    Index("ix_deliveries_status_id", "status", "id"),  # the console's ledger by status (0008)
    # The email window (PAPERBOY_SMTP_WINDOW) counts what was sent in its last hour or day.
    Index("ix_deliveries_sent_at", "sent_at"),
)

#: Small facts the service keeps (the day it first started, the schedule's owner).
service_state = Table(
    "service_state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)


# --- Corrections and the curator's desk (migration 0005) ---

#: A post for a day that had gone out: what it changed, and the day's papers just before it.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False, index=True),
    Column("source", SOURCE_NAME, nullable=False),  # the correcting document
    Column("before", Text, nullable=False),  # JSON list of papers, as they read before it
    Column("changes", Text, nullable=False),  # JSON list of paper changes
    Column("created", DateTime(timezone=True), nullable=False),
    sqlite_autoincrement=True,
)

#: The ledger of a correction's work on one delivery: its chat messages edited in place (extra
#: ones sent, surplus deleted) or a correction email. ``progress`` counts the steps done, so a
#: crash repeats at most the step under way.
edits = Table(
    "edits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("correction_id", Integer, ForeignKey("corrections.id", ondelete="CASCADE"), nullable=False),
    Column("delivery_id", Integer, ForeignKey("deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),  # pending, sending, done, failed, superseded
    Column("attempts", Integer, nullable=False),
    Column("not_before", DateTime(timezone=True), nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("progress", Integer, nullable=False, server_default="0"),
    Column("message_ids", Text, nullable=True),  # JSON list: the messages as they stand
    Column("edited", Integer, nullable=False, server_default="0"),  # platform calls that changed a message
    Column("last_error", Text, nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("done_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("correction_id", "delivery_id", name="uq_edits_correction_delivery"),
    Index("ix_edits_status", "status", "not_before"),
)

#: A curator's post waiting in chat for "publish" or "discard"; nothing of it is in the archive.
drafts = Table(
    "drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("curator", String(64), nullable=False),  # telegram:USER_ID, discord:USER_ID
    Column("name", SOURCE_NAME, nullable=False),  # the file name it will be stored under
    Column("text", Text, nullable=False),
    Column("reply_to", String(255), nullable=True),  # where the preview was shown
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False, index=True),
)


# --- Discovery (migration 0006) ---

#: Tags the model of the curator's vocabulary is confident of, for papers the curator did not
#: tag with them; kept apart from ``paper_tags`` and always shown as suggested.
tag_suggestions = Table(
    "tag_suggestions",
    metadata,
    Column("paper_id", PAPER_ID, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Column("score", Float, nullable=False),
    Column("status", String(16), nullable=False),  # suggested, accepted, rejected
    Column("updated", DateTime(timezone=True), nullable=False),
    Index("ix_tag_suggestions_tag", "tag", "status", "score"),
)

#: Papers pulled from Hugging Face or arXiv for the curator to pick from: not in the archive's days.
candidates = Table(
    "candidates",
    metadata,
    Column("id", PAPER_ID, primary_key=True),  # arxiv-2406.11837, as an archived paper's would be
    Column("source", String(16), nullable=False),  # hf, arxiv
    Column("day", Date, nullable=True, index=True),  # the listing's day (Hugging Face)
    Column("arxiv_id", String(32), nullable=True),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("authors", Text, nullable=False),  # JSON list
    Column("upvotes", Integer, nullable=True),
    Column("published", Date, nullable=True),
    Column("links", Text, nullable=False),  # JSON list
    Column("status", String(16), nullable=False),  # new, drafted, dismissed
    Column("pulled", DateTime(timezone=True), nullable=False, index=True),  # the last pull that read it
)

#: Hugging Face's upvote count of an archived paper, as its API last said (the service refreshes
#: it daily, ``bot/pull/upvotes.py``). Apart from ``entries``, which keep what each document said:
#: reading a paper shows the highest of the two (``merge.py``).
refreshed_upvotes = Table(
    "refreshed_upvotes",
    metadata,
    Column("paper_id", PAPER_ID, ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True),
    Column("upvotes", Integer, nullable=False),
    Column("day", Date, nullable=True),  # the Daily Papers listing it was read from
    Column("checked", DateTime(timezone=True), nullable=False),
)


# --- The operator console (migration 0007) ---

#: A logged-in browser: ``id`` is the SHA-256 of the cookie's value, never the value itself.
admin_sessions = Table(
    "admin_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("csrf", String(64), nullable=False),
    Column("address", String(64), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False, index=True),
)

#: Failed logins, counted per address over the lockout window.
admin_failures = Table(
    "admin_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("address", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_admin_failures_address", "address", "at"),
)

#: An address refused at the login until ``until``.
admin_lockouts = Table(
    "admin_lockouts",
    metadata,
    Column("address", String(64), primary_key=True),
    Column("until", DateTime(timezone=True), nullable=False),
)

#: What was done from the console: when, from where, what, and what changed.
admin_audit = Table(
    "admin_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("address", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("detail", Text, nullable=False),
)


#: Deliveries counted by (day, channel, status), kept by triggers on ``deliveries`` in the same
#: transaction (migration 0008). On PostgreSQL a key may have several rows (deltas): sum ``n``.
delivery_counts = Table(
    "delivery_counts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", Date, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("n", Integer, nullable=False),
    Index("ix_delivery_counts_day", "day", "kind", "status"),
)
