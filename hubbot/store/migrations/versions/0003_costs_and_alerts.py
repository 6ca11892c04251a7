"""cost ledger, readings, provider status, budgets, alert outbox

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 6)


def upgrade() -> None:
    op.create_table(
        "cost_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("hub", sa.String(130)),
        sa.Column("community", sa.String(64)),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("estimated", sa.Boolean, nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cost_community_day", "cost_lines", ["community", "day"])
    op.create_index("ix_cost_provider_day", "cost_lines", ["provider", "day"])
    op.create_table(
        "cost_readings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("community", sa.String(64)),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date, nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("allocated", MONEY),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("provider", "source", "start", name="uq_reading"),
    )
    op.create_table(
        "provider_status",
        sa.Column("provider", sa.String(64), primary_key=True),
        sa.Column("ok_at", sa.DateTime(timezone=True)),
        sa.Column("error_at", sa.DateTime(timezone=True)),
        sa.Column("error", sa.Text),
        sa.Column("requests", sa.Integer, nullable=False),
    )
    op.create_table(
        "budgets",
        sa.Column("community", sa.String(64), primary_key=True),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("thresholds", sa.String(200), nullable=False),
        sa.Column("forecast", sa.Boolean, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("set_by", sa.String(32), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("community", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("threshold", sa.Integer),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("spend", MONEY),
        sa.Column("budget", MONEY),
        sa.Column("forecast", MONEY),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("blocks", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("acked_by", sa.String(32)),
        sa.Column("acked_at", sa.DateTime(timezone=True)),
        sa.Column("muted_until", sa.Date),
    )
    op.create_index("ix_alerts_state", "alerts", ["state", "id"])
    op.create_index("ix_alerts_community", "alerts", ["community", "id"])


def downgrade() -> None:
    for table in ("alerts", "budgets", "provider_status", "cost_readings", "cost_lines"):
        op.drop_table(table)
