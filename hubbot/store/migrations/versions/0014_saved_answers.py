"""answers the support team saved from Slack threads; where escalations were posted; suggestions
and verdicts that no longer count; outbox posts in a thread

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("support_questions") as batch:
        batch.add_column(sa.Column("suggested", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("unlearned", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("post_channel", sa.String(32), nullable=True))
        batch.add_column(sa.Column("post_ts", sa.String(32), nullable=True))
    op.create_index("ix_support_post", "support_questions", ["post_channel", "post_ts"])
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("thread_ts", sa.String(32), nullable=True))
    op.create_table(
        "support_replies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("user", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("ts", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("channel", "ts", name="uq_support_replies_message"),
    )
    op.create_table(
        "saved_answers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("community", sa.String(64), nullable=True),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("links", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("author", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question_id", sa.Integer, nullable=True),
        sa.Column("edited_by", sa.String(32), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_index("ix_saved_answers_community", "saved_answers", ["community", "id"])


def downgrade() -> None:
    op.drop_index("ix_saved_answers_community", table_name="saved_answers")
    op.drop_table("saved_answers")
    op.drop_table("support_replies")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("thread_ts")
    op.drop_index("ix_support_post", table_name="support_questions")
    with op.batch_alter_table("support_questions") as batch:
        batch.drop_column("post_ts")
        batch.drop_column("post_channel")
        batch.drop_column("unlearned")
        batch.drop_column("suggested")
