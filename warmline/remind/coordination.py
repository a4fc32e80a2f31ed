"""Team coordination: two staff members meeting the same practice close together.

A practice visited by two colleagues within `coordination_days` of each
other gets a warning, so that they can share the visit or space it out.
Meetings linked to the practice or anyone at it count, whether the link is
confirmed or waits for review, because a planned meeting is often still in
review.  One staff member's meeting seen from two accounts is one activity,
so it never pairs with itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.models import (
    Activity,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointStatus,
    Workspace,
)
from warmline.workspaces import workspace_settings

LOOKAHEAD_DAYS = 60
"""How far ahead meetings are checked; calendar syncs read about that far."""


@dataclasses.dataclass(frozen=True)
class PlannedMeeting:
    """A meeting of one staff member with a practice or someone at it."""

    activity_id: int
    practice_id: int
    practice: str
    staff_id: int
    staff_name: str
    starts_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class MeetingClash:
    """Two staff members' meetings at one practice, `first` the earlier."""

    first: PlannedMeeting
    second: PlannedMeeting

    @property
    def days_apart(self) -> int:
        return (self.second.starts_at - self.first.starts_at).days

    def involves(self, staff_id: int) -> bool:
        return staff_id in (self.first.staff_id, self.second.staff_id)


def find_clashes(
    meetings: Iterable[PlannedMeeting], as_of: dt.datetime, days: int
) -> list[MeetingClash]:
    """Pair meetings at the same practice by two staff members `days` apart or less.

    Only pairs whose later meeting is still to come at `as_of` are kept, and
    for each practice and pair of staff members only the earliest such pair.
    """
    by_practice: dict[int, list[PlannedMeeting]] = defaultdict(list)
    for meeting in meetings:
        by_practice[meeting.practice_id].append(meeting)
    clashes: dict[tuple[int, int, int], MeetingClash] = {}
    window = dt.timedelta(days=days)
    for found in by_practice.values():
        found.sort(key=lambda meeting: (meeting.starts_at, meeting.activity_id))
        for first, second in itertools.combinations(found, 2):
            if first.staff_id == second.staff_id or second.starts_at < as_of:
                continue
            if second.starts_at - first.starts_at > window:
                continue
            staff_pair = sorted((first.staff_id, second.staff_id))
            key = (first.practice_id, staff_pair[0], staff_pair[1])
            clashes.setdefault(key, MeetingClash(first, second))
    return sorted(
        clashes.values(),
        key=lambda clash: (clash.second.starts_at, clash.first.practice),
    )


def planned_meetings(
    session: Session, workspace: Workspace, since: dt.datetime, until: dt.datetime
) -> list[PlannedMeeting]:
    """Return meetings linked to a practice that start between `since` and `until`."""
    rows = session.execute(
        select(
            Activity.id,
            Touchpoint.practice_id,
            ReferralSource.name,
            StaffMember.id,
            StaffMember.name,
            Activity.occurred_at,
        )
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .join(ReferralSource, ReferralSource.id == Touchpoint.practice_id)
        .join(StaffMember, StaffMember.id == Activity.staff_member_id)
        .where(
            Touchpoint.workspace_id == workspace.id,
            Touchpoint.status != TouchpointStatus.REJECTED,
            Activity.kind == "meeting",
            Activity.occurred_at >= since,
            Activity.occurred_at <= until,
        )
        .distinct()
    )
    return [PlannedMeeting(*row) for row in rows]


def meeting_clashes(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[MeetingClash]:
    """Return the clashes to warn about as of `as_of` (see `find_clashes`)."""
    days = workspace_settings(session, workspace)["coordination_days"]
    since = as_of - dt.timedelta(days=days)
    until = as_of + dt.timedelta(days=LOOKAHEAD_DAYS)
    meetings = planned_meetings(session, workspace, since, until)
    return find_clashes(meetings, as_of, days)
