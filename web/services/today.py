"""The Today page's figures: touchpoints per week by staff member."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import Activity, StaffMember, Touchpoint, TouchpointStatus


@dataclasses.dataclass(frozen=True)
class StaffWeeks:
    staff_id: int
    name: str
    email: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclasses.dataclass(frozen=True)
class WeeklyChart:
    """Confirmed touchpoints per staff member in each of the last weeks."""

    week_starts: list[dt.date]
    rows: list[StaffWeeks]

    @property
    def max_count(self) -> int:
        return max((max(row.counts) for row in self.rows), default=0)


def week_start(day: dt.date) -> dt.date:
    """Return the Monday of the ISO week that contains `day`."""
    return day - dt.timedelta(days=day.weekday())


def weekly_touchpoints(
    session: Session, workspace_id: int, as_of: dt.datetime, weeks: int = 8
) -> WeeklyChart:
    """Count confirmed touchpoints by week (Monday to Sunday, UTC) and staff member.

    A touchpoint counts for the staff member of its activity, and meetings
    still in the future are not counted yet.
    NOTE: weeks are cut in UTC, so a Sunday-evening email in a US time zone
    counts in the next week.
    """
    first = week_start(as_of.date()) - dt.timedelta(weeks=weeks - 1)
    starts = [first + dt.timedelta(weeks=index) for index in range(weeks)]
    rows = session.execute(
        select(
            StaffMember.id, StaffMember.name, StaffMember.email, Activity.occurred_at
        )
        .join(Activity, Activity.staff_member_id == StaffMember.id)
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .where(
            Touchpoint.workspace_id == workspace_id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
            Activity.occurred_at >= dt.datetime.combine(first, dt.time.min, dt.UTC),
            Activity.occurred_at <= as_of,
        )
    )
    counts: dict[int, list[int]] = {}
    names: dict[int, tuple[str, str]] = {}
    for staff_id, name, email, occurred_at in rows:
        index = (week_start(occurred_at.date()) - first).days // 7
        counts.setdefault(staff_id, [0] * weeks)[index] += 1
        names[staff_id] = (name, email)
    ordered = sorted(counts, key=lambda staff_id: names[staff_id][0].casefold())
    return WeeklyChart(
        week_starts=starts,
        rows=[
            StaffWeeks(staff_id, *names[staff_id], counts[staff_id])
            for staff_id in ordered
        ],
    )
