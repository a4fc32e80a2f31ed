"""Record whether an uploaded CSV file holds sources or referrals

Revision ID: 0029_upload_kind
Revises: 0028_touchpoint_occurred_at
Create Date: 2026-12-05 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029_upload_kind"
down_revision = "0028_touchpoint_occurred_at"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Every earlier upload was a sources file, the only kind the site took.
    with op.batch_alter_table("web_source_upload") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "sources",
                    "referrals",
                    name="upload_kind",
                    native_enum=False,
                    length=32,
                ),
                server_default="sources",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("web_source_upload") as batch:
        batch.drop_column("kind")
