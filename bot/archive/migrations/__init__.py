"""Alembic migrations for the archive; ``bot.archive.store.upgrade`` runs them."""
