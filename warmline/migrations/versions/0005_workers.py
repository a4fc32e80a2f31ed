"""Add the worker lease table

Revision ID: 0005_workers
Revises: 0002
Create Date: 2026-12-04 17:40:12.318204
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_workers"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_lease",
        sa.Column(
            "key",
            sa.String(length=200),
            nullable=False,
            comment="what is guarded: sync:account:42",
        ),
        sa.Column(
            "holder",
            sa.String(length=200),
            nullable=True,
            comment="Celery task id of the holder; null once released",
        ),
        sa.Column(
            "token",
            sa.String(length=32),
            nullable=True,
            comment="random per acquisition; renew and release must match",
        ),
        sa.Column(
            "worker",
            sa.String(length=300),
            nullable=True,
            comment="host name and process id of the holder, for people",
        ),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="free to take after this unless renewed; database clock on PostgreSQL",
        ),
        sa.Column(
            "failures",
            sa.Integer(),
            nullable=False,
            comment="consecutive failed attempts, lost workers included; 0 after a success",
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_worker_lease")),
    )


def downgrade() -> None:
    op.drop_table("worker_lease")
