"""Add the change counters that tell processes when a kept result is out of date

Revision ID: 0026_change_counter
Revises: 0025_merge_cold_and_counts
Create Date: 2026-12-04 22:10:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0026_change_counter"
down_revision = "0025_merge_cold_and_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "change_counter",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column(
            "database_id",
            sa.String(length=36),
            nullable=False,
            comment="random per database, so a process never mistakes one for another",
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_change_counter")),
    )
    op.bulk_insert(
        table,
        [{"name": "workspace_summaries", "value": 0, "database_id": str(uuid.uuid4())}],
    )


def downgrade() -> None:
    op.drop_table("change_counter")
