"""pull requests hubbot opened on the fleet repository, followed until merged or closed

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("hub", sa.String(130), nullable=False),
        sa.Column("community", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("branch", sa.String(200), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("requested_by", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("thread_ts", sa.String(32), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("checks", sa.String(16), nullable=False),
        sa.Column("review", sa.String(24), nullable=False),
        sa.Column("merge_sha", sa.String(40), nullable=True),
        sa.Column("conflicted", sa.Boolean, nullable=False),
        sa.Column("deploy_when_merged", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_proposals_state", "proposals", ["state", "id"])


def downgrade() -> None:
    op.drop_index("ix_proposals_state", table_name="proposals")
    op.drop_table("proposals")
