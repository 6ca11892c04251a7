"""audit log and seen events

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("transport", sa.String(16), nullable=False),
        sa.Column("command", sa.String(80), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("community", sa.String(64)),
        sa.Column("hub", sa.String(130)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("reference", sa.String(16)),
    )
    op.create_index("ix_audit_community_id", "audit_log", ["community", "id"])
    op.create_index("ix_audit_hub_id", "audit_log", ["hub", "id"])
    op.create_table(
        "seen_events",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_seen_events_at", "seen_events", ["at"])


def downgrade() -> None:
    op.drop_table("seen_events")
    op.drop_index("ix_audit_hub_id", "audit_log")
    op.drop_index("ix_audit_community_id", "audit_log")
    op.drop_table("audit_log")
