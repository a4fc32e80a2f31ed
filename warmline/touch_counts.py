"""Confirmed touchpoints per staff member and day, stored for the weekly chart.

The Today page's chart counts confirmed touchpoints by week and staff
member.  Counting them joins every touchpoint of the weeks shown with its
activity, so `StaffDayTouchCount` stores the count per staff member and UTC
day.  A touchpoint counts for the staff member and day of its activity.

`ActivityTouchDay` contains each activity's own count, with the staff member
and day it was counted under.  When an activity moves to another day, or
loses its touchpoints, the old row gives the day to take the count from.
Every write that calls `last_touch.refresh_last_touches` also calls
`refresh_touch_counts` with the activities it wrote or deleted, in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from warmline.db import chunks, insert_for
from warmline.models import (
    Activity,
    Base,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
)

"""Ids per IN list, well under SQLite's limit on bound parameters."""

Key = tuple[int, int, dt.date]
"""(workspace id, staff member id, UTC day)."""


class StaffDayTouchCount(Base):
    """Confirmed touchpoints of one staff member's activities on one UTC day."""

    __tablename__ = "staff_day_touch_count"

    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspace.id"), primary_key=True
    )
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    staff_member_id: Mapped[int] = mapped_column(primary_key=True)
    touchpoints: Mapped[int]


class ActivityTouchDay(Base):
    """One activity's confirmed touchpoints, as counted in `StaffDayTouchCount`.

    An activity without confirmed touchpoints has no row.  The row has no
    foreign key to the activity, so that it outlives a deleted activity
    until `refresh_touch_counts` takes its count back.
    """

    __tablename__ = "activity_touch_day"

    activity_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    staff_member_id: Mapped[int]
    day: Mapped[dt.date] = mapped_column(Date)
    touchpoints: Mapped[int]


def refresh_touch_counts(session: Session, activity_ids: Iterable[int]) -> None:
    """Bring the day counts of `activity_ids` up to date with their touchpoints.

    Pass every activity whose confirmed touchpoints, staff member or time
    may have changed, deleted activities included.  On PostgreSQL the
    activities' rows are locked first, so two transactions counting one
    activity run one after the other.  A day's count changes by the
    difference each activity makes, so transactions counting other
    activities of that day do not overwrite each other.
    """
    ids = sorted(set(activity_ids))
    changes: dict[Key, int] = {}
    lock_activities(session, ids)
    for chunk in chunks(ids):
        old: dict[int, tuple[Key, int]] = {
            activity_id: ((workspace_id, staff_id, day), count)
            for activity_id, workspace_id, staff_id, day, count in session.execute(
                select(
                    ActivityTouchDay.activity_id,
                    ActivityTouchDay.workspace_id,
                    ActivityTouchDay.staff_member_id,
                    ActivityTouchDay.day,
                    ActivityTouchDay.touchpoints,
                ).where(ActivityTouchDay.activity_id.in_(chunk))
            )
        }
        new = _activity_counts(session, chunk)
        changed = [
            activity_id
            for activity_id in chunk
            if old.get(activity_id) != new.get(activity_id)
        ]
        if not changed:
            continue
        for activity_id in changed:
            if activity_id in old:
                key, count = old[activity_id]
                changes[key] = changes.get(key, 0) - count
            if activity_id in new:
                key, count = new[activity_id]
                changes[key] = changes.get(key, 0) + count
        session.execute(
            delete(ActivityTouchDay).where(ActivityTouchDay.activity_id.in_(changed))
        )
        rows = [
            {
                "activity_id": activity_id,
                "workspace_id": new[activity_id][0][0],
                "staff_member_id": new[activity_id][0][1],
                "day": new[activity_id][0][2],
                "touchpoints": new[activity_id][1],
            }
            for activity_id in changed
            if activity_id in new
        ]
        if rows:
            session.execute(insert(ActivityTouchDay), rows)
    _apply_changes(session, {key: n for key, n in changes.items() if n})


def counted_activities(session: Session, source_ids: Iterable[int]) -> set[int]:
    """Return the activities with a touchpoint of these sources.

    Call it before deleting the sources' touchpoints, to know which
    activities to pass to `refresh_touch_counts` afterwards.
    """
    found: set[int] = set()
    for chunk in chunks(sorted(set(source_ids))):
        found.update(
            session.scalars(
                select(Touchpoint.activity_id).where(
                    or_(
                        Touchpoint.practice_id.in_(chunk),
                        Touchpoint.person_id.in_(chunk),
                    )
                )
            )
        )
        found.update(
            session.scalars(
                select(Touchpoint.activity_id)
                .join(TouchpointPerson, TouchpointPerson.touchpoint_id == Touchpoint.id)
                .where(TouchpointPerson.person_id.in_(chunk))
            )
        )
    return found


def stored_counts(
    session: Session, workspace_id: int, first: dt.date, last: dt.date
) -> list[tuple[int, dt.date, int]]:
    """Return (staff member id, day, touchpoints) from `first` to `last` inclusive."""
    rows = session.execute(
        select(
            StaffDayTouchCount.staff_member_id,
            StaffDayTouchCount.day,
            StaffDayTouchCount.touchpoints,
        ).where(
            StaffDayTouchCount.workspace_id == workspace_id,
            StaffDayTouchCount.day >= first,
            StaffDayTouchCount.day <= last,
        )
    )
    return [(staff_id, day, count) for staff_id, day, count in rows]


def utc_date(moment: dt.datetime) -> dt.date:
    """Return the UTC calendar day of an aware `moment` (naive means UTC)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(dt.UTC).date()


def _activity_counts(
    session: Session, activity_ids: list[int]
) -> dict[int, tuple[Key, int]]:
    """Map each activity with confirmed touchpoints to (its key, their number)."""
    rows = session.execute(
        select(
            Activity.id,
            Activity.workspace_id,
            Activity.staff_member_id,
            Activity.occurred_at,
            func.count(Touchpoint.id),
        )
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .where(
            Activity.id.in_(activity_ids),
            Touchpoint.status == TouchpointStatus.CONFIRMED,
        )
        .group_by(
            Activity.id,
            Activity.workspace_id,
            Activity.staff_member_id,
            Activity.occurred_at,
        )
    )
    return {
        activity_id: ((workspace_id, staff_id, utc_date(occurred_at)), count)
        for activity_id, workspace_id, staff_id, occurred_at, count in rows
    }


def lock_activities(session: Session, activity_ids: Iterable[int]) -> None:
    """Lock the rows of `activity_ids` on PostgreSQL, in ascending id order.

    The write paths that change touchpoints lock the activities first (here,
    or by writing them), then their touchpoints, then the sources whose last
    touch they refresh (warmline.last_touch).  A review decision that
    updated a touchpoint before locking its activity could deadlock with a
    sync of that activity, which takes them in this order.  Locking rows
    that the transaction already holds again is harmless.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for chunk in chunks(sorted(set(activity_ids))):
        session.execute(
            select(Activity.id)
            .where(Activity.id.in_(chunk))
            .order_by(Activity.id)
            .with_for_update(key_share=True)
        ).all()


def _apply_changes(session: Session, changes: dict[Key, int]) -> None:
    """Add each difference to its day's count, and drop counts that reach zero."""
    if not changes:
        return
    table = StaffDayTouchCount.__table__
    keys = sorted(changes)
    for chunk in chunks(keys):
        statement = insert_for(session, StaffDayTouchCount)
        statement = statement.on_conflict_do_update(
            index_elements=["workspace_id", "day", "staff_member_id"],
            set_={"touchpoints": table.c.touchpoints + statement.excluded.touchpoints},
        )
        session.execute(
            statement,
            [
                {
                    "workspace_id": workspace_id,
                    "staff_member_id": staff_id,
                    "day": day,
                    "touchpoints": changes[(workspace_id, staff_id, day)],
                }
                for workspace_id, staff_id, day in chunk
            ],
        )
        session.execute(
            delete(StaffDayTouchCount).where(
                tuple_(
                    StaffDayTouchCount.workspace_id,
                    StaffDayTouchCount.staff_member_id,
                    StaffDayTouchCount.day,
                ).in_(chunk),
                StaffDayTouchCount.touchpoints <= 0,
            )
        )


def rebuild_workspace_touch_counts(session: Session, workspace_id: int) -> None:
    """Recompute every count of the workspace from its touchpoints.

    For data written around the write paths, such as a benchmark's COPY.
    """
    session.execute(
        delete(StaffDayTouchCount).where(
            StaffDayTouchCount.workspace_id == workspace_id
        )
    )
    session.execute(
        delete(ActivityTouchDay).where(ActivityTouchDay.workspace_id == workspace_id)
    )
    if session.get_bind().dialect.name == "postgresql":
        day: Any = cast(func.timezone("UTC", Activity.occurred_at), Date)
    else:
        day = func.date(Activity.occurred_at)
    per_activity = (
        select(
            Activity.id,
            Activity.workspace_id,
            Activity.staff_member_id,
            day,
            func.count(Touchpoint.id),
        )
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .where(
            Activity.workspace_id == workspace_id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
        )
        .group_by(
            Activity.id,
            Activity.workspace_id,
            Activity.staff_member_id,
            Activity.occurred_at,
        )
    )
    session.execute(
        insert(ActivityTouchDay).from_select(
            ["activity_id", "workspace_id", "staff_member_id", "day", "touchpoints"],
            per_activity,
        )
    )
    per_day = (
        select(
            ActivityTouchDay.workspace_id,
            ActivityTouchDay.day,
            ActivityTouchDay.staff_member_id,
            func.sum(ActivityTouchDay.touchpoints),
        )
        .where(ActivityTouchDay.workspace_id == workspace_id)
        .group_by(
            ActivityTouchDay.workspace_id,
            ActivityTouchDay.day,
            ActivityTouchDay.staff_member_id,
        )
    )
    session.execute(
        insert(StaffDayTouchCount).from_select(
            ["workspace_id", "day", "staff_member_id", "touchpoints"], per_day
        )
    )
