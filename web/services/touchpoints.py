"""Touchpoints as the site shows them: activity, practice, person, reasons and
the latest decision, read for one workspace at a time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Row, Select, bindparam, select, union
from sqlalchemy.orm import Session, aliased

from warmline.models import (
    Activity,
    ActivityParticipant,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
)
from warmline.web_models import DecisionAction, TouchpointDecision, WebUser

MAX_PAGE = 500


@dataclasses.dataclass(frozen=True)
class ReasonView:
    signal: str
    detail: str
    score: float
    observed: str = ""
    known: str = ""


@dataclasses.dataclass(frozen=True)
class DecisionView:
    action: DecisionAction
    status: TouchpointStatus
    user_email: str | None
    decided_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class ParticipantView:
    role: str
    address: str
    name: str | None


@dataclasses.dataclass
class TouchpointView:
    id: int
    activity_id: int
    occurred_at: dt.datetime
    kind: str
    direction: str | None
    subject: str | None
    staff_email: str
    staff_name: str
    practice_id: int
    practice_name: str
    person_id: int | None
    person_name: str | None
    confidence: float
    status: TouchpointStatus
    reasons: list[ReasonView]
    decided_by_staff: bool
    decision: DecisionView | None = None
    participants: list[ParticipantView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class TouchpointFilter:
    """Conditions on the touchpoints of one workspace; None means any."""

    status: TouchpointStatus | None = None
    source_id: int | None = None
    staff_member_id: int | None = None
    kind: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    newest_first: bool = True


def _reasons(raw: Sequence[dict[str, Any]]) -> list[ReasonView]:
    return [
        ReasonView(
            str(item["signal"]),
            str(item["detail"]),
            float(item["score"]),
            str(item.get("observed", "")),
            str(item.get("known", "")),
        )
        for item in raw
    ]


@dataclasses.dataclass(frozen=True)
class _Shape:
    """The conditions of a TouchpointFilter that are set, and its order.

    The statements are built once per shape with the values as bound
    parameters, because building the joins, aliases and subqueries took
    longer than running the query on PostgreSQL.
    """

    status: bool
    source: bool
    staff: bool
    kind: bool
    since: bool
    until: bool
    newest_first: bool

    @classmethod
    def of(cls, where: TouchpointFilter) -> _Shape:
        return cls(
            status=where.status is not None,
            source=where.source_id is not None,
            staff=where.staff_member_id is not None,
            kind=where.kind is not None,
            since=where.since is not None,
            until=where.until is not None,
            newest_first=where.newest_first,
        )


def _parameters(workspace_id: int, where: TouchpointFilter) -> dict[str, Any]:
    """Return the values of the bound parameters that `where`'s shape uses."""
    values: dict[str, Any] = {"workspace_id": workspace_id}
    if where.status is not None:
        values["status"] = where.status
    if where.source_id is not None:
        values["source_id"] = where.source_id
    if where.staff_member_id is not None:
        values["staff_member_id"] = where.staff_member_id
    if where.kind is not None:
        values["kind"] = where.kind
    if where.since is not None:
        values["start"] = dt.datetime.combine(where.since, dt.time.min, dt.UTC)
    if where.until is not None:
        values["end"] = dt.datetime.combine(where.until, dt.time.max, dt.UTC)
    return values


def touchpoint_query(shape: _Shape) -> Select[*tuple[Any, ...]]:
    """Select the columns of the touchpoints of `shape`, in display order.

    Plain columns rather than ORM objects: building 200 Touchpoint,
    Activity and StaffMember objects took longer than the query itself.
    """
    practice = aliased(ReferralSource)
    person = aliased(ReferralSource)
    query = (
        select(
            Touchpoint.id,
            Touchpoint.activity_id,
            Activity.occurred_at,
            Activity.kind,
            Activity.direction,
            Activity.subject,
            StaffMember.email.label("staff_email"),
            StaffMember.name.label("staff_name"),
            Touchpoint.practice_id,
            practice.name.label("practice_name"),
            Touchpoint.person_id,
            person.name.label("person_name"),
            Touchpoint.confidence,
            Touchpoint.status,
            Touchpoint.reasons,
            Touchpoint.decided_by,
        )
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .join(practice, practice.id == Touchpoint.practice_id)
        .outerjoin(person, person.id == Touchpoint.person_id)
        .join(StaffMember, StaffMember.id == Activity.staff_member_id)
        .where(Touchpoint.workspace_id == bindparam("workspace_id"))
    )
    if shape.status:
        query = query.where(Touchpoint.status == bindparam("status"))
    if not shape.source:
        # Redundant with the touchpoint's workspace, but it lets PostgreSQL
        # walk the index on activity (workspace_id, occurred_at) newest first
        # and stop at the page's end, instead of sorting every match: 450 ms
        # for the review queue with 1,000,000 activities.
        query = query.where(Activity.workspace_id == bindparam("workspace_id"))
    query = query.where(*_activity_conditions(shape))
    return query.order_by(
        *_display_order(
            shape, Activity.occurred_at.expression, Touchpoint.id.expression
        )
    )


def _activity_conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    conditions = _period(shape, Activity.occurred_at.expression)
    if shape.staff:
        conditions.append(Activity.staff_member_id == bindparam("staff_member_id"))
    if shape.kind:
        conditions.append(Activity.kind == bindparam("kind"))
    return conditions


def _period(
    shape: _Shape, occurred_at: ColumnElement[dt.datetime]
) -> list[ColumnElement[bool]]:
    """Return the conditions of the period's start and end on `occurred_at`."""
    conditions = []
    if shape.since:
        conditions.append(occurred_at >= bindparam("start"))
    if shape.until:
        conditions.append(occurred_at <= bindparam("end"))
    return conditions


def _display_order(
    shape: _Shape,
    occurred_at: ColumnElement[dt.datetime],
    touchpoint_id: ColumnElement[int],
) -> list[ColumnElement[Any]]:
    if shape.newest_first:
        return [occurred_at.desc(), touchpoint_id.desc()]
    return [occurred_at.asc(), touchpoint_id.asc()]


def _source_page_ids(shape: _Shape) -> Select[Any]:
    """Select the ids of one page of a source's touchpoints.

    A source's touchpoints are those of its practice and those that name
    it as a person.  Each of the two is read in display order from its
    index and cut at the page's end before they are merged, using the
    activity time each touchpoint carries, so the details are joined for
    that page only.  For the busiest practice of the benchmark (16,906
    touchpoints) this takes a few ms instead of 190.
    """
    own = [
        Touchpoint.workspace_id == bindparam("workspace_id"),
        *_period(shape, Touchpoint.occurred_at.expression),
    ]
    if shape.status:
        own.append(Touchpoint.status == bindparam("status"))
    by_activity = []
    if shape.staff:
        by_activity.append(Activity.staff_member_id == bindparam("staff_member_id"))
    if shape.kind:
        by_activity.append(Activity.kind == bindparam("kind"))
    order = _display_order(
        shape, Touchpoint.occurred_at.expression, Touchpoint.id.expression
    )

    def branch(query: Select[int, dt.datetime]) -> Any:
        if by_activity:
            query = query.join(Activity, Activity.id == Touchpoint.activity_id)
        return (
            query.where(*own, *by_activity)
            .order_by(*order)
            .limit(bindparam("page_end", type_=Integer))
            .subquery()
        )

    via_practice = branch(
        select(Touchpoint.id, Touchpoint.occurred_at).where(
            Touchpoint.practice_id == bindparam("source_id")
        )
    )
    via_person = branch(
        select(Touchpoint.id, Touchpoint.occurred_at)
        .join(TouchpointPerson, TouchpointPerson.touchpoint_id == Touchpoint.id)
        .where(TouchpointPerson.person_id == bindparam("source_id"))
    )
    # A UNION of two indexed lookups: with OR, PostgreSQL scans every
    # touchpoint of the workspace.
    picked = union(
        select(via_practice.c.id, via_practice.c.occurred_at),
        select(via_person.c.id, via_person.c.occurred_at),
    ).subquery()
    ordered = _display_order(shape, picked.c.occurred_at, picked.c.id)
    return (
        select(picked.c.id)
        .order_by(*ordered)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


@functools.cache
def _page_statement(shape: _Shape) -> Select[*tuple[Any, ...]]:
    """Build the statement of one page of the touchpoints of `shape`."""
    query = touchpoint_query(shape)
    if not shape.source:
        return query.limit(bindparam("limit", type_=Integer)).offset(
            bindparam("offset", type_=Integer)
        )
    page = _source_page_ids(shape).subquery()
    return query.where(Touchpoint.id.in_(select(page.c.id)))


@functools.cache
def _one_statement() -> Select[*tuple[Any, ...]]:
    """Build the statement of one touchpoint of the workspace, by its id."""
    shape = _Shape.of(TouchpointFilter())
    return touchpoint_query(shape).where(Touchpoint.id == bindparam("touchpoint_id"))


def list_touchpoints(
    session: Session,
    workspace_id: int,
    where: TouchpointFilter,
    limit: int = 100,
    offset: int = 0,
    with_participants: bool = False,
) -> list[TouchpointView]:
    limit = min(limit, MAX_PAGE)
    values = _parameters(workspace_id, where)
    values.update(limit=limit, offset=offset, page_end=offset + limit)
    statement = _page_statement(_Shape.of(where))
    views = [_view(row) for row in session.execute(statement, values)]
    _attach_decisions(session, views)
    if with_participants:
        _attach_participants(session, views)
    return views


def get_touchpoint(
    session: Session, workspace_id: int, touchpoint_id: int
) -> TouchpointView | None:
    values = {"workspace_id": workspace_id, "touchpoint_id": touchpoint_id}
    row = session.execute(_one_statement(), values).first()
    if row is None:
        return None
    views = [_view(row)]
    _attach_decisions(session, views)
    _attach_participants(session, views)
    return views[0]


def _view(row: Row[Any]) -> TouchpointView:
    return TouchpointView(
        id=row.id,
        activity_id=row.activity_id,
        occurred_at=row.occurred_at,
        kind=row.kind,
        direction=row.direction,
        subject=row.subject,
        staff_email=row.staff_email,
        staff_name=row.staff_name,
        practice_id=row.practice_id,
        practice_name=row.practice_name,
        person_id=row.person_id,
        person_name=row.person_name,
        confidence=row.confidence,
        status=row.status,
        reasons=_reasons(row.reasons),
        decided_by_staff=row.decided_by is not None,
    )


# Oldest first, so that the latest decision of each touchpoint is set last.
_DECISIONS = (
    select(
        TouchpointDecision.touchpoint_id,
        TouchpointDecision.action,
        TouchpointDecision.status,
        WebUser.email,
        TouchpointDecision.decided_at,
    )
    .outerjoin(WebUser, WebUser.id == TouchpointDecision.user_id)
    .where(TouchpointDecision.touchpoint_id.in_(bindparam("ids", expanding=True)))
    .order_by(TouchpointDecision.decided_at, TouchpointDecision.id)
)


def _attach_decisions(session: Session, views: list[TouchpointView]) -> None:
    """Set each view's latest decision made on the site, if any."""
    by_id = {view.id: view for view in views}
    if not by_id:
        return
    rows = session.execute(_DECISIONS, {"ids": list(by_id)})
    for touchpoint_id, action, status, email, decided_at in rows:
        by_id[touchpoint_id].decision = DecisionView(action, status, email, decided_at)


def _attach_participants(session: Session, views: list[TouchpointView]) -> None:
    by_activity: dict[int, list[TouchpointView]] = {}
    for view in views:
        by_activity.setdefault(view.activity_id, []).append(view)
    if not by_activity:
        return
    rows = session.scalars(
        select(ActivityParticipant)
        .where(ActivityParticipant.activity_id.in_(by_activity))
        .order_by(ActivityParticipant.id)
    )
    for row in rows:
        for view in by_activity[row.activity_id]:
            view.participants.append(ParticipantView(row.role, row.address, row.name))
