"""successive cost readings, one per source and day

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 6)


def upgrade() -> None:
    op.create_table(
        "cost_reading_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("community", sa.String(64)),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("allocated", MONEY),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "source", "start", "day", name="uq_reading_history"),
    )
    op.create_index("ix_reading_history_community_day", "cost_reading_history", ["community", "day"])


def downgrade() -> None:
    op.drop_index("ix_reading_history_community_day", "cost_reading_history")
    op.drop_table("cost_reading_history")
