"""Matches confirmed by the owning agency (a hit becomes readable under the TLP rules).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_shares",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(200), nullable=False),
        sa.Column("confirmed_by", sa.String(300), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_report_shares_report_id_reports"
        ),
        sa.PrimaryKeyConstraint("report_id", "agency", name="pk_report_shares"),
    )


def downgrade() -> None:
    op.drop_table("report_shares")
