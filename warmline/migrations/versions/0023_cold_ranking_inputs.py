"""Store each source's learned cadence inputs in source_learned_cadence

The cold ranking of the Today page, GET /api/cold and `warmline cold`
reads each source's touch days and learned interval from this table
instead of every confirmed touch of the last year.  The upgrade leaves the
table empty: until the daily reminder pass (`warmline remind`) fills it,
readers derive the figures from the touchpoints, which is correct but slow
on a large workspace.

Revision ID: 0023_cold_ranking_inputs
Revises: 0022_staff_working_hours
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_cold_ranking_inputs"
down_revision = "0022_staff_working_hours"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_learned_cadence",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column(
            "touch_days",
            sa.Integer(),
            nullable=False,
            comment="distinct UTC days with a confirmed touch in the year to "
            "refreshed_at",
        ),
        sa.Column(
            "median_gap_days",
            sa.Integer(),
            nullable=True,
            comment="median gap between those days, at least 7; null under two days",
        ),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "valid_until",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="first moment the figures may change; null: never",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["referral_source.id"],
            name=op.f("fk_source_learned_cadence_source_id_referral_source"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_source_learned_cadence_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_source_learned_cadence")),
    )
    op.create_index(
        "ix_source_learned_cadence_workspace_valid",
        "source_learned_cadence",
        ["workspace_id", "valid_until"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_source_learned_cadence_workspace_valid",
        table_name="source_learned_cadence",
    )
    op.drop_table("source_learned_cadence")
