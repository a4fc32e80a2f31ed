"""Add each staff member's own working hours

Revision ID: 0022_staff_working_hours
Revises: 0021_source_aliases
Create Date: 2026-12-04 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_staff_working_hours"
down_revision = "0021_source_aliases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "working_hours",
                sa.String(length=200),
                nullable=True,
                comment="their own working hours; null: the workspace's",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_column("working_hours")
