"""Follow-ups due and open referral loops: what the team owes its sources today.

An open loop is a referral whose outcome has not been reported back to its
source.  Its report is due `loop_close_days` after the referral arrived (a
workspace setting).  The daily reminder pass closes it when a confirmed
email goes out to the practice on or after the day the referral arrived,
and a person can close it by hand.  `warmline referrals loops` lists the
same loops.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, cast

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from warmline import audit
from warmline.models import (
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralSource,
    StaffMember,
    Workspace,
)
from warmline.remind import followups, referrals
from warmline.remind.errors import ReminderError
from warmline.remind.snooze_links import SNOOZE_ACTION
from warmline.remind.state import reminder_policy
from warmline.reminder_models import FollowUpBasis
from warmline.workspaces import workspace_settings


@dataclasses.dataclass(frozen=True)
class FollowUpRow:
    id: int
    due_on: dt.date
    reason: str
    note: str
    source_id: int
    source_name: str
    practice_name: str | None
    staff_member_id: int
    staff_name: str
    staff_email: str

    def overdue_days(self, today: dt.date) -> int:
        return max((today - self.due_on).days, 0)


@dataclasses.dataclass(frozen=True)
class FollowUpsDue:
    """The open follow-ups due by a day, earliest first, cut at a limit."""

    total: int
    shown: list[FollowUpRow]


@dataclasses.dataclass(frozen=True)
class LoopRow:
    referral_id: int
    received_on: dt.date
    count: int
    external_ref: str | None
    source_id: int
    source_name: str
    practice_name: str | None
    due_on: dt.date

    def overdue_days(self, today: dt.date) -> int:
        return max((today - self.due_on).days, 0)


@dataclasses.dataclass(frozen=True)
class OpenLoops:
    """The open loops of a workspace, earliest report due first, cut at a limit."""

    total: int
    overdue: int
    shown: list[LoopRow]


def _follow_ups_query() -> Select[*tuple[Any, ...]]:
    practice = aliased(ReferralSource)
    open_due = (
        FollowUp.workspace_id == bindparam("workspace_id"),
        FollowUp.status == FollowUpStatus.OPEN,
        FollowUp.due_on <= bindparam("due_by"),
    )
    return (
        select(
            FollowUp.id,
            FollowUp.due_on,
            FollowUp.reason,
            func.coalesce(FollowUpBasis.note, ""),
            ReferralSource.id,
            ReferralSource.name,
            practice.name,
            StaffMember.id,
            StaffMember.name,
            StaffMember.email,
        )
        .join(ReferralSource, ReferralSource.id == FollowUp.source_id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .join(StaffMember, StaffMember.id == FollowUp.staff_member_id)
        .outerjoin(FollowUpBasis, FollowUpBasis.follow_up_id == FollowUp.id)
        .where(*open_due)
        .order_by(FollowUp.due_on, FollowUp.id)
    )


_FOLLOW_UPS = _follow_ups_query()
_FOLLOW_UPS_OF = _FOLLOW_UPS.where(FollowUp.staff_member_id == bindparam("staff_id"))


def follow_ups_due(
    session: Session,
    workspace_id: int,
    due_by: dt.date,
    limit: int,
    staff_member_id: int | None = None,
) -> FollowUpsDue:
    """Return the open follow-ups due by `due_by`, of one staff member or of all."""
    values: dict[str, Any] = {"workspace_id": workspace_id, "due_by": due_by}
    statement = _FOLLOW_UPS
    if staff_member_id is not None:
        statement = _FOLLOW_UPS_OF
        values["staff_id"] = staff_member_id
    rows = [FollowUpRow(*row) for row in session.execute(statement, values)]
    return FollowUpsDue(len(rows), rows[:limit])


def _open_referrals() -> tuple[Any, ...]:
    return (
        Referral.workspace_id == bindparam("workspace_id"),
        Referral.closed_at.is_(None),
        Referral.received_on <= bindparam("today"),
    )


_LOOP_COUNTS = select(
    func.count(),
    func.count().filter(Referral.received_on < bindparam("overdue_before")),
).where(*_open_referrals())


def _loops_query() -> Select[*tuple[Any, ...]]:
    practice = aliased(ReferralSource)
    return (
        select(
            Referral.id,
            Referral.received_on,
            Referral.count,
            Referral.external_ref,
            ReferralSource.id,
            ReferralSource.name,
            practice.name,
        )
        .join(ReferralSource, ReferralSource.id == Referral.source_id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .where(*_open_referrals())
        .order_by(Referral.received_on, Referral.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


_LOOPS = _loops_query()


def loop_close_days(session: Session, workspace_id: int) -> int:
    """Return the days after a referral that its report back is due."""
    return reminder_policy(workspace_settings(session, workspace_id)).loop_close_days


def open_loops(
    session: Session,
    workspace_id: int,
    today: dt.date,
    limit: int,
    offset: int = 0,
) -> OpenLoops:
    """Return the referrals received by `today` whose loop is still open."""
    delay = dt.timedelta(days=loop_close_days(session, workspace_id))
    values: dict[str, Any] = {"workspace_id": workspace_id, "today": today}
    total, overdue = session.execute(
        _LOOP_COUNTS, {**values, "overdue_before": today - delay}
    ).one()
    rows = session.execute(_LOOPS, {**values, "limit": limit, "offset": offset})
    shown = [
        LoopRow(
            referral_id,
            received_on,
            count,
            external_ref,
            source_id,
            source_name,
            practice_name,
            received_on + delay,
        )
        for (
            referral_id,
            received_on,
            count,
            external_ref,
            source_id,
            source_name,
            practice_name,
        ) in rows
    ]
    return OpenLoops(total, overdue, shown)


class TaskNotFoundError(LookupError):
    """No follow-up or referral with that id in the workspace."""


def complete(
    session: Session, actor: str, workspace_id: int, follow_up_id: int, now: dt.datetime
) -> None:
    """Mark an open follow-up of the workspace done, as `warmline followups done`.

    `actor` is the audit log's actor.  Raises TaskNotFoundError for an id of
    no follow-up of the workspace, and ReminderError when the follow-up is
    no longer open.
    """
    workspace = _workspace_of(session, FollowUp, follow_up_id, workspace_id)
    followups.complete_follow_up(session, workspace, follow_up_id, now)
    audit.record(
        session, actor, "follow_up.done", f"follow_up:{follow_up_id}", {},
        workspace=workspace,
    )  # fmt: skip


def snooze(
    session: Session,
    actor: str,
    workspace_id: int,
    follow_up_id: int,
    period: str,
    today: dt.date,
    seen_due_on: dt.date | None = None,
) -> None:
    """Move an open follow-up's due date by `period` (2w, 1m or 3m).

    `seen_due_on` is the due date the user saw, if known.  When the date has
    moved since, nothing changes and ReminderError is raised, so a form sent
    twice snoozes once.  Raises as `complete` does, and ReminderError for an
    unknown period.
    """
    workspace = _workspace_of(session, FollowUp, follow_up_id, workspace_id)
    due_on = session.get_one(FollowUp, follow_up_id).due_on
    if seen_due_on is not None and due_on != seen_due_on:
        raise ReminderError(
            f"follow-up {follow_up_id} is now due {due_on.isoformat()}, not "
            f"{seen_due_on.isoformat()}; it was moved since the page was loaded"
        )
    followups.snooze_follow_up(session, workspace, follow_up_id, period, today)
    audit.record(
        session, actor, SNOOZE_ACTION, f"follow_up:{follow_up_id}",
        {"period": period, "via": "site"}, workspace=workspace,
    )  # fmt: skip


def close_loop(
    session: Session, actor: str, workspace_id: int, referral_id: int, now: dt.datetime
) -> None:
    """Record that a referral's outcome was reported back to its source.

    Raises TaskNotFoundError for an id of no referral of the workspace, and
    ReminderError when the referral was closed already.
    """
    workspace = _workspace_of(session, Referral, referral_id, workspace_id)
    referrals.close_referral(session, workspace, referral_id, now)
    audit.record(
        session, actor, "referral.close", f"referral:{referral_id}", {},
        workspace=workspace,
    )  # fmt: skip


def _workspace_of(
    session: Session,
    model: type[FollowUp] | type[Referral],
    row_id: int,
    workspace_id: int,
) -> Workspace:
    """Return the workspace after checking that row `row_id` of `model` is in it.

    The row stays in the session, so the action that follows reads it from
    there rather than with another query.
    """
    row = cast("FollowUp | Referral | None", session.get(model, row_id))
    if row is None or row.workspace_id != workspace_id:
        raise TaskNotFoundError(row_id)
    return session.get_one(Workspace, workspace_id)
