"""Merge the review, push, feed, quota, placement and page-index migrations

Revision ID: 0018_merge_second_features
Revises: 0008_review_learning, 0010_push_notifications,
    0012_staff_follow_up_feed, 0013_gmail_quota_usage,
    0014_follow_up_placement, 0017_web_page_indexes
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

revision = "0018_merge_second_features"
down_revision = (
    "0008_review_learning",
    "0010_push_notifications",
    "0012_staff_follow_up_feed",
    "0013_gmail_quota_usage",
    "0014_follow_up_placement",
    "0017_web_page_indexes",
)
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
