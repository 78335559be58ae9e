"""Alembic environment: runs on the connection ringtrace hands it (see store.migrate)."""

from alembic import context

from ringtrace.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - ringtrace always passes a connection
    raise RuntimeError("run migrations through `ringtrace init` or Store.migrate()")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
