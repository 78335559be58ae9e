"""The database schema. Alembic migrations in ``migrations/`` create exactly this."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
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
    false,
    true,
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
    # The JSON text exactly as sent (inline attachment bytes moved to the vault, their SHA-256
    # kept), sealed with AES-256-GCM under a key of its own (``document_key``, itself sealed
    # by the key ring). Erasing that key erases the document (withdrawal).
    Column("document", Text, nullable=False),
    Column("document_key", Text, nullable=True),
    Column("withdrawn_at", DateTime(timezone=True), nullable=True),
    # SHA-256 of the canonical form of the document as sent (bytes included): the identity
    # used to tell an idempotent re-import from a conflicting one.
    Column("content_sha256", String(64), nullable=False),
    Column("country", String(2), nullable=True),
    Column("tlp", String(20), nullable=False),
    # HMAC of the columns above under the integrity key (evidence/integrity.py): an edit made
    # directly in the database is refused on read and found by `ringtrace check`.
    Column("mac", String(64), nullable=True),
    # What every list needs from the document, worked out when it is stored
    # (store/view_columns.py), so lists do not open documents: the reporter's consent to
    # sharing, and the urgency the document alone decides (points, crisis, alert, reasons).
    # NULL until `ringtrace init` fills rows from before migration 0013. Covered by ``mac``.
    Column("consent_share", Boolean, nullable=True),
    Column("urgency_points", Integer, nullable=True),
    Column("urgency_crisis", Boolean, nullable=True),
    Column("urgency_alert", Boolean, nullable=True),
    Column("urgency_reasons", Text, nullable=True),
    UniqueConstraint("source", "external_id"),
    # Lists are newest first, a page at a time.
    Index("ix_reports_received_at", "received_at", "id"),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("filename", Text, nullable=False),  # sealed (it can name a person)
    Column("media_type", String(200), nullable=True),
    Column("sha256", String(64), nullable=True, index=True),
    Column("size", Integer, nullable=True),
    Column("stored", Boolean, nullable=False),
    # What the bytes really are (magic numbers), whatever the sender claimed.
    Column("detected_type", String(200), nullable=True),
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
    # Offender evidence that links on its own; other rows need corroboration (0010).
    Column("strong", Boolean, nullable=False, server_default=true()),
    # Strong only by a cue in free text, as extracted; ``strong`` is then the strength the
    # linker uses, which the key's other holders can outvote (0015, linking/specificity.py).
    Column("cue_strong", Boolean, nullable=False, server_default=false()),
    UniqueConstraint("report_id", "type", "value"),
    Index("ix_indicators_key", "type", "value", "linkable"),
)

# Derived: components over non-payment keys only ("core" evidence), used to tell a ring's own
# payment account from a mule account shared by several rings (linking/specificity.py).
report_core = Table(
    "report_core",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("core_id", Integer, nullable=False, index=True),
)

# Analysts' decisions, applied on top of the automatic linking and kept through every
# rebuild: merge two clusters (an edge between two reports) or cut a key (it stops linking).
decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # "merge" | "cut"
    Column("report_a", Integer, ForeignKey("reports.id"), nullable=True),
    Column("report_b", Integer, ForeignKey("reports.id"), nullable=True),
    Column("key_type", String(32), nullable=True),
    Column("key_value", String(1000), nullable=True),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Weak signals (near-duplicate scripts, later shared lure images): suggested links an analyst
# accepts (a merge) or rejects. Never applied on their own.
suggestions = Table(
    "suggestions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("report_a", Integer, ForeignKey("reports.id"), nullable=False),
    Column("report_b", Integer, ForeignKey("reports.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("status", String(20), nullable=False),  # open | accepted | rejected
    Column("reason", Text, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("key_type", String(32), nullable=True),  # the shared key, for kind "shared_key"
    Column("key_value", String(1000), nullable=True),
    UniqueConstraint("kind", "report_a", "report_b"),
)

# Derived: perceptual hashes of the offender's lure images and videos (report-v1
# ``media_hashes`` with role "lure"), matched to suggest links. Rebuilt from the documents.
media_hashes = Table(
    "media_hashes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("pdq", String(64), nullable=False),
    Column("quality", Integer, nullable=True),
    Column("preprocessing", String(100), nullable=True),
    Column("frame_second", Float, nullable=True),
)

# The takedown list: hashes of victims' own intimate images (never the images), with a status
# lifecycle received -> active -> removed, or withdrawn by the victim. Not derived: the status
# is state, every change of it is audited.
takedown = Table(
    "takedown",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=True, index=True),
    Column("pdq", String(64), nullable=False, index=True),
    Column("quality", Integer, nullable=True),
    Column("preprocessing", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Static analyses of APK evidence (apk/analysis.py), run in the background. The result is
# kept (it describes the offender's app, not the victim) and its link keys are indicators of
# the report; a rebuild takes them from here instead of analysing again.
apk_analyses = Table(
    "apk_analyses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("filename", Text, nullable=False),  # sealed, as in attachments
    Column("sha256", String(64), nullable=False),
    Column("status", String(20), nullable=False, index=True),  # queued|running|done|failed
    Column("attempts", Integer, nullable=False),
    Column("result", Text, nullable=True),
    Column("error_code", String(40), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("report_id", "position"),
)

# Access control (access/): agencies own the reports whose source is their code; users
# belong to one agency and have one role.
agencies = Table(
    "agencies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code", String(200), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(200), nullable=False, unique=True),
    Column("agency_id", Integer, ForeignKey("agencies.id"), nullable=False),
    Column("role", String(30), nullable=False),
    Column("password_hash", String(300), nullable=False),  # argon2id
    Column("totp_secret", Text, nullable=True),  # sealed with the key ring
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("email", String(300), nullable=True),  # for alerts
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256 of the token
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# Server-side sessions; the cookie holds a random id, the table only its SHA-256.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

triage = Table(
    "triage",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("status", String(20), nullable=False),  # new | in_progress | done
    Column("assigned_to", Integer, ForeignKey("users.id"), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Watching a ring: when a new report joins it, each watcher gets an alert.
watches = Table(
    "watches",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("cluster_id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("cluster_id", Integer, nullable=False),
    Column("report_id", Integer, ForeignKey("reports.id"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=True),
    Column("emailed", Boolean, nullable=False),
)

# The public page's follow-up codes: only a hash of the code is kept (it is shown once).
followups = Table(
    "followups",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("code_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("additions", Integer, nullable=False),
)

# Append-only, hash-chained: each entry commits to the one before it.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("subject", String(300), nullable=False, index=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # HMAC of (seq, hash) under the integrity key: the chain cannot be rewritten without it.
    Column("mac", String(64), nullable=True),
)

# Derived: each report's connected component. A cluster's id is its smallest report id, so
# the incremental and batch linkers name clusters the same way.
report_clusters = Table(
    "report_clusters",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("cluster_id", Integer, nullable=False, index=True),
)

# Case work on a ring, one record per agency (keyed by cluster id): status, owner and tags;
# notes beside it. Each agency's case record and notes are its own.
ring_cases = Table(
    "ring_cases",
    metadata,
    Column("cluster_id", Integer, primary_key=True),
    Column("agency", String(200), primary_key=True),
    Column("status", String(20), nullable=False),  # new | investigating | referred | closed
    Column("owner", String(200), nullable=True),  # a username of the agency
    Column("tags", Text, nullable=False),  # JSON list of short strings
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

ring_notes = Table(
    "ring_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cluster_id", Integer, nullable=False, index=True),
    Column("agency", String(200), nullable=False),
    Column("author", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Watching one identifier (the identifier page's watch button).
key_watches = Table(
    "key_watches",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("key_type", String(50), primary_key=True),
    Column("key_value", String(500), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Exports started from the console, run in the background; the file sits in the data folder.
export_jobs = Table(
    "export_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("cluster_id", Integer, nullable=False),
    Column("format", String(20), nullable=False),  # stix | misp | csv | court
    Column("status", String(20), nullable=False),  # queued | running | done | failed
    Column("progress", Integer, nullable=False),  # 0..100
    Column("filename", String(300), nullable=True),
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

# A match confirmed by the owning agency: its report may be read by another agency under the
# TLP rules (access/sharing.py). Without a row, a ring shared only because the other agency's
# report joined it is a hit: the report exists, and whose it is.
report_shares = Table(
    "report_shares",
    metadata,
    Column("report_id", Integer, ForeignKey("reports.id"), primary_key=True),
    Column("agency", String(200), primary_key=True),  # the agency it is shared with
    Column("confirmed_by", String(300), nullable=False),  # the actor of the owning agency
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
)
