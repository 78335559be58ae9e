"""Which strong rows rest only on a cue in free text.

``indicators.cue_strong``: the row was extracted as strong only because the words around it
in a narrative or a message say the victim was made to install from it or pay into it (no
structured field, payment, app or analyst says so). Such strength is outvoted when most of
the key's holders mention it without a cue (linking/specificity.py); ``indicators.strong``
then holds the strength the linker uses. Existing rows keep their strength (false here);
``ringtrace rebuild`` derives the real value.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "indicators",
        sa.Column("cue_strong", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("indicators") as batch:
        batch.drop_column("cue_strong")
