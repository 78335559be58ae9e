"""Core components (non-payment evidence) for the specificity model.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_core",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("core_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_report_core_report_id_reports"
        ),
        sa.PrimaryKeyConstraint("report_id", name="pk_report_core"),
    )
    op.create_index("ix_report_core_core_id", "report_core", ["core_id"])


def downgrade() -> None:
    op.drop_table("report_core")
