"""Columns for what every list needs: consent to sharing and the document's urgency.

Until now the triage queue and the sharing rules opened (decrypted) every report's document
on each request. The columns are filled for new reports when they are stored. Rows from
before this migration are filled by `ringtrace init` right after it (``Store.migrate`` ->
``store/view_columns.fill``): that needs the vault keys, which a migration does not have.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = ("consent_share", "urgency_points", "urgency_crisis", "urgency_alert", "urgency_reasons")


def upgrade() -> None:
    op.add_column("reports", sa.Column("consent_share", sa.Boolean(), nullable=True))
    op.add_column("reports", sa.Column("urgency_points", sa.Integer(), nullable=True))
    op.add_column("reports", sa.Column("urgency_crisis", sa.Boolean(), nullable=True))
    op.add_column("reports", sa.Column("urgency_alert", sa.Boolean(), nullable=True))
    op.add_column("reports", sa.Column("urgency_reasons", sa.Text(), nullable=True))


def downgrade() -> None:
    # Rows filled since carry a MAC over these columns (report/v2): `ringtrace check` would
    # name them after a downgrade, so a downgrade is for a database that never ran 0013.
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of ``reports`` would have to drop the
    # table that every other table refers to.
    for name in reversed(COLUMNS):
        op.drop_column("reports", name)
