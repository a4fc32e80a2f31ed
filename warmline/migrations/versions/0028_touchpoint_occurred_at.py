"""Copy each touchpoint's activity time onto it, for a source's timeline

Revision ID: 0028_touchpoint_occurred_at
Revises: 0027_source_page_indexes
Create Date: 2026-12-04 23:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_touchpoint_occurred_at"
down_revision = "0027_source_page_indexes"
branch_labels = None
depends_on = None

COMMENT = (
    "its activity's time, copied so that a source's timeline is read in order "
    "from an index; warmline.store keeps it when the time moves"
)


def upgrade() -> None:
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "occurred_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment=COMMENT,
            )
        )
    op.execute(
        "UPDATE touchpoint SET occurred_at = "
        "(SELECT activity.occurred_at FROM activity "
        "WHERE activity.id = touchpoint.activity_id)"
    )
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.alter_column(
            "occurred_at",
            existing_type=sa.DateTime(timezone=True),
            nullable=False,
            existing_comment=COMMENT,
        )
        batch_op.create_index(
            "ix_touchpoint_practice_occurred", ["practice_id", "occurred_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_touchpoint_practice_occurred")
        batch_op.drop_column("occurred_at")
