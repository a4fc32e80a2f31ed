"""Add match exclusions and source suggestion decisions

Revision ID: 0008_review_learning
Revises: 0007_merge_feature_heads
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_review_learning"
down_revision = "0007_merge_feature_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_exclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1000), nullable=False, comment="address:<address>, title:<folded title> or location:<folded text>"),
        sa.Column("created_by", sa.String(length=200), nullable=False, comment="web:<user id> or cli:<system user>"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["practice_id"], ["referral_source.id"], name=op.f("fk_match_exclusion_practice_id_referral_source"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_match_exclusion_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_exclusion")),
        sa.UniqueConstraint("workspace_id", "practice_id", "key", name=op.f("uq_match_exclusion_workspace_id_practice_id_key")),
    )
    with op.batch_alter_table("match_exclusion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_match_exclusion_practice_id"), ["practice_id"], unique=False)

    op.create_table(
        "source_suggestion_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False, comment="domain:<domain> or address:<address>"),
        sa.Column("action", sa.Enum("accepted", "dismissed", name="suggestion_action", native_enum=False, length=32), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True, comment="the source an accepted suggestion created"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["referral_source.id"], name=op.f("fk_source_suggestion_decision_source_id_referral_source"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_source_suggestion_decision_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_suggestion_decision")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_source_suggestion_decision_workspace_id_key")),
    )


def downgrade() -> None:
    op.drop_table("source_suggestion_decision")
    with op.batch_alter_table("match_exclusion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_match_exclusion_practice_id"))
    op.drop_table("match_exclusion")
