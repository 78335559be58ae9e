"""Lure media hashes and the takedown list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_hashes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("pdq", sa.String(64), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("preprocessing", sa.String(100), nullable=True),
        sa.Column("frame_second", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_media_hashes_report_id_reports"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_media_hashes"),
    )
    op.create_index("ix_media_hashes_report_id", "media_hashes", ["report_id"])
    op.create_table(
        "takedown",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("preprocessing", sa.String(100), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name="fk_takedown_report_id_reports"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_takedown"),
        sa.UniqueConstraint("reference", name="uq_takedown_reference"),
    )
    op.create_index("ix_takedown_report_id", "takedown", ["report_id"])
    op.create_index("ix_takedown_pdq", "takedown", ["pdq"])


def downgrade() -> None:
    op.drop_table("takedown")
    op.drop_table("media_hashes")
