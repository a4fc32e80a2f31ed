"""List, complete and snooze follow-ups stored in the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from reminders import (
    ClosedBy,
    Reason,
    snoozed_due_date,
)
from warmline.models import (
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralSource,
    StaffMember,
    Workspace,
)
from warmline.remind.errors import ReminderError
from warmline.reminder_models import FollowUpBasis


@dataclasses.dataclass(frozen=True)
class FollowUpView:
    """A follow-up as the command line and the digest show it."""

    follow_up_id: int
    source: str
    practice: str | None
    reason: str
    staff_email: str
    due_on: dt.date
    status: str
    note: str


def follow_up_basis(session: Session, follow_up: FollowUp) -> FollowUpBasis:
    basis = session.get(FollowUpBasis, follow_up.id)
    if basis is None:
        basis = FollowUpBasis(follow_up_id=follow_up.id, note="")
        session.add(basis)
    return basis


def follow_up_views(
    session: Session,
    workspace: Workspace,
    *,
    ids: Iterable[int] | None = None,
    staff_email: str | None = None,
    open_only: bool = False,
    due_by: dt.date | None = None,
) -> list[FollowUpView]:
    """Return follow-ups for display, by id or filtered, earliest due first."""
    practice = aliased(ReferralSource)
    query = (
        select(FollowUp, ReferralSource.name, practice.name, StaffMember.email)
        .join(ReferralSource, ReferralSource.id == FollowUp.source_id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .join(StaffMember, StaffMember.id == FollowUp.staff_member_id)
        .where(FollowUp.workspace_id == workspace.id)
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    if ids is not None:
        query = query.where(FollowUp.id.in_(list(ids)))
    if staff_email is not None:
        query = query.where(StaffMember.email == staff_email.strip().lower())
    if open_only:
        query = query.where(FollowUp.status == FollowUpStatus.OPEN)
    if due_by is not None:
        query = query.where(FollowUp.due_on <= due_by)
    rows = session.execute(query).all()
    notes = _notes(session, [row[0].id for row in rows])
    return [
        FollowUpView(
            follow_up_id=follow_up.id,
            source=source,
            practice=practice_name,
            reason=follow_up.reason,
            staff_email=email,
            due_on=follow_up.due_on,
            status=follow_up.status.value,
            note=notes.get(follow_up.id, ""),
        )
        for follow_up, source, practice_name, email in rows
    ]


def _notes(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(FollowUpBasis.follow_up_id, FollowUpBasis.note).where(
            FollowUpBasis.follow_up_id.in_(ids)
        )
    )
    return {follow_up_id: note for follow_up_id, note in rows}


def _open_follow_up(
    session: Session, workspace: Workspace, follow_up_id: int
) -> FollowUp:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.workspace_id != workspace.id:
        raise ReminderError(
            f"no follow-up with id {follow_up_id}; see 'warmline followups list'"
        )
    if follow_up.status is not FollowUpStatus.OPEN:
        raise ReminderError(
            f"follow-up {follow_up_id} is already {follow_up.status.value}"
        )
    return follow_up


def complete_follow_up(
    session: Session, workspace: Workspace, follow_up_id: int, now: dt.datetime
) -> FollowUpView:
    """Mark an open follow-up done by hand.

    Done on a close_loop follow-up also closes its source's open referrals,
    since the staff member reports that the outcome was sent back.
    """
    follow_up = _open_follow_up(session, workspace, follow_up_id)
    follow_up.status = FollowUpStatus.DONE
    follow_up.closed_at = now
    follow_up_basis(session, follow_up).closed_by = ClosedBy.STAFF.value
    if follow_up.reason == Reason.CLOSE_LOOP.value:
        for referral in session.scalars(
            select(Referral).where(
                Referral.workspace_id == workspace.id,
                Referral.source_id == follow_up.source_id,
                Referral.closed_at.is_(None),
            )
        ):
            referral.closed_at = now
    session.flush()
    return follow_up_views(session, workspace, ids=[follow_up.id])[0]


def snooze_follow_up(
    session: Session,
    workspace: Workspace,
    follow_up_id: int,
    period: str,
    today: dt.date,
) -> FollowUpView:
    """Move an open follow-up's due date by `period` (2w, 1m or 3m)."""
    follow_up = _open_follow_up(session, workspace, follow_up_id)
    try:
        follow_up.due_on = snoozed_due_date(follow_up.due_on, today, period)
    except ValueError as error:
        raise ReminderError(str(error)) from None
    session.flush()
    return follow_up_views(session, workspace, ids=[follow_up.id])[0]
