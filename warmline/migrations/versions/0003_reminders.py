"""Add follow-up details, digest sends and workspace secrets

Revision ID: 0003_reminders
Revises: 0002
Create Date: 2026-12-04 16:58:24.671863
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_reminders"
down_revision = "0002"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
WITHOUT_ID = sa.text("external_ref IS NULL")


def upgrade() -> None:
    op.create_table(
        "workspace_secret",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column(
            "token", sa.Text(), nullable=False, comment="Fernet token of the value"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_secret_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_secret")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_workspace_secret_workspace_id_name")
        ),
    )
    op.create_table(
        "digest_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column(
            "local_date",
            sa.Date(),
            nullable=False,
            comment="the date in the staff member's time zone",
        ),
        sa.Column(
            "status",
            sa.String(length=16),
            nullable=False,
            comment="sending until the server accepted it, then sent",
        ),
        sa.Column("message_id", sa.String(length=300), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_digest_send_staff_member_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_digest_send_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_send")),
        sa.UniqueConstraint(
            "workspace_id",
            "staff_member_id",
            "local_date",
            name=op.f("uq_digest_send_workspace_id_staff_member_id_local_date"),
        ),
    )
    op.create_table(
        "follow_up_basis",
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column(
            "basis_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="cold: last touch when created; close_loop: earliest open referral; thank_you: the meeting's start",
        ),
        sa.Column(
            "activity_id",
            sa.Integer(),
            nullable=True,
            comment="the meeting a thank-you is for",
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column(
            "closed_by",
            sa.String(length=16),
            nullable=True,
            comment="touchpoint, staff or resolved",
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_follow_up_basis_activity_id_activity"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_up.id"],
            name=op.f("fk_follow_up_basis_follow_up_id_follow_up"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("follow_up_id", name=op.f("pk_follow_up_basis")),
    )
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.create_index(
            "uq_follow_up_open_source_reason",
            ["workspace_id", "source_id", "reason"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(
            "uq_referral_source_day_without_ref",
            ["workspace_id", "source_id", "received_on"],
            unique=True,
            sqlite_where=WITHOUT_ID,
            postgresql_where=WITHOUT_ID,
        )


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("uq_referral_source_day_without_ref")
    with op.batch_alter_table("follow_up", schema=None) as batch_op:
        batch_op.drop_index("uq_follow_up_open_source_reason")
    op.drop_table("follow_up_basis")
    op.drop_table("digest_send")
    op.drop_table("workspace_secret")
