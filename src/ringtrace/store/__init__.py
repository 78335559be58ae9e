"""Persistence: SQLAlchemy Core on SQLite (embedded) or PostgreSQL (production)."""

from ringtrace.store.database import Store, open_store

__all__ = ["Store", "open_store"]
