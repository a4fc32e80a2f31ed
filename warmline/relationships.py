"""Relationship health read from the database: last touches and cadences."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from reminders import Relationship
from warmline import last_touch, privacy
from warmline.db import chunks, utc_aware
from warmline.models import (
    ReferralSource,
    SourceKind,
    StaffMember,
    Workspace,
)
from warmline.workspaces import workspace_settings


def last_touches(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each source id to its newest confirmed touch up to `as_of`.

    Meetings still in the future are not touches yet.  The times come from
    the stored summary (warmline.last_touch), and from the touchpoints only
    for the few sources whose summary does not cover `as_of`.  Touches aged
    out by retention count through their monthly counts.
    """
    touches = _read_last_touches(session, workspace.id, as_of)
    for source_id, touched in privacy.aggregated_last_touches(
        session, workspace, as_of
    ).items():
        if source_id not in touches or touches[source_id] < touched:
            touches[source_id] = touched
    return touches


def last_touches_of(
    session: Session, workspace_id: int, ids: Sequence[int], as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each of the source `ids` to its newest confirmed touch up to `as_of`.

    Monthly counts kept by retention are not read; last_touches adds them.
    """
    return _read_last_touches(session, workspace_id, as_of, ids)


def _read_last_touches(
    session: Session,
    workspace_id: int,
    as_of: dt.datetime,
    ids: Sequence[int] | None = None,
) -> dict[int, dt.datetime]:
    """Read the stored last touches, deriving those the table cannot give."""
    stored = last_touch.stored_last_touches(session, workspace_id, as_of, ids)
    touches = stored.touches
    touches.update(_derived_last_touches(session, workspace_id, stored.stale, as_of))
    if stored.behind:
        # The rows are still right up to their next touch, so only the
        # touches since the earliest of those are read, through the index
        # on activity time when that span is short.
        since = min(stored.behind.values())
        behind = list(stored.behind)
        touches.update(
            _derived_last_touches(session, workspace_id, behind, as_of, since)
        )
    return touches


def _derived_last_touches(
    session: Session,
    workspace_id: int,
    ids: Sequence[int],
    as_of: dt.datetime,
    since: dt.datetime | None = None,
) -> dict[int, dt.datetime]:
    """Derive the last touches of `ids` from their touchpoints, from `since` on."""
    rows: list[tuple[int, Any]] = []
    for chunk in chunks(list(ids)):
        touches = last_touch.touches_query(chunk, workspace_id, since)
        query = (
            select(touches.c.source_id, func.max(touches.c.occurred_at))
            .where(touches.c.occurred_at <= as_of)
            .group_by(touches.c.source_id)
        )
        rows.extend(
            (source_id, touched) for source_id, touched in session.execute(query)
        )
    return _newest(rows)


def refresh_last_touches(
    session: Session, source_ids: Iterable[int], now: dt.datetime | None = None
) -> None:
    """Recompute the stored last touches of `source_ids`; see warmline.last_touch."""
    last_touch.refresh_last_touches(session, source_ids, now)


def _newest(rows: Iterable[tuple[int, Any]]) -> dict[int, dt.datetime]:
    touches: dict[int, dt.datetime] = {}
    for source_id, touched in rows:
        moment = utc_aware(touched)
        if source_id not in touches or touches[source_id] < moment:
            touches[source_id] = moment
    return touches


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
