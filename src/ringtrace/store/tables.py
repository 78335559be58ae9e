"""The database schema. Alembic migrations in ``migrations/`` create exactly this."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Reports as received. Never updated; everything else can be rebuilt from these rows.
reports = Table(
    "reports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    # The JSON text exactly as sent, except inline attachment bytes, which move to the vault
    # (their SHA-256 stays in the document; see docs/decisions.md).
    Column("document", Text, nullable=False),
    # SHA-256 of the canonical form of the document as sent (bytes included): the identity
    # used to tell an idempotent re-import from a conflicting one.
    Column("content_sha256", String(64), nullable=False),
    Column("country", String(2), nullable=True),
    Column("tlp", String(20), nullable=False),
    UniqueConstraint("source", "external_id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("filename", String(500), nullable=False),
    Column("media_type", String(200), nullable=True),
    Column("sha256", String(64), nullable=True, index=True),
    Column("size", Integer, nullable=True),
    Column("stored", Boolean, nullable=False),
)

# Derived: rebuilt by `ringtrace rebuild`.
indicators = Table(
    "indicators",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("value", String(1000), nullable=False),
    Column("linkable", Boolean, nullable=False),
    Column("excluded_reason", String(300), nullable=True),
    Column("extractor", String(100), nullable=False),
    Column("extractor_version", String(20), nullable=False),
    Column("attributes", Text, nullable=False),
    Column("occurrences", Text, nullable=False),
    UniqueConstraint("report_id", "type", "value"),
    Index("ix_indicators_key", "type", "value", "linkable"),
)

# Derived: each report's connected component. A cluster's id is its smallest report id, so
# the incremental and batch linkers name clusters the same way.
report_clusters = Table(
    "report_clusters",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("cluster_id", Integer, nullable=False, index=True),
)
