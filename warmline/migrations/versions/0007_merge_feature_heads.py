"""Merge the reminders, privacy, workers and web migrations

Revision ID: 0007_merge_feature_heads
Revises: 0003_reminders, 0004_privacy, 0005_workers, 0006_web
Create Date: 2026-12-04 18:10:00
"""

from __future__ import annotations

revision = "0007_merge_feature_heads"
down_revision = ("0003_reminders", "0004_privacy", "0005_workers", "0006_web")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
