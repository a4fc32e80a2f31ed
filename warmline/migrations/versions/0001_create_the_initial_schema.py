"""Create the initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-04 15:54:10.045853
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "workspace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace")),
        sa.UniqueConstraint("name", name=op.f("uq_workspace_name")),
    )
    op.create_table(
        "staff_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_staff_member_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_member")),
        sa.UniqueConstraint(
            "workspace_id", "email", name=op.f("uq_staff_member_workspace_id_email")
        ),
    )
    op.create_table(
        "workspace_setting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_setting_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspace_setting")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_workspace_setting_workspace_id_name")
        ),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column(
            "provider",
            sa.String(length=32),
            nullable=False,
            comment="mbox, eml, ics; later gmail, outlook, imap, caldav",
        ),
        sa.Column(
            "location",
            sa.String(length=1000),
            nullable=False,
            comment="absolute path of the file or folder, or a mailbox id",
        ),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column(
            "cursor",
            sa.Text(),
            nullable=True,
            comment="connector-defined; saved only after its batch commits",
        ),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "needs_reauth",
                "error",
                "disabled",
                name="account_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_account_staff_member_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_account_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint(
            "workspace_id",
            "provider",
            "location",
            name=op.f("uq_account_workspace_id_provider_location"),
        ),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "external_id",
            sa.String(length=998),
            nullable=False,
            comment="Message-ID without brackets, or the event UID",
        ),
        sa.Column(
            "occurrence_key",
            sa.String(length=32),
            nullable=False,
            comment="occurrence in ISO 8601 UTC, '' if single",
        ),
        sa.Column("occurrence", sa.DateTime(timezone=True), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=1000), nullable=True),
        sa.Column("thread_id", sa.String(length=998), nullable=True),
        sa.Column("in_reply_to", sa.String(length=998), nullable=True),
        sa.Column("references", sa.JSON(), nullable=False),
        sa.Column(
            "direction",
            sa.String(length=16),
            nullable=True,
            comment="inbound or outbound for mail, null for meetings",
        ),
        sa.Column(
            "staff_member_id",
            sa.Integer(),
            nullable=False,
            comment="the sender if a staff member sent it, else the first account's owner",
        ),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("defects", sa.JSON(), nullable=False),
        sa.Column(
            "dropped",
            sa.String(length=32),
            nullable=True,
            comment="why it yields no touchpoint: internal, bulk, ...",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_activity_staff_member_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_activity_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
        sa.UniqueConstraint(
            "workspace_id",
            "kind",
            "external_id",
            "occurrence_key",
            name=op.f("uq_activity_workspace_id_kind_external_id_occurrence_key"),
        ),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(
            "ix_activity_workspace_occurred",
            ["workspace_id", "occurred_at"],
            unique=False,
        )

    op.create_table(
        "referral_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "practice",
                "provider",
                "contact",
                name="source_kind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "practice_id", sa.Integer(), nullable=True, comment="null for a practice"
        ),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
        sa.Column("npi", sa.String(length=10), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("cadence_days", sa.Integer(), nullable=True),
        sa.Column(
            "import_key",
            sa.String(length=700),
            nullable=False,
            comment="normalized kind/practice/name that re-imports match on",
        ),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("phones", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["staff_member.id"],
            name=op.f("fk_referral_source_owner_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["referral_source.id"],
            name=op.f("fk_referral_source_practice_id_referral_source"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_referral_source_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_source")),
    )
    with op.batch_alter_table("referral_source", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referral_source_workspace_kind", ["workspace_id", "kind"], unique=False
        )

    op.create_table(
        "staff_address",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_staff_address_staff_member_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_staff_address_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_address")),
        sa.UniqueConstraint(
            "workspace_id",
            "address",
            name=op.f("uq_staff_address_workspace_id_address"),
        ),
    )
    op.create_table(
        "account_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("provider_key", sa.String(length=1000), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_account_activity_account_id_account"),
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_account_activity_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_activity")),
        sa.UniqueConstraint(
            "account_id",
            "provider_key",
            name=op.f("uq_account_activity_account_id_provider_key"),
        ),
    )
    with op.batch_alter_table("account_activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_account_activity_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "activity_participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("response", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_participant_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_participant")),
        sa.UniqueConstraint(
            "activity_id",
            "role",
            "address",
            name=op.f("uq_activity_participant_activity_id_role_address"),
        ),
    )
    with op.batch_alter_table("activity_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_participant_activity_id"),
            ["activity_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_activity_participant_address"), ["address"], unique=False
        )

    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "done",
                "dismissed",
                name="follow_up_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("calendar_event_id", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["referral_source.id"],
            name=op.f("fk_follow_up_source_id_referral_source"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_member.id"],
            name=op.f("fk_follow_up_staff_member_id_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_follow_up_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up")),
    )
    op.create_table(
        "quarantined_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("provider_key", sa.String(length=1000), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["account.id"],
            name=op.f("fk_quarantined_item_account_id_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_item")),
        sa.UniqueConstraint(
            "account_id",
            "provider_key",
            name=op.f("uq_quarantined_item_account_id_provider_key"),
        ),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column(
            "external_ref",
            sa.String(length=200),
            nullable=True,
            comment="an opaque referral id from the practice's system",
        ),
        sa.Column(
            "closed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="when the outcome was sent back to the source",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["referral_source.id"],
            name=op.f("fk_referral_source_id_referral_source"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_referral_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint(
            "workspace_id",
            "external_ref",
            name=op.f("uq_referral_workspace_id_external_ref"),
        ),
    )
    op.create_table(
        "touchpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("practice_id", sa.Integer(), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer(),
            nullable=True,
            comment="best-matched provider or contact",
        ),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "confirmed",
                "needs_review",
                "rejected",
                name="touchpoint_status",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "reasons",
            sa.JSON(),
            nullable=False,
            comment="[{signal, detail, score}] as the matcher gave them",
        ),
        sa.Column(
            "decided_by",
            sa.Integer(),
            nullable=True,
            comment="set when a person confirmed or rejected",
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_touchpoint_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["staff_member.id"],
            name=op.f("fk_touchpoint_decided_by_staff_member"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["referral_source.id"],
            name=op.f("fk_touchpoint_person_id_referral_source"),
        ),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["referral_source.id"],
            name=op.f("fk_touchpoint_practice_id_referral_source"),
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_touchpoint_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touchpoint")),
        sa.UniqueConstraint(
            "activity_id",
            "practice_id",
            name=op.f("uq_touchpoint_activity_id_practice_id"),
        ),
    )
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.create_index(
            "ix_touchpoint_practice_status", ["practice_id", "status"], unique=False
        )

    op.create_table(
        "touchpoint_person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("touchpoint_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column(
            "direct",
            sa.Boolean(),
            nullable=False,
            comment="false when counted through a contact who works for them",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["referral_source.id"],
            name=op.f("fk_touchpoint_person_person_id_referral_source"),
        ),
        sa.ForeignKeyConstraint(
            ["touchpoint_id"],
            ["touchpoint.id"],
            name=op.f("fk_touchpoint_person_touchpoint_id_touchpoint"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_touchpoint_person")),
        sa.UniqueConstraint(
            "touchpoint_id",
            "person_id",
            name=op.f("uq_touchpoint_person_touchpoint_id_person_id"),
        ),
    )
    with op.batch_alter_table("touchpoint_person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_touchpoint_person_person_id"), ["person_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("touchpoint_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_touchpoint_person_person_id"))

    op.drop_table("touchpoint_person")
    with op.batch_alter_table("touchpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_touchpoint_practice_status")

    op.drop_table("touchpoint")
    op.drop_table("referral")
    op.drop_table("quarantined_item")
    op.drop_table("follow_up")
    with op.batch_alter_table("activity_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_participant_address"))
        batch_op.drop_index(batch_op.f("ix_activity_participant_activity_id"))

    op.drop_table("activity_participant")
    with op.batch_alter_table("account_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_activity_activity_id"))

    op.drop_table("account_activity")
    op.drop_table("staff_address")
    with op.batch_alter_table("referral_source", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_source_workspace_kind")

    op.drop_table("referral_source")
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activity_workspace_occurred")

    op.drop_table("activity")
    op.drop_table("account")
    op.drop_table("workspace_setting")
    op.drop_table("staff_member")
    op.drop_table("workspace")
