"""Add the audit log and the monthly touch counts that retention keeps

Revision ID: 0004_privacy
Revises: 0002
Create Date: 2026-12-04 17:03:03.881859
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_privacy"
down_revision = "0002"
branch_labels = None
depends_on = None

# The audit log is append-only.  On PostgreSQL a trigger rejects UPDATE,
# DELETE and TRUNCATE on it.  The one way round it is a deliberate
# clean-up: a transaction that runs SET LOCAL warmline.audit_log_maintenance
# = 'on' may delete rows (the test fixtures do, between tests); the
# application never sets it, and nothing may UPDATE a row.  SQLite gets no
# trigger: there the application is the only guard.
APPEND_ONLY_FUNCTION = """
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'TRUNCATE')
       AND current_setting('warmline.audit_log_maintenance', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""
APPEND_ONLY_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE "
    "ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE "
    "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "actor",
            sa.String(length=320),
            nullable=False,
            comment="staff member's email, or cli:<operating-system user>",
        ),
        sa.Column(
            "action",
            sa.String(length=64),
            nullable=False,
            comment="dotted name such as account.remove or setting.change",
        ),
        sa.Column(
            "target",
            sa.String(length=200),
            nullable=False,
            comment="kind:id of what was acted on, e.g. account:3",
        ),
        sa.Column(
            "details",
            sa.JSON(),
            nullable=False,
            comment="ids, counts and names; never personal content",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_audit_log_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_log_workspace_occurred",
            ["workspace_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "touchpoint_month_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column(
            "month", sa.Date(), nullable=False, comment="first day of the month, UTC"
        ),
        sa.Column(
            "kind", sa.String(length=16), nullable=False, comment="email or meeting"
        ),
        sa.Column(
            "direction",
            sa.String(length=16),
            nullable=False,
            comment="inbound, outbound, or '' for meetings",
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "last_touch_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="newest touch counted in this row",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["referral_source.id"],
            name=op.f("fk_touchpoint_month_count_source_id_referral_source"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_touchpoint_month_count_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touchpoint_month_count")),
        sa.UniqueConstraint(
            "source_id",
            "month",
            "kind",
            "direction",
            name=op.f("uq_touchpoint_month_count_source_id_month_kind_direction"),
        ),
    )
    with op.batch_alter_table("touchpoint_month_count", schema=None) as batch_op:
        batch_op.create_index(
            "ix_touchpoint_month_count_workspace_month",
            ["workspace_id", "month"],
            unique=False,
        )

    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY_FUNCTION)
        for statement in APPEND_ONLY_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_update_delete ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")

    with op.batch_alter_table("touchpoint_month_count", schema=None) as batch_op:
        batch_op.drop_index("ix_touchpoint_month_count_workspace_month")
    op.drop_table("touchpoint_month_count")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_workspace_occurred")
    op.drop_table("audit_log")
