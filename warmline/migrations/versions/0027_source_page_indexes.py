"""Index sources by practice and referrals by source and day, for the source page

Revision ID: 0027_source_page_indexes
Revises: 0026_change_counter
Create Date: 2026-12-04 22:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0027_source_page_indexes"
down_revision = "0026_change_counter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_referral_source_practice_id", "referral_source", ["practice_id"]
    )
    op.create_index(
        "ix_referral_source_id_received_on", "referral", ["source_id", "received_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_referral_source_id_received_on", table_name="referral")
    op.drop_index("ix_referral_source_practice_id", table_name="referral_source")
