"""Relationship health read from the database: last touches and cadences."""

from __future__ import annotations

import datetime as dt

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


def last_touches(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each source id to its newest confirmed touchpoint up to `as_of`.

    Meetings still in the future are not touches yet.
    """
    confirmed = (
        Touchpoint.workspace_id == workspace.id,
        Touchpoint.status == TouchpointStatus.CONFIRMED,
        Activity.occurred_at <= as_of,
    )
    by_practice = session.execute(
        select(Touchpoint.practice_id, func.max(Activity.occurred_at))
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
        .group_by(Touchpoint.practice_id)
    )
    by_person = session.execute(
        select(TouchpointPerson.person_id, func.max(Activity.occurred_at))
        .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
        .group_by(TouchpointPerson.person_id)
    )
    touches = {}
    for source_id, occurred_at in [*by_practice, *by_person]:
        touches[source_id] = _aware(occurred_at)
    # Touchpoints aged out by retention live on as monthly counts.
    for source_id, touched in privacy.aggregated_last_touches(
        session, workspace, as_of
    ).items():
        if source_id not in touches or touches[source_id] < touched:
            touches[source_id] = touched
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
    rows = session.execute(
        select(ReferralSource, practice, owner.email, practice_owner.email)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .outerjoin(owner, owner.id == ReferralSource.owner_id)
        .outerjoin(practice_owner, practice_owner.id == practice.owner_id)
        .where(ReferralSource.workspace_id == workspace.id)
        .order_by(ReferralSource.id)
    )
    result = []
    for source, parent, owner_email, parent_owner_email in rows:
        if source.kind is SourceKind.CONTACT and source.cadence_days is None:
            continue
        cadence = source.cadence_days or (parent.cadence_days if parent else None)
        result.append(
            Relationship(
                source_id=source.id,
                kind=source.kind.value,
                name=source.name,
                practice=parent.name if parent else None,
                owner=owner_email or parent_owner_email,
                cadence_days=cadence or default_cadence,
                last_touch=touches.get(source.id),
            )
        )
    return result


def cold_relationships(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[ColdRelationship]:
    return find_cold(relationships(session, workspace, as_of), as_of)
