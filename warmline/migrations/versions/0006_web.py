"""Add the review site's users, sessions, sign-in failures, uploads and decisions

Revision ID: 0006_web
Revises: 0002
Create Date: 2026-12-04 17:05:55.720582
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_web"
down_revision = "0002"
branch_labels = None
depends_on = None

TOUCHPOINT_STATUS = sa.Enum(
    "confirmed",
    "needs_review",
    "rejected",
    name="touchpoint_status",
    native_enum=False,
    length=32,
)


def upgrade() -> None:
    op.create_table(
        "web_login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False, comment="the address typed, lower case, known user or not"),
        sa.Column("client_address", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_login_failure")),
    )
    with op.batch_alter_table("web_login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_web_login_failure_client_failed", ["client_address", "failed_at"], unique=False)
        batch_op.create_index("ix_web_login_failure_email_failed", ["email", "failed_at"], unique=False)

    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False, comment="lower case; the sign-in name"),
        sa.Column("password_hash", sa.Text(), nullable=False, comment="argon2id PHC string"),
        sa.Column("role", sa.Enum("admin", "member", name="web_role", native_enum=False, length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_web_user_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_user")),
        sa.UniqueConstraint("email", name=op.f("uq_web_user_email")),
    )
    with op.batch_alter_table("web_user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_user_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, comment="SHA-256 hex of the cookie's random token"),
        sa.Column("csrf_token", sa.String(length=64), nullable=False, comment="sent back in every form and unsafe API request"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["web_user.id"], name=op.f("fk_web_session_user_id_web_user"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_web_session_token_hash")),
    )
    with op.batch_alter_table("web_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "web_source_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False, comment="the file as UTF-8 text"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=True, comment="created, updated and unchanged counts of the import"),
        sa.ForeignKeyConstraint(["user_id"], ["web_user.id"], name=op.f("fk_web_source_upload_user_id_web_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_web_source_upload_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_source_upload")),
    )
    with op.batch_alter_table("web_source_upload", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_web_source_upload_workspace_id"), ["workspace_id"], unique=False)

    op.create_table(
        "touchpoint_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("touchpoint_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("staff_member_id", sa.Integer(), nullable=True, comment="the user's staff member, if any"),
        sa.Column("action", sa.Enum("confirm", "reject", "reassign", name="decision_action", native_enum=False, length=32), nullable=False),
        sa.Column("previous_status", TOUCHPOINT_STATUS, nullable=True, comment="null when the decision created the touchpoint"),
        sa.Column("status", TOUCHPOINT_STATUS, nullable=False),
        sa.Column("reassigned_to_id", sa.Integer(), nullable=True, comment="for a reassignment to another practice: the new touchpoint"),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reassigned_to_id"], ["touchpoint.id"], name=op.f("fk_touchpoint_decision_reassigned_to_id_touchpoint"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["staff_member_id"], ["staff_member.id"], name=op.f("fk_touchpoint_decision_staff_member_id_staff_member")),
        sa.ForeignKeyConstraint(["touchpoint_id"], ["touchpoint.id"], name=op.f("fk_touchpoint_decision_touchpoint_id_touchpoint"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["web_user.id"], name=op.f("fk_touchpoint_decision_user_id_web_user"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspace.id"], name=op.f("fk_touchpoint_decision_workspace_id_workspace")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touchpoint_decision")),
    )
    with op.batch_alter_table("touchpoint_decision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_touchpoint_decision_touchpoint_id"), ["touchpoint_id"], unique=False)


def downgrade() -> None:
    op.drop_table("touchpoint_decision")
    op.drop_table("web_source_upload")
    op.drop_table("web_session")
    op.drop_table("web_user")
    op.drop_table("web_login_failure")
