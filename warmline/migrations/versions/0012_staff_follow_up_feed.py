"""Add the secret follow-up feed token of each staff member

Revision ID: 0012_staff_follow_up_feed
Revises: 0007_merge_feature_heads
Create Date: 2026-12-04 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_staff_follow_up_feed"
down_revision = "0007_merge_feature_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column(
            "token_hash",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the URL token, hexadecimal",
        ),
        sa.Column(
            "token", sa.Text(), nullable=False, comment="Fernet token of the URL token"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_staff_feed_staff_member_id_staff_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_staff_feed_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_feed")),
        sa.UniqueConstraint(
            "staff_member_id", name=op.f("uq_staff_feed_staff_member_id")
        ),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_feed_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("staff_feed")
