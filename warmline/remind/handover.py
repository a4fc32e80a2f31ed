"""Handing a leaving staff member's relationships to a colleague.

The sources they own and their open follow-ups move to the colleague.
Their accounts, activities and closed follow-ups stay with them, because
those record what happened.  A follow-up already placed on the leaver's
calendar is moved by the placement code, which follows the assignee.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline import audit
from warmline.models import (
    FollowUp,
    FollowUpStatus,
    ReferralSource,
    StaffMember,
    Workspace,
)
from warmline.remind.errors import ReminderError

HANDOVER_AUDIT_ACTION = "staff.handover"


@dataclasses.dataclass(frozen=True)
class Handover:
    """The two staff members of one handover and the counts it moved."""

    from_email: str
    to_email: str
    sources: int
    follow_ups: int


def hand_over(
    session: Session,
    workspace: Workspace,
    leaver: StaffMember,
    successor: StaffMember,
    actor: str,
) -> Handover:
    """Give `leaver`'s sources and open follow-ups to `successor`; audit it."""
    if leaver.id == successor.id:
        raise ReminderError(
            f"{leaver.email} cannot hand over to themselves; name a colleague"
        )
    sources = session.scalars(
        select(ReferralSource).where(
            ReferralSource.workspace_id == workspace.id,
            ReferralSource.owner_id == leaver.id,
        )
    ).all()
    for source in sources:
        source.owner_id = successor.id
    follow_ups = session.scalars(
        select(FollowUp).where(
            FollowUp.workspace_id == workspace.id,
            FollowUp.staff_member_id == leaver.id,
            FollowUp.status == FollowUpStatus.OPEN,
        )
    ).all()
    for follow_up in follow_ups:
        follow_up.staff_member_id = successor.id
    session.flush()
    audit.record(
        session,
        actor,
        HANDOVER_AUDIT_ACTION,
        f"staff:{leaver.id}",
        {
            "to_staff_id": successor.id,
            "sources": len(sources),
            "follow_ups": len(follow_ups),
        },
        workspace=workspace,
    )
    return Handover(leaver.email, successor.email, len(sources), len(follow_ups))
