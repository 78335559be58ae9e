"""Evidence strength per indicator row, and the key behind a suggested link.

``indicators.strong``: the row is offender evidence that links on its own (a structured field,
a payment, the app, or text saying the victim was made to install from it or pay into it);
other free-text rows need corroboration (docs/linking.md). Existing rows count as strong,
as they linked before; ``ringtrace rebuild`` derives the real value.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "indicators", sa.Column("strong", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("suggestions", sa.Column("key_type", sa.String(32), nullable=True))
    op.add_column("suggestions", sa.Column("key_value", sa.String(1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.drop_column("key_value")
        batch.drop_column("key_type")
    with op.batch_alter_table("indicators") as batch:
        batch.drop_column("strong")
