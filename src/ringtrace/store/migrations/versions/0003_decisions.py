"""Analysts' merge and cut decisions.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("report_a", sa.Integer(), nullable=True),
        sa.Column("report_b", sa.Integer(), nullable=True),
        sa.Column("key_type", sa.String(32), nullable=True),
        sa.Column("key_value", sa.String(1000), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["report_a"], ["reports.id"], name="fk_decisions_report_a_reports"),
        sa.ForeignKeyConstraint(["report_b"], ["reports.id"], name="fk_decisions_report_b_reports"),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )


def downgrade() -> None:
    op.drop_table("decisions")
