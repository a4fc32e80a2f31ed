"""Store confirmed touchpoints per staff member and day for the weekly chart

The Today page's chart of touchpoints per week reads staff_day_touch_count
instead of joining every touchpoint of the weeks shown with its activity;
activity_touch_day holds each activity's part of those counts (see
warmline.touch_counts).  The upgrade fills both from the existing
touchpoints.

Revision ID: 0024_staff_day_touch_counts
Revises: 0022_staff_working_hours
Create Date: 2026-12-04 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_staff_day_touch_counts"
down_revision = "0022_staff_working_hours"
branch_labels = None
depends_on = None

# {day} is the UTC calendar day of activity.occurred_at in the dialect's SQL.
BACKFILL_ACTIVITIES = """
INSERT INTO activity_touch_day
    (activity_id, workspace_id, staff_member_id, day, touchpoints)
SELECT activity.id, activity.workspace_id, activity.staff_member_id, {day},
    count(*)
FROM activity
JOIN touchpoint ON touchpoint.activity_id = activity.id
WHERE touchpoint.status = 'confirmed'
GROUP BY activity.id, activity.workspace_id, activity.staff_member_id,
    activity.occurred_at
"""

BACKFILL_DAYS = """
INSERT INTO staff_day_touch_count (workspace_id, day, staff_member_id, touchpoints)
SELECT workspace_id, day, staff_member_id, sum(touchpoints)
FROM activity_touch_day
GROUP BY workspace_id, day, staff_member_id
"""

UTC_DAY = {
    "postgresql": "CAST(timezone('UTC', activity.occurred_at) AS date)",
    # SQLite stores UTC times as naive text (warmline.models.UTCDateTime).
    "sqlite": "date(activity.occurred_at)",
}


def backfill_statements(dialect: str) -> list[str]:
    """Return the backfill's SQL for `dialect`, in the order to run it."""
    return [BACKFILL_ACTIVITIES.format(day=UTC_DAY[dialect]), BACKFILL_DAYS]


def upgrade() -> None:
    op.create_table(
        "activity_touch_day",
        sa.Column("activity_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("touchpoints", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_activity_touch_day_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("activity_id", name=op.f("pk_activity_touch_day")),
    )
    op.create_table(
        "staff_day_touch_count",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("touchpoints", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_staff_day_touch_count_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "day",
            "staff_member_id",
            name=op.f("pk_staff_day_touch_count"),
        ),
    )
    for statement in backfill_statements(op.get_bind().dialect.name):
        op.execute(sa.text(statement))


def downgrade() -> None:
    op.drop_table("staff_day_touch_count")
    op.drop_table("activity_touch_day")
