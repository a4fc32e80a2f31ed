"""Add encrypted account credentials

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 16:16:56.649499
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "secret",
                sa.Text(),
                nullable=True,
                comment="Fernet token of the credential (password or token cache)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("secret")
