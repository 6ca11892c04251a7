"""cost lines say how they recur (usage, recurring fee, one-off)

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Lines already in the ledger were all read as usage; the next refresh rewrites their window.
    with op.batch_alter_table("cost_lines") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="usage"))


def downgrade() -> None:
    with op.batch_alter_table("cost_lines") as batch:
        batch.drop_column("kind")
