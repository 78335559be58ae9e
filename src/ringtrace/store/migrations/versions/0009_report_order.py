"""An index for listing reports newest first, a page at a time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reports_received_at", "reports", ["received_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_reports_received_at", "reports")
