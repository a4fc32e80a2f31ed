"""The Today page's figures: touchpoints per week by staff member."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Date, cast, func, select
from sqlalchemy.orm import QueryableAttribute, Session

from warmline import touch_counts
from warmline.models import Activity, StaffMember, Touchpoint, TouchpointStatus
from web.charts import BarChart, Series, stacked_bars

WEEKS_SHOWN = 12


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


def utc_day(
    session: Session, moment: QueryableAttribute[dt.datetime]
) -> ColumnElement[Any]:
    """Return the UTC calendar day of `moment` as SQL, for grouping by day.

    PostgreSQL's date() would use the connection's TimeZone, so the value is
    converted to UTC first; SQLite stores naive UTC text, and its date()
    returns the day as 'YYYY-MM-DD'.
    """
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("UTC", moment), Date)
    return func.date(moment)


def weekly_touchpoints(
    session: Session, workspace_id: int, as_of: dt.datetime, weeks: int = WEEKS_SHOWN
) -> WeeklyChart:
    """Count confirmed touchpoints by week (Monday to Sunday, UTC) and staff member.

    A touchpoint counts for the staff member of its activity, and meetings
    still in the future are not counted yet.
    NOTE: weeks are cut in UTC, so a Sunday-evening email in a US time zone
    counts in the next week.
    """
    today = touch_counts.utc_date(as_of)
    first = week_start(today) - dt.timedelta(weeks=weeks - 1)
    starts = [first + dt.timedelta(weeks=index) for index in range(weeks)]
    counts: dict[int, list[int]] = {}

    def add(staff_id: int, touched_on: dt.date | str, count: int) -> None:
        if isinstance(touched_on, str):
            touched_on = dt.date.fromisoformat(touched_on)
        index = (week_start(touched_on) - first).days // 7
        counts.setdefault(staff_id, [0] * weeks)[index] += count

    # Whole days come from the stored counts; the day of `as_of` is counted
    # from its touchpoints, because its meetings still ahead do not count yet.
    for staff_id, touched_on, count in touch_counts.stored_counts(
        session, workspace_id, first, today - dt.timedelta(days=1)
    ):
        add(staff_id, touched_on, count)
    day = utc_day(session, Activity.occurred_at)
    rows = session.execute(
        select(Activity.staff_member_id, day, func.count(Touchpoint.id))
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .where(
            Touchpoint.workspace_id == workspace_id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
            # Redundant with the touchpoint's workspace, but it lets the
            # query use the index on activity (workspace_id, occurred_at).
            Activity.workspace_id == workspace_id,
            Activity.occurred_at >= dt.datetime.combine(today, dt.time.min, dt.UTC),
            Activity.occurred_at <= as_of,
        )
        .group_by(Activity.staff_member_id, day)
    )
    for staff_id, touched_on, count in rows:
        add(staff_id, touched_on, count)
    names = {
        staff_id: (name, email)
        for staff_id, name, email in session.execute(
            select(StaffMember.id, StaffMember.name, StaffMember.email).where(
                StaffMember.id.in_(list(counts))
            )
        )
    }
    # An activity's staff member cannot be deleted, so every id has a name;
    # an id without one is skipped rather than failing the page.
    ordered = sorted(
        (staff_id for staff_id in counts if staff_id in names),
        key=lambda staff_id: names[staff_id][0].casefold(),
    )
    return WeeklyChart(
        week_starts=starts,
        rows=[
            StaffWeeks(staff_id, *names[staff_id], counts[staff_id])
            for staff_id in ordered
        ],
    )


def weekly_bar_chart(chart: WeeklyChart) -> BarChart:
    """Draw `chart` as bars stacked by staff member, one bar per week."""
    return stacked_bars(
        "weekly-chart",
        "Touchpoints per week by staff member",
        f"Confirmed touchpoints in each of the last {len(chart.week_starts)} "
        "weeks (Monday to Sunday, UTC), stacked by staff member, the current "
        "week last.",
        [f"Week of {start.isoformat()}" for start in chart.week_starts],
        [Series(row.name, row.counts) for row in chart.rows],
        [f"{start:%b} {start.day}" for start in chart.week_starts],
    )
