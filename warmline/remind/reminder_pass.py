"""The reminder pass: close what touchpoints resolved, create the follow-ups due.

Running it twice with the same data changes nothing the second time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

import structlog
from sqlalchemy.orm import Session

from reminders import (
    Closure,
    NewFollowUp,
    PlanInput,
    Reason,
    ReminderState,
    SourceHealth,
    find_closings,
    plan_follow_ups,
)
from warmline import last_touch
from warmline.models import (
    FollowUp,
    FollowUpStatus,
    Referral,
    Workspace,
)
from warmline.remind.cold import ranked_cold
from warmline.remind.coordination import MeetingClash, meeting_clashes
from warmline.remind.followups import FollowUpView, follow_up_basis, follow_up_views
from warmline.remind.state import (
    held_meetings,
    load_state,
    referral_records,
    staff_emails,
    staff_zones,
    stored_follow_ups,
)
from warmline.reminder_models import FollowUpBasis

log = structlog.get_logger(__name__)


@dataclasses.dataclass
class RemindReport:
    """Changes made by one reminder pass, with the state it judged."""

    state: ReminderState
    referrals_closed: list[tuple[int, str, dt.datetime]]
    created: list[FollowUpView]
    closed: list[FollowUpView]
    unassigned: list[tuple[str, Reason]]
    cold: list[SourceHealth]
    staff_emails: dict[int, str]
    clashes: list[MeetingClash]

    @property
    def drifting(self) -> list[SourceHealth]:
        return [health for health in self.state.healths if health.drifting]


def run_reminders(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> RemindReport:
    """Close resolved referrals and follow-ups, then create the follow-ups due.

    Running it twice with the same data changes nothing the second time.
    It also brings up to date the stored last touches of sources whose
    meeting has been held since (warmline.last_touch).
    """
    last_touch.refresh_due_last_touches(session, workspace.id)
    state = load_state(session, workspace, as_of)
    closings = find_closings(state.referrals, state.touches, as_of)
    referrals_closed = _close_referrals(session, state, closings)
    if closings:
        state = dataclasses.replace(
            state, referrals=referral_records(session, workspace)
        )
    plan = plan_follow_ups(
        PlanInput(
            as_of=as_of,
            healths=state.healths,
            profiles=state.profiles,
            touches=state.touches,
            loops=state.loops,
            meetings=held_meetings(
                session, workspace, as_of - dt.timedelta(days=7), as_of
            ),
            stored=stored_follow_ups(session, workspace, as_of),
            staff_zones=staff_zones(session, workspace),
        )
    )
    closed_ids = [_apply_closure(session, closure) for closure in plan.close]
    created_ids = [_create(session, workspace, new) for new in plan.create]
    session.flush()
    report = RemindReport(
        state=state,
        referrals_closed=referrals_closed,
        created=follow_up_views(session, workspace, ids=created_ids),
        closed=follow_up_views(session, workspace, ids=closed_ids),
        unassigned=[
            (state.profiles[source_id].name, reason)
            for source_id, reason in plan.unassigned
        ],
        cold=ranked_cold(session, workspace, state),
        staff_emails=staff_emails(session, workspace),
        clashes=meeting_clashes(session, workspace, as_of),
    )
    log.info(
        "reminder pass finished",
        workspace=workspace.name,
        as_of=as_of.isoformat(),
        referrals_closed=len(referrals_closed),
        created=len(created_ids),
        closed=len(closed_ids),
        unassigned=len(plan.unassigned),
    )
    return report


def _close_referrals(
    session: Session, state: ReminderState, closings: Mapping[int, dt.datetime]
) -> list[tuple[int, str, dt.datetime]]:
    closed = []
    for referral_id, closed_at in sorted(closings.items()):
        referral = session.get_one(Referral, referral_id)
        referral.closed_at = closed_at
        name = state.profiles[referral.source_id].name
        closed.append((referral_id, name, closed_at))
    session.flush()
    return closed


def _apply_closure(session: Session, closure: Closure) -> int:
    follow_up = session.get_one(FollowUp, closure.follow_up_id)
    follow_up.status = FollowUpStatus.DONE if closure.done else FollowUpStatus.DISMISSED
    follow_up.closed_at = closure.closed_at
    follow_up_basis(session, follow_up).closed_by = closure.closed_by.value
    return follow_up.id


def _create(session: Session, workspace: Workspace, new: NewFollowUp) -> int:
    follow_up = FollowUp(
        workspace_id=workspace.id,
        source_id=new.source_id,
        staff_member_id=new.staff_id,
        reason=new.reason.value,
        due_on=new.due_on,
        status=FollowUpStatus.OPEN,
    )
    session.add(follow_up)
    session.flush()
    session.add(
        FollowUpBasis(
            follow_up_id=follow_up.id,
            basis_at=new.basis_at,
            activity_id=new.activity_id,
            note=new.note,
        )
    )
    # Placement on the assignee's calendar runs after the pass commits
    # (warmline.placement, `warmline followups place` or its Celery task).
    return follow_up.id
