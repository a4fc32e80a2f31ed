"""Review decisions: confirm, reject or reassign touchpoints of one workspace.

A decision sets Touchpoint.status and, when the user's address belongs to a
staff member, Touchpoint.decided_by, which the sync pipeline respects: it
never changes a touchpoint whose decided_by is set.  Every decision is also
recorded in touchpoint_decision with the web user who made it, because a
user who is not a staff member leaves decided_by empty.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warmline.models import (
    ReferralSource,
    SourceKind,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
)
from warmline.web_models import DecisionAction, TouchpointDecision

STATUS_FOR_ACTION = {
    DecisionAction.CONFIRM: TouchpointStatus.CONFIRMED,
    DecisionAction.REJECT: TouchpointStatus.REJECTED,
}
MAX_BULK = 500


@dataclasses.dataclass(frozen=True)
class Actor:
    """The decider: a web user and the staff member with the same address, if any."""

    workspace_id: int
    user_id: int
    staff_member_id: int | None


class NotFoundError(LookupError):
    """An id names nothing in the actor's workspace."""


class DecisionError(ValueError):
    """A decision's target exists but cannot take this decision."""


@dataclasses.dataclass(frozen=True)
class PersonChoice:
    id: int
    name: str
    title: str | None


@dataclasses.dataclass(frozen=True)
class PracticeChoice:
    id: int
    name: str
    people: list[PersonChoice]


def review_count(session: Session, workspace_id: int) -> int:
    count = session.scalar(
        select(func.count(Touchpoint.id)).where(
            Touchpoint.workspace_id == workspace_id,
            Touchpoint.status == TouchpointStatus.NEEDS_REVIEW,
        )
    )
    return count or 0


def _touchpoints(
    session: Session, actor: Actor, touchpoint_ids: Sequence[int]
) -> list[Touchpoint]:
    """Load the touchpoints, all of them in the actor's workspace, or raise."""
    wanted = set(touchpoint_ids)
    found = list(
        session.scalars(
            select(Touchpoint).where(
                Touchpoint.workspace_id == actor.workspace_id,
                Touchpoint.id.in_(wanted),
            )
        )
    )
    if len(found) != len(wanted):
        missing = sorted(wanted - {touchpoint.id for touchpoint in found})
        raise NotFoundError(f"no touchpoint with id {missing[0]}")
    return found


def _record(
    session: Session,
    actor: Actor,
    touchpoint: Touchpoint,
    action: DecisionAction,
    previous: TouchpointStatus | None,
    now: dt.datetime,
    reassigned_to: Touchpoint | None = None,
) -> None:
    touchpoint.decided_by = actor.staff_member_id
    session.add(
        TouchpointDecision(
            workspace_id=actor.workspace_id,
            touchpoint_id=touchpoint.id,
            user_id=actor.user_id,
            staff_member_id=actor.staff_member_id,
            action=action,
            previous_status=previous,
            status=touchpoint.status,
            reassigned_to_id=reassigned_to.id if reassigned_to else None,
            decided_at=now,
        )
    )


def decide(
    session: Session,
    actor: Actor,
    touchpoint_ids: Sequence[int],
    action: DecisionAction,
    now: dt.datetime,
) -> list[Touchpoint]:
    """Confirm or reject every touchpoint named; none changes if one is missing."""
    if action not in STATUS_FOR_ACTION:
        raise DecisionError(f"{action.value} is not confirm or reject")
    if len(set(touchpoint_ids)) > MAX_BULK:
        raise DecisionError(f"at most {MAX_BULK} touchpoints can be decided at once")
    touchpoints = _touchpoints(session, actor, touchpoint_ids)
    for touchpoint in touchpoints:
        previous = touchpoint.status
        touchpoint.status = STATUS_FOR_ACTION[action]
        _record(session, actor, touchpoint, action, previous, now)
    session.flush()
    return touchpoints


def _source(
    session: Session, actor: Actor, source_id: int, what: str
) -> ReferralSource:
    source = session.scalar(
        select(ReferralSource).where(
            ReferralSource.workspace_id == actor.workspace_id,
            ReferralSource.id == source_id,
        )
    )
    if source is None:
        raise NotFoundError(f"no {what} with id {source_id}")
    return source


def _target(
    session: Session, actor: Actor, practice_id: int, person_id: int | None
) -> tuple[ReferralSource, ReferralSource | None]:
    practice = _source(session, actor, practice_id, "practice")
    if practice.kind is not SourceKind.PRACTICE:
        raise DecisionError(
            f"{practice.name} is a {practice.kind.value}; choose a practice"
        )
    if person_id is None:
        return practice, None
    person = _source(session, actor, person_id, "person")
    if person.practice_id != practice.id:
        raise DecisionError(f"{person.name} does not work at {practice.name}")
    return practice, person


def _set_person(touchpoint: Touchpoint, person: ReferralSource | None) -> None:
    touchpoint.person_id = person.id if person else None
    kept = [row for row in touchpoint.people if person and row.person_id == person.id]
    if person is not None and not kept:
        kept = [TouchpointPerson(person_id=person.id, direct=True)]
    for row in kept:
        row.direct = True
    touchpoint.people = kept


def reassign(
    session: Session,
    actor: Actor,
    touchpoint_id: int,
    practice_id: int,
    person_id: int | None,
    now: dt.datetime,
) -> Touchpoint:
    """Link the touchpoint's activity to another practice or person instead.

    Another practice: the original touchpoint is rejected and the activity's
    touchpoint for the new practice (created when missing) is confirmed, so
    that a later sync, which keeps both because both are decided, cannot
    bring the wrong link back.  Returns the confirmed touchpoint.
    """
    (original,) = _touchpoints(session, actor, [touchpoint_id])
    practice, person = _target(session, actor, practice_id, person_id)
    if practice.id == original.practice_id:
        previous = original.status
        original.status = TouchpointStatus.CONFIRMED
        _set_person(original, person)
        _record(session, actor, original, DecisionAction.REASSIGN, previous, now)
        session.flush()
        return original
    target = session.scalar(
        select(Touchpoint).where(
            Touchpoint.activity_id == original.activity_id,
            Touchpoint.practice_id == practice.id,
        )
    )
    target_previous = target.status if target is not None else None
    if target is None:
        # A person's link has no matcher reasons; touchpoint_decision records
        # who made it.
        target = Touchpoint(
            workspace_id=actor.workspace_id,
            activity_id=original.activity_id,
            practice_id=practice.id,
            confidence=1.0,
            reasons=[],
        )
        session.add(target)
    target.status = TouchpointStatus.CONFIRMED
    _set_person(target, person)
    session.flush()
    previous = original.status
    original.status = TouchpointStatus.REJECTED
    _record(session, actor, original, DecisionAction.REASSIGN, previous, now, target)
    _record(session, actor, target, DecisionAction.REASSIGN, target_previous, now)
    session.flush()
    return target


def reassign_choices(session: Session, workspace_id: int) -> list[PracticeChoice]:
    """Return every practice with its providers and contacts, by name."""
    sources = session.scalars(
        select(ReferralSource)
        .where(ReferralSource.workspace_id == workspace_id)
        .order_by(ReferralSource.name, ReferralSource.id)
    ).all()
    people: dict[int, list[PersonChoice]] = {}
    for source in sources:
        if source.practice_id is not None:
            people.setdefault(source.practice_id, []).append(
                PersonChoice(source.id, source.name, source.title)
            )
    return [
        PracticeChoice(source.id, source.name, people.get(source.id, []))
        for source in sources
        if source.kind is SourceKind.PRACTICE
    ]
