"""Add source aliases and what review decisions taught; merge the 0019 and 0020 heads

Revision ID: 0021_source_aliases
Revises: 0019_account_dropped_items, 0020_source_last_touch
Create Date: 2026-12-04 19:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_source_aliases"
down_revision = ("0019_account_dropped_items", "0020_source_last_touch")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("referral_source", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "aliases",
                sa.JSON(),
                nullable=False,
                server_default=sa.text("'[]'"),
                comment="other names, from the sources CSV",
            )
        )
        batch_op.add_column(
            sa.Column(
                "learned",
                sa.JSON(),
                nullable=False,
                server_default=sa.text("'{}'"),
                comment="{emails, domains, aliases} taught by review decisions; "
                "a CSV re-import leaves them",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_source", schema=None) as batch_op:
        batch_op.drop_column("learned")
        batch_op.drop_column("aliases")
