"""Add push subscriptions and sync requests

Revision ID: 0010_push_notifications
Revises: 0007_merge_feature_heads
Create Date: 2026-12-04 19:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_push_notifications"
down_revision = "0007_merge_feature_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, comment="gmail_watch or graph"),
        sa.Column("resource", sa.String(length=500), nullable=False, comment="Graph resource path, or the Gmail Pub/Sub topic"),
        sa.Column("subscription_id", sa.String(length=200), nullable=True, comment="Graph subscription id; null for a Gmail watch"),
        sa.Column("client_state", sa.Text(), nullable=True, comment="Fernet token of the Graph clientState secret"),
        sa.Column("history_id", sa.String(length=32), nullable=True, comment="Gmail historyId that users.watch returned"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False, comment="when the provider stops notifying unless renewed"),
        sa.Column("renewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_push_subscription_account_id_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscription")),
        sa.UniqueConstraint("account_id", "kind", "resource", name=op.f("uq_push_subscription_account_id_kind_resource")),
        sa.UniqueConstraint("subscription_id", name=op.f("uq_push_subscription_subscription_id")),
    )
    op.create_index(op.f("ix_push_subscription_account_id"), "push_subscription", ["account_id"], unique=False)
    op.create_table(
        "sync_request",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False, comment="raised by every request; a sync clears only what it saw"),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True, comment="when a Celery task was last sent for it; null in the embedded mode"),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_sync_request_account_id_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sync_request")),
    )


def downgrade() -> None:
    op.drop_table("sync_request")
    op.drop_index(op.f("ix_push_subscription_account_id"), table_name="push_subscription")
    op.drop_table("push_subscription")
