"""Relationship health read from the database: last touches and cadences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from reminders import ColdRelationship, Relationship, find_cold
from warmline import privacy
from warmline.models import (
    Activity,
    ReferralSource,
    SourceKind,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.workspaces import workspace_settings

RECENT_WINDOW = dt.timedelta(days=30)
"""Span read first by last_touches, through the index on activity time."""

ID_CHUNK = 500
"""Source ids per IN list, well under SQLite's limit on bound parameters."""


def last_touches(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each source id to its newest confirmed touchpoint up to `as_of`.

    Meetings still in the future are not touches yet.  The touches of the
    last RECENT_WINDOW are read first: a source touched then has its newest
    touch among them.  Only the other sources' touchpoints are then read in
    full, so a workspace whose sources are mostly warm is not read whole.
    """
    touches = _newest(
        _confirmed_touches(session, workspace.id, as_of, since=as_of - RECENT_WINDOW)
    )
    others = [
        source_id
        for source_id in session.scalars(
            select(ReferralSource.id).where(ReferralSource.workspace_id == workspace.id)
        )
        if source_id not in touches
    ]
    touches.update(last_touches_of(session, workspace.id, others, as_of))
    # Touchpoints aged out by retention live on as monthly counts.
    for source_id, touched in privacy.aggregated_last_touches(
        session, workspace, as_of
    ).items():
        if source_id not in touches or touches[source_id] < touched:
            touches[source_id] = touched
    return touches


def last_touches_of(
    session: Session, workspace_id: int, ids: Sequence[int], as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each of the source `ids` to its newest confirmed touchpoint up to
    `as_of`, reading those sources' touchpoints only.

    Monthly counts kept by retention are not read; last_touches adds them.
    """
    rows: list[tuple[int, Any]] = []
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        rows.extend(_confirmed_touches(session, workspace_id, as_of, ids=chunk))
    return _newest(rows)


def _confirmed_touches(
    session: Session,
    workspace_id: int,
    as_of: dt.datetime,
    since: dt.datetime | None = None,
    ids: Sequence[int] | None = None,
) -> list[tuple[int, Any]]:
    """Return (source id, newest touch) of practices and of people, grouped by
    source; `since` bounds the activities read and `ids` the sources."""
    confirmed = [
        Touchpoint.workspace_id == workspace_id,
        Touchpoint.status == TouchpointStatus.CONFIRMED,
        # Redundant with the touchpoint's workspace, but it lets the query
        # use the index on activity (workspace_id, occurred_at).
        Activity.workspace_id == workspace_id,
        Activity.occurred_at <= as_of,
    ]
    if since is not None:
        confirmed.append(Activity.occurred_at >= since)
    by_practice = (
        select(Touchpoint.practice_id, func.max(Activity.occurred_at))
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
        .group_by(Touchpoint.practice_id)
    )
    by_person = (
        select(TouchpointPerson.person_id, func.max(Activity.occurred_at))
        .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
        .group_by(TouchpointPerson.person_id)
    )
    if ids is not None:
        by_practice = by_practice.where(Touchpoint.practice_id.in_(ids))
        by_person = by_person.where(TouchpointPerson.person_id.in_(ids))
    return [
        (source_id, touched)
        for query in (by_practice, by_person)
        for source_id, touched in session.execute(query)
    ]


def _newest(rows: Iterable[tuple[int, Any]]) -> dict[int, dt.datetime]:
    touches: dict[int, dt.datetime] = {}
    for source_id, touched in rows:
        moment = _aware(touched)
        if source_id not in touches or touches[source_id] < moment:
            touches[source_id] = moment
    return touches


def _aware(value: dt.datetime) -> dt.datetime:
    # func.max bypasses the column type, so SQLite returns a naive UTC value.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def relationships(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[Relationship]:
    """Return practices, providers, and contacts with a cadence of their own.

    A person's cadence and owner fall back to their practice's, then the
    cadence to the workspace default.
    """
    default_cadence = workspace_settings(session, workspace)["default_cadence_days"]
    touches = last_touches(session, workspace, as_of)
    practice = aliased(ReferralSource)
    owner = aliased(StaffMember)
    practice_owner = aliased(StaffMember)
    # Columns rather than entities: building 10,000 ORM objects with their
    # JSON columns costs more than the query itself.
    rows = session.execute(
        select(
            ReferralSource.id,
            ReferralSource.kind,
            ReferralSource.name,
            ReferralSource.cadence_days,
            practice.name,
            practice.cadence_days,
            owner.email,
            practice_owner.email,
        )
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .outerjoin(owner, owner.id == ReferralSource.owner_id)
        .outerjoin(practice_owner, practice_owner.id == practice.owner_id)
        .where(ReferralSource.workspace_id == workspace.id)
        .order_by(ReferralSource.id)
    )
    result = []
    for (
        source_id,
        kind,
        name,
        own_cadence,
        practice_name,
        practice_cadence,
        owner_email,
        practice_owner_email,
    ) in rows:
        if kind is SourceKind.CONTACT and own_cadence is None:
            continue
        cadence = own_cadence or practice_cadence
        result.append(
            Relationship(
                source_id=source_id,
                kind=kind.value,
                name=name,
                practice=practice_name,
                owner=owner_email or practice_owner_email,
                cadence_days=cadence or default_cadence,
                last_touch=touches.get(source_id),
            )
        )
    return result


def cold_relationships(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[ColdRelationship]:
    return find_cold(relationships(session, workspace, as_of), as_of)
