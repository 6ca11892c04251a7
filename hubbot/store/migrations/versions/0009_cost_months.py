"""the ledger summed per month (per hub) and per day (per community), kept in step with its lines

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 6)


def upgrade() -> None:
    op.create_table(
        "cost_months",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("community", sa.String(64)),
        sa.Column("hub", sa.String(130)),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
    )
    op.create_index("ix_cost_months_month_community", "cost_months", ["month", "community"])
    op.create_index("ix_cost_months_provider_month", "cost_months", ["provider", "month"])
    op.create_table(
        "cost_days",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("community", sa.String(64)),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
    )
    op.create_index("ix_cost_days_community_day", "cost_days", ["community", "day"])
    op.create_index("ix_cost_days_provider_day", "cost_days", ["provider", "day"])
    op.execute(
        "INSERT INTO cost_days (provider, community, day, currency, kind, amount) "
        "SELECT provider, community, day, currency, kind, SUM(amount) FROM cost_lines "
        "GROUP BY provider, community, day, currency, kind"
    )
    # the lines already in the ledger, summed the way every later replace keeps them
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO cost_months (provider, community, hub, month, currency, kind, amount) "
            "SELECT provider, community, hub, CAST(date_trunc('month', day) AS date), currency, kind, SUM(amount) "
            "FROM cost_lines GROUP BY provider, community, hub, CAST(date_trunc('month', day) AS date), currency, kind"
        )
    else:
        op.execute(
            "INSERT INTO cost_months (provider, community, hub, month, currency, kind, amount) "
            "SELECT provider, community, hub, strftime('%Y-%m-01', day), currency, kind, SUM(amount) "
            "FROM cost_lines GROUP BY provider, community, hub, strftime('%Y-%m-01', day), currency, kind"
        )


def downgrade() -> None:
    op.drop_index("ix_cost_days_provider_day", "cost_days")
    op.drop_index("ix_cost_days_community_day", "cost_days")
    op.drop_table("cost_days")
    op.drop_index("ix_cost_months_provider_month", "cost_months")
    op.drop_index("ix_cost_months_month_community", "cost_months")
    op.drop_table("cost_months")
