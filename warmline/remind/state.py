"""Plain records for the `reminders` package, read from the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from reminders import (
    ClosedBy,
    DriftRule,
    Meeting,
    Reason,
    ReferralRecord,
    ReminderPolicy,
    ReminderState,
    SourceProfile,
    StoredFollowUp,
    Touch,
)
from warmline.models import (
    Activity,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.reminder_models import FollowUpBasis
from warmline.workspaces import workspace_settings


def reminder_policy(settings: Mapping[str, Any]) -> ReminderPolicy:
    """Build the policy from the workspace settings."""
    return ReminderPolicy(
        default_cadence_days=settings["default_cadence_days"],
        learned_min_touch_days=settings["learned_cadence_min_days"],
        loop_close_days=settings["loop_close_days"],
        drift=DriftRule(
            ratio=settings["drift_ratio"],
            min_expected=settings["drift_min_expected"],
        ),
    )


def source_profiles(session: Session, workspace: Workspace) -> dict[int, SourceProfile]:
    """Return every source of the workspace with its practice's owner and cadence."""
    return {row.id: profile_from_row(row) for row in profile_rows(session, workspace)}


def profile_rows(session: Session, workspace: Workspace) -> Sequence[Any]:
    """Read the columns of every source's profile, for `profile_from_row`."""
    practice = aliased(ReferralSource)
    # Columns rather than entities: building 10,000 ORM objects with their
    # JSON columns costs more than the query itself.
    return session.execute(
        select(
            ReferralSource.id,
            ReferralSource.kind,
            ReferralSource.name,
            ReferralSource.practice_id,
            ReferralSource.owner_id,
            ReferralSource.cadence_days,
            practice.name.label("practice_name"),
            practice.owner_id.label("practice_owner_id"),
            practice.cadence_days.label("practice_cadence_days"),
        )
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .where(ReferralSource.workspace_id == workspace.id)
        .order_by(ReferralSource.id)
    ).all()


def profile_from_row(row: Any) -> SourceProfile:
    return SourceProfile(
        source_id=row.id,
        kind=row.kind.value,
        name=row.name,
        practice_id=row.practice_id,
        practice=row.practice_name,
        owner_id=row.owner_id,
        practice_owner_id=row.practice_owner_id,
        cadence_days=row.cadence_days,
        practice_cadence_days=row.practice_cadence_days,
    )


def confirmed_touches(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, list[Touch]]:
    """Map each source id to its confirmed touches up to `as_of`, oldest first.

    A practice has every touchpoint linked to it; a person has those that
    count for them, including touches of office staff who work for them.
    """
    columns = (
        Activity.occurred_at,
        Activity.staff_member_id,
        Activity.kind,
        Activity.direction,
        Activity.id,
    )
    confirmed = (
        Touchpoint.workspace_id == workspace.id,
        Touchpoint.status == TouchpointStatus.CONFIRMED,
        Activity.occurred_at <= as_of,
    )
    by_practice = session.execute(
        select(Touchpoint.practice_id, *columns)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
    )
    by_person = session.execute(
        select(TouchpointPerson.person_id, *columns)
        .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
    )
    touches: dict[int, list[Touch]] = defaultdict(list)
    for row in [*by_practice, *by_person]:
        touches[row[0]].append(Touch(*row))
    for found in touches.values():
        found.sort(key=lambda touch: touch.occurred_at)
    return dict(touches)


def held_meetings(
    session: Session, workspace: Workspace, since: dt.datetime, as_of: dt.datetime
) -> list[Meeting]:
    """Return confirmed one-off, timed meetings held between `since` and `as_of`.

    Occurrences of recurring meetings and all-day events are left out: a
    weekly huddle or an away day is no reason for a thank-you.
    """
    rows = session.execute(
        select(Touchpoint.practice_id, Touchpoint.person_id, Activity)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(
            Touchpoint.workspace_id == workspace.id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
            Activity.kind == "meeting",
            Activity.occurrence_key == "",
            Activity.occurred_at > since,
            Activity.occurred_at <= as_of,
        )
    )
    return [
        Meeting(
            activity_id=activity.id,
            source_id=person_id or practice_id,
            practice_id=practice_id,
            occurred_at=activity.occurred_at,
            staff_id=activity.staff_member_id,
        )
        for practice_id, person_id, activity in rows
        if "all_day" not in activity.flags
    ]


def referral_records(session: Session, workspace: Workspace) -> list[ReferralRecord]:
    """Return every referral of the workspace with its source's practice."""
    rows = session.execute(
        select(
            Referral.id,
            Referral.source_id,
            ReferralSource.practice_id,
            Referral.received_on,
            Referral.count,
            Referral.closed_at,
        )
        .join(ReferralSource, ReferralSource.id == Referral.source_id)
        .where(Referral.workspace_id == workspace.id)
        .order_by(Referral.received_on, Referral.id)
    )
    return [
        ReferralRecord(
            referral_id=referral_id,
            source_id=source_id,
            practice_id=practice_id or source_id,
            received_on=received_on,
            count=count,
            closed_at=closed_at,
        )
        for referral_id, source_id, practice_id, received_on, count, closed_at in rows
    ]


def stored_follow_ups(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[StoredFollowUp]:
    """Return the open follow-ups and those closed in the last year."""
    rows = session.execute(
        select(FollowUp, FollowUpBasis)
        .outerjoin(FollowUpBasis, FollowUpBasis.follow_up_id == FollowUp.id)
        .where(
            FollowUp.workspace_id == workspace.id,
            or_(
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.closed_at > as_of - dt.timedelta(days=366),
            ),
        )
    )
    return [
        StoredFollowUp(
            follow_up_id=follow_up.id,
            source_id=follow_up.source_id,
            reason=Reason(follow_up.reason),
            is_open=follow_up.status is FollowUpStatus.OPEN,
            basis_at=basis.basis_at if basis else None,
            closed_at=follow_up.closed_at,
            closed_by=ClosedBy(basis.closed_by) if basis and basis.closed_by else None,
        )
        for follow_up, basis in rows
        if follow_up.reason in Reason.__members__.values()
    ]


def staff_zones(session: Session, workspace: Workspace) -> dict[int, str]:
    rows = session.execute(
        select(StaffMember.id, StaffMember.timezone).where(
            StaffMember.workspace_id == workspace.id
        )
    )
    return {staff_id: zone for staff_id, zone in rows}


def staff_emails(session: Session, workspace: Workspace) -> dict[int, str]:
    """Map each staff member's id to their address."""
    rows = session.execute(
        select(StaffMember.id, StaffMember.email).where(
            StaffMember.workspace_id == workspace.id
        )
    )
    return {staff_id: email for staff_id, email in rows}


def load_state(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> ReminderState:
    settings = workspace_settings(session, workspace)
    return ReminderState(
        as_of=as_of,
        policy=reminder_policy(settings),
        profiles=source_profiles(session, workspace),
        touches=confirmed_touches(session, workspace, as_of),
        referrals=referral_records(session, workspace),
    )
