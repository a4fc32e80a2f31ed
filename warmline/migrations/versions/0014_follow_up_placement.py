"""Add follow_up_placement: follow-up events placed on staff calendars

Revision ID: 0014_follow_up_placement
Revises: 0007_merge_feature_heads
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_follow_up_placement"
down_revision = "0007_merge_feature_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_up_placement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False, comment="Warmline's key on the event: extended property, transactionId or UID"),
        sa.Column("status", sa.String(length=16), nullable=False, comment="placed; unplaced (no free slot or a failure, see detail); deleted_by_staff (never placed again)"),
        sa.Column("event_id", sa.String(length=1000), nullable=True, comment="provider's event id, or the CalDAV resource path"),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True, comment="the event's start as last seen or written"),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True, comment="the follow-up's due date the slot was chosen for"),
        sa.Column("moved_by_staff", sa.Boolean(), nullable=False, comment="a person moved the event; Warmline no longer changes its times"),
        sa.Column("text_hash", sa.String(length=64), nullable=False, comment="SHA-256 of the title and description written"),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"], name=op.f("fk_follow_up_placement_account_id_account"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["follow_up_id"], ["follow_up.id"], name=op.f("fk_follow_up_placement_follow_up_id_follow_up"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_follow_up_placement_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_placement")),
        sa.UniqueConstraint("follow_up_id", "account_id", name=op.f("uq_follow_up_placement_follow_up_id_account_id")),
    )
    with op.batch_alter_table("follow_up_placement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_placement_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_up_placement_follow_up_id"), ["follow_up_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follow_up_placement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_placement_follow_up_id"))
        batch_op.drop_index(batch_op.f("ix_follow_up_placement_account_id"))
    op.drop_table("follow_up_placement")
