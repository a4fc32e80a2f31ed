"""Merge the cold-ranking inputs and the staff day touch counts

Revision ID: 0025_merge_cold_and_counts
Revises: 0023_cold_ranking_inputs, 0024_staff_day_touch_counts
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

revision = "0025_merge_cold_and_counts"
down_revision = ("0023_cold_ranking_inputs", "0024_staff_day_touch_counts")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
