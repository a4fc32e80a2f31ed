"""Add the Gmail daily quota tally

Revision ID: 0013_gmail_quota_usage
Revises: 0007_merge_feature_heads
Create Date: 2026-12-04 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_gmail_quota_usage"
down_revision = "0007_merge_feature_heads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gmail_quota_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "project_id",
            sa.String(length=200),
            nullable=False,
            comment="Google Cloud project of the account's OAuth client",
        ),
        sa.Column(
            "day",
            sa.Date(),
            nullable=False,
            comment="quota day, in google_quota_day_timezone",
        ),
        sa.Column(
            "account_id",
            sa.Integer(),
            nullable=True,
            comment="null once the account is removed; its units still count",
        ),
        sa.Column(
            "units",
            sa.Integer(),
            nullable=False,
            comment="units spent by every sync of the day",
        ),
        sa.Column(
            "first_sync_units",
            sa.Integer(),
            nullable=False,
            comment="the part of units spent listing the mailbox",
        ),
        sa.Column(
            "reserved",
            sa.Integer(),
            nullable=False,
            comment="estimated units of the first sync admitted this day; "
            "0 when none was admitted or once it finished",
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_gmail_quota_usage_account_id_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gmail_quota_usage")),
        sa.UniqueConstraint(
            "project_id",
            "day",
            "account_id",
            name=op.f("uq_gmail_quota_usage_project_id_day_account_id"),
        ),
    )


def downgrade() -> None:
    op.drop_table("gmail_quota_usage")
