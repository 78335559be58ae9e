"""Integrity MACs on report rows and audit entries; room for sealed file names.

Rows written before this migration have no MAC: the store adds them the first time it opens
with its keys (``Store.seal_legacy``), trusting those rows as they are then.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    # A sealed name is longer than the name: base64 of header, nonce, text and tag.
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("filename", type_=sa.Text(), existing_type=sa.String(500))
    with op.batch_alter_table("apk_analyses") as batch:
        batch.alter_column("filename", type_=sa.Text(), existing_type=sa.String(500))


def downgrade() -> None:
    with op.batch_alter_table("apk_analyses") as batch:
        batch.alter_column("filename", type_=sa.String(500), existing_type=sa.Text())
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("filename", type_=sa.String(500), existing_type=sa.Text())
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("mac")
