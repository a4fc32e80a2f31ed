"""Add an index on touchpoint (workspace_id, status) for the review site

The review count in every page's navigation and the review queue filter
touchpoints on these two columns; without the index PostgreSQL scans every
touchpoint of the database.

Revision ID: 0017_web_page_indexes
Revises: 0007_merge_feature_heads
Create Date: 2026-12-04 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0017_web_page_indexes"
down_revision = "0007_merge_feature_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_touchpoint_workspace_status",
        "touchpoint",
        ["workspace_id", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_touchpoint_workspace_status", table_name="touchpoint")
