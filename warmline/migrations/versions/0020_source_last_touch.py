"""Store each source's newest confirmed touch in source_last_touch

The Today, Sources and source pages read a source's last touch from this
table instead of joining every touchpoint with its activity.  The upgrade
fills it from the existing touchpoints, split at the time of the upgrade
(see warmline.last_touch).

Revision ID: 0020_source_last_touch
Revises: 0018_merge_second_features
Create Date: 2026-12-04 19:45:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0020_source_last_touch"
down_revision = "0018_merge_second_features"
branch_labels = None
depends_on = None

# A practice has every confirmed touchpoint linked to it, and a provider or
# contact every confirmed touchpoint with a touchpoint_person row for them.
BACKFILL = """
INSERT INTO source_last_touch
    (source_id, workspace_id, last_touch_at, next_touch_at, refreshed_at)
SELECT source.id, source.workspace_id,
    max(CASE WHEN activity.occurred_at <= :now THEN activity.occurred_at END),
    min(CASE WHEN activity.occurred_at > :now THEN activity.occurred_at END),
    :now
FROM (
    SELECT touchpoint.practice_id AS source_id, touchpoint.activity_id
    FROM touchpoint
    WHERE touchpoint.status = 'confirmed'
    UNION ALL
    SELECT touchpoint_person.person_id, touchpoint.activity_id
    FROM touchpoint_person
    JOIN touchpoint ON touchpoint.id = touchpoint_person.touchpoint_id
    WHERE touchpoint.status = 'confirmed'
) AS touch
JOIN activity ON activity.id = touch.activity_id
JOIN referral_source AS source ON source.id = touch.source_id
GROUP BY source.id, source.workspace_id
"""


def upgrade() -> None:
    op.create_table(
        "source_last_touch",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column(
            "last_touch_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="newest confirmed touch at or before refreshed_at",
        ),
        sa.Column(
            "next_touch_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="earliest confirmed touch after refreshed_at, such as a meeting",
        ),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["referral_source.id"],
            name=op.f("fk_source_last_touch_source_id_referral_source"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_source_last_touch_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_source_last_touch")),
    )
    op.create_index(
        "ix_source_last_touch_workspace_next",
        "source_last_touch",
        ["workspace_id", "next_touch_at"],
    )
    now = dt.datetime.now(dt.UTC)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite stores UTC times naive (warmline.models.UTCDateTime).
        now = now.replace(tzinfo=None)
    op.execute(
        sa.text(BACKFILL).bindparams(
            sa.bindparam("now", value=now, type_=sa.DateTime(timezone=True))
        )
    )


def downgrade() -> None:
    op.drop_index("ix_source_last_touch_workspace_next", table_name="source_last_touch")
    op.drop_table("source_last_touch")
