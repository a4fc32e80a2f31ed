"""Each source's newest confirmed touch, stored so that pages need not derive it.

A source's touches are the activity times of its confirmed touchpoints: a
practice has every touchpoint linked to it, and a provider or contact every
touchpoint that counts for them (a `touchpoint_person` row).  Deriving the
newest one joins every touchpoint with its activity, so `SourceLastTouch`
stores it per source.  Every write that adds, changes or deletes a
confirmed touchpoint calls `refresh_last_touches` for the sources involved,
which also refreshes their learned cadences (warmline.learned_cadence).
An activity moved in time is covered too, because the sync writes the
touchpoints of every activity it stores, right after storing it.

Meetings ahead on the calendar are touches only once they are held, so a
row splits the touches at the moment it was refreshed: `last_touch_at` is
the newest touch up to that moment and `next_touch_at` the earliest after
it.  The row gives the exact last touch for any moment from
`last_touch_at` up to, but not including, `next_touch_at`.  For other
moments `stored_last_touches` lists the source apart, and the caller
derives its last touch from the touchpoints.  `refresh_due_last_touches`
brings the rows whose next touch has passed up to date.

Touchpoints deleted by retention are not in this table; their monthly
counts (`TouchpointMonthCount`) keep their last touch.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    bindparam,
    delete,
    func,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from warmline.db import chunks, insert_for, utc_aware
from warmline.models import (
    Activity,
    Base,
    ReferralSource,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    utcnow,
)

"""Ids per IN list, well under SQLite's limit on bound parameters."""


class SourceLastTouch(Base):
    """One source's newest confirmed touch and its next one, as of `refreshed_at`.

    A source without a row has no confirmed touchpoint.
    """

    __tablename__ = "source_last_touch"
    __table_args__ = (
        Index("ix_source_last_touch_workspace_next", "workspace_id", "next_touch_at"),
    )

    source_id: Mapped[int] = mapped_column(
        ForeignKey("referral_source.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    last_touch_at: Mapped[dt.datetime | None] = mapped_column(
        comment="newest confirmed touch at or before refreshed_at"
    )
    next_touch_at: Mapped[dt.datetime | None] = mapped_column(
        comment="earliest confirmed touch after refreshed_at, such as a meeting"
    )
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@dataclasses.dataclass(frozen=True)
class StoredTouches:
    """Last touches read from the table, and the sources it cannot give them for.

    `behind` maps each source whose next touch has come by then to that
    touch: its last touch is the newest one from there on.  The rows of
    `stale` sources are newer than the moment read, so their last touch
    must be derived from all their touchpoints.
    """

    touches: dict[int, dt.datetime]
    behind: dict[int, dt.datetime]
    stale: list[int]


def refresh_last_touches(
    session: Session, source_ids: Iterable[int], now: dt.datetime | None = None
) -> None:
    """Recompute the rows of `source_ids` from their confirmed touchpoints.

    Ids of sources that no longer exist are skipped.  On PostgreSQL the
    sources' rows are locked first, so two transactions refreshing one
    source run one after the other and the later one reads the earlier
    one's committed touchpoints.
    """
    moment = now or utcnow()
    ids = sorted(set(source_ids))
    for chunk in chunks(ids):
        existing = _lock_sources(session, chunk)
        if not existing:
            continue
        found = _split_touches(session, list(existing), moment)
        rows = [
            {
                "source_id": source_id,
                "workspace_id": workspace_id,
                "last_touch_at": found.get(source_id, (None, None))[0],
                "next_touch_at": found.get(source_id, (None, None))[1],
                "refreshed_at": moment,
            }
            for source_id, workspace_id in existing.items()
            if source_id in found
        ]
        untouched = [source_id for source_id in existing if source_id not in found]
        if untouched:
            session.execute(
                delete(SourceLastTouch).where(SourceLastTouch.source_id.in_(untouched))
            )
        if rows:
            _upsert(session, rows)
    # Imported here because warmline.learned_cadence builds on this module.
    from warmline import learned_cadence

    learned_cadence.refresh_learned_cadences(session, ids, moment)


def refresh_due_last_touches(
    session: Session, workspace_id: int, now: dt.datetime | None = None
) -> int:
    """Refresh the rows whose next touch has come; return how many there were.

    The learned cadences that have expired are refreshed too
    (warmline.learned_cadence).
    """
    moment = now or utcnow()
    due = list(
        session.scalars(
            select(SourceLastTouch.source_id).where(
                SourceLastTouch.workspace_id == workspace_id,
                SourceLastTouch.next_touch_at <= moment,
            )
        )
    )
    refresh_last_touches(session, due, moment)
    from warmline import learned_cadence

    learned_cadence.refresh_due_learned_cadences(session, workspace_id, moment)
    return len(due)


def refresh_workspace_last_touches(
    session: Session, workspace_id: int, now: dt.datetime | None = None
) -> None:
    """Recompute the rows of every source of the workspace."""
    ids = session.scalars(
        select(ReferralSource.id).where(ReferralSource.workspace_id == workspace_id)
    )
    refresh_last_touches(session, list(ids), now)


# Plain DateTime rather than UTCDateTime, because its conversion of each
# value took most of the 100 ms that reading 10,000 rows cost.  _aware makes
# SQLite's naive UTC values aware instead.  Built once, as every page of the
# site reads them.
_STORED = select(
    SourceLastTouch.source_id,
    type_coerce(SourceLastTouch.last_touch_at, DateTime(timezone=True)),
    type_coerce(SourceLastTouch.next_touch_at, DateTime(timezone=True)),
).where(SourceLastTouch.workspace_id == bindparam("workspace_id"))
_STORED_OF = _STORED.where(
    SourceLastTouch.source_id.in_(bindparam("ids", expanding=True))
)


def stored_last_touches(
    session: Session,
    workspace_id: int,
    as_of: dt.datetime,
    ids: Sequence[int] | None = None,
) -> StoredTouches:
    """Read the last touches up to `as_of` of the workspace's sources, or of `ids`.

    A source whose row cannot give its last touch at `as_of` (see the module
    docstring) is listed in `behind` or `stale` rather than in `touches`.
    """
    if ids is None:
        rows = list(session.execute(_STORED, {"workspace_id": workspace_id}))
    else:
        rows = []
        for chunk in chunks(list(ids)):
            values = {"workspace_id": workspace_id, "ids": chunk}
            rows.extend(session.execute(_STORED_OF, values))
    touches: dict[int, dt.datetime] = {}
    behind: dict[int, dt.datetime] = {}
    stale: list[int] = []
    for source_id, stored_last, stored_next in rows:
        last = utc_aware(stored_last)
        upcoming = utc_aware(stored_next)
        if last is not None and last > as_of:
            stale.append(source_id)
        elif upcoming is not None and upcoming <= as_of:
            behind[source_id] = upcoming
        elif last is not None:
            touches[source_id] = last
    return StoredTouches(touches, behind, stale)


def confirmed_sources(session: Session, activity_ids: Collection[int]) -> set[int]:
    """Return the sources that confirmed touchpoints of these activities count for."""
    sources: set[int] = set()
    for chunk in chunks(sorted(activity_ids)):
        confirmed = (
            Touchpoint.activity_id.in_(chunk),
            Touchpoint.status == TouchpointStatus.CONFIRMED,
        )
        sources.update(
            session.scalars(select(Touchpoint.practice_id).where(*confirmed))
        )
        sources.update(
            session.scalars(
                select(TouchpointPerson.person_id)
                .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
                .where(*confirmed)
            )
        )
    return sources


def touchpoint_sources(touchpoints: Iterable[Touchpoint]) -> set[int]:
    """Return the practices and people that these touchpoints count for."""
    sources: set[int] = set()
    for touchpoint in touchpoints:
        sources.add(touchpoint.practice_id)
        sources.update(person.person_id for person in touchpoint.people)
    return sources


def touches_query(
    source_ids: Sequence[int] | None = None,
    workspace_id: int | None = None,
    since: dt.datetime | None = None,
) -> Any:
    """Select (source id, activity time) of every confirmed touch.

    `source_ids` limits the rows to those sources, and `since` to the
    activities from then on, read through the index on activity
    (workspace_id, occurred_at) when `workspace_id` is given too.
    """
    confirmed: Any = Touchpoint.status == TouchpointStatus.CONFIRMED
    if workspace_id is not None:
        confirmed = confirmed & (Activity.workspace_id == workspace_id)
    if since is not None:
        confirmed = confirmed & (Activity.occurred_at >= since)
    by_practice = (
        select(Touchpoint.practice_id.label("source_id"), Activity.occurred_at)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(confirmed)
    )
    by_person = (
        select(TouchpointPerson.person_id.label("source_id"), Activity.occurred_at)
        .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(confirmed)
    )
    if source_ids is not None:
        by_practice = by_practice.where(Touchpoint.practice_id.in_(source_ids))
        by_person = by_person.where(TouchpointPerson.person_id.in_(source_ids))
    return union_all(by_practice, by_person).subquery()


def _split_touches(
    session: Session, source_ids: list[int], moment: dt.datetime
) -> dict[int, tuple[dt.datetime | None, dt.datetime | None]]:
    """Map each source with a confirmed touch to (newest up to, earliest after)."""
    touches = touches_query(source_ids)
    held = touches.c.occurred_at <= moment
    rows = session.execute(
        select(
            touches.c.source_id,
            func.max(touches.c.occurred_at).filter(held),
            func.min(touches.c.occurred_at).filter(~held),
        ).group_by(touches.c.source_id)
    )
    return {
        source_id: (utc_aware(last), utc_aware(upcoming))
        for source_id, last, upcoming in rows
    }


def _lock_sources(session: Session, ids: list[int]) -> dict[int, int]:
    """Return {source id: workspace id} of the sources that exist, locked."""
    query = (
        select(ReferralSource.id, ReferralSource.workspace_id)
        .where(ReferralSource.id.in_(ids))
        .order_by(ReferralSource.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        # NOTE: a transaction that refreshes several batches locks each
        # batch in id order, but not all of them in one order, so two such
        # transactions may deadlock; PostgreSQL then aborts one of them.
        query = query.with_for_update(key_share=True)
    return {
        source_id: workspace_id for source_id, workspace_id in session.execute(query)
    }


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    statement = insert_for(session, SourceLastTouch)
    statement = statement.on_conflict_do_update(
        index_elements=[SourceLastTouch.source_id],
        set_={
            name: statement.excluded[name]
            for name in ("last_touch_at", "next_touch_at", "refreshed_at")
        },
    )
    session.execute(statement, rows)
