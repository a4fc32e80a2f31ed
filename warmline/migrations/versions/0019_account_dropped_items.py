"""Add the items each account's sync dropped before storage

Revision ID: 0019_account_dropped_items
Revises: 0018_merge_second_features
Create Date: 2026-12-04 19:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_account_dropped_items"
down_revision = "0018_merge_second_features"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dropped_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column(
            "provider_key_sha256",
            sa.String(length=64),
            nullable=False,
            comment="SHA-256 of the provider key in hex; the key itself is not kept",
        ),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("dropped_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_dropped_item_account_id_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropped_item")),
        sa.UniqueConstraint(
            "account_id",
            "provider_key_sha256",
            name=op.f("uq_dropped_item_account_id_provider_key_sha256"),
        ),
    )


def downgrade() -> None:
    op.drop_table("dropped_item")
