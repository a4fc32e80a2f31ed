"""Each source's learned cadence inputs, stored so that pages need not derive them.

The cold ranking (warmline.remind.cold) uses a source's learned cadence when
neither the source nor its practice sets one.  Learning it reads every
confirmed touch of the last 365 days (see reminders.cadence), which is slow
on a large workspace, so `SourceLearnedCadence` stores two figures per
source, computed at `refreshed_at`:

- `touch_days`: the distinct UTC days with a confirmed touch in the year;
- `median_gap_days`: the learned interval from those days, or null with
  fewer than two of them.  The `learned_cadence_min_days` setting is applied
  when the row is read, so changing it needs no refresh.

The figures are exact while the set of touches inside the window stays
the same, so from `refreshed_at` up to, but not including, `valid_until`.
That is the earlier of two moments: the first touch after `refreshed_at`
(a meeting ahead) and the moment the oldest touch in the window leaves it.
A null `valid_until` means that no touch will change them.  Readers also
accept an expired row for `STALE_ALLOWANCE` after its refresh, because on
a busy workspace rows expire every day.  For other moments the reader
derives the figures from the touchpoints, for those sources only.

`warmline.last_touch.refresh_last_touches`, which every write of a
confirmed touchpoint calls, refreshes these rows too, and
`refresh_due_learned_cadences` (run by the daily reminder pass) refreshes
the rows that have expired and adds the missing ones.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ForeignKey, Index, Select, bindparam, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from reminders.cadence import LEARNING_WINDOW, learned_interval
from warmline import last_touch
from warmline.db import chunks, insert_for, utc_aware
from warmline.models import Base, ReferralSource, utcnow

STALE_ALLOWANCE = dt.timedelta(days=2)
"""How long after its refresh an expired row is still read, so two daily passes.

On a busy workspace the oldest touch day leaves the window of many sources
every day (a fifth of the benchmark's 10,000 sources within 24 hours), and
deriving all of those on each page would read most of the year's touches.
"""

"""Ids per IN list, well under SQLite's limit on bound parameters."""


class SourceLearnedCadence(Base):
    """One source's touch days and learned interval over the year to `refreshed_at`.

    A source without a row was not refreshed since the table was created.
    Readers derive the figures of such a source when it has a last touch.
    """

    __tablename__ = "source_learned_cadence"
    __table_args__ = (
        Index(
            "ix_source_learned_cadence_workspace_valid", "workspace_id", "valid_until"
        ),
    )

    source_id: Mapped[int] = mapped_column(
        ForeignKey("referral_source.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    touch_days: Mapped[int] = mapped_column(
        comment="distinct UTC days with a confirmed touch in the year to refreshed_at"
    )
    median_gap_days: Mapped[int | None] = mapped_column(
        comment="median gap between those days, at least 7; null under two days"
    )
    refreshed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[dt.datetime | None] = mapped_column(
        comment="first moment the figures may change; null: never"
    )


@dataclasses.dataclass(frozen=True)
class LearnedFigures:
    """A source's touch days in the learning window and their median gap."""

    touch_days: int
    median_gap_days: int | None

    def learned_days(self, min_touch_days: int) -> int | None:
        """Return the learned cadence, or None under `min_touch_days` touch days."""
        if self.touch_days < max(min_touch_days, 2):
            return None
        return self.median_gap_days


def refresh_learned_cadences(
    session: Session, source_ids: Iterable[int], now: dt.datetime | None = None
) -> None:
    """Recompute the rows of `source_ids` from their confirmed touchpoints.

    Ids of sources that no longer exist are skipped.  The caller holds the
    sources' locks (warmline.last_touch.refresh_last_touches takes them).
    """
    moment = now or utcnow()
    for chunk in chunks(sorted(set(source_ids))):
        rows = session.execute(
            select(ReferralSource.id, ReferralSource.workspace_id).where(
                ReferralSource.id.in_(chunk)
            )
        )
        existing = {source_id: workspace_id for source_id, workspace_id in rows}
        if not existing:
            continue
        times = _touch_times(session, list(existing), moment - LEARNING_WINDOW)
        _upsert(
            session,
            [
                _row(source_id, workspace_id, times.get(source_id, []), moment)
                for source_id, workspace_id in existing.items()
            ],
        )


def refresh_due_learned_cadences(
    session: Session, workspace_id: int, now: dt.datetime | None = None
) -> int:
    """Refresh expired rows and add missing ones; return how many were refreshed.

    A source is missing when it has a stored last touch but no row, as after
    the upgrade that created the table.
    """
    moment = now or utcnow()
    expired = session.scalars(
        select(SourceLearnedCadence.source_id).where(
            SourceLearnedCadence.workspace_id == workspace_id,
            SourceLearnedCadence.valid_until <= moment,
        )
    )
    missing = session.scalars(
        select(last_touch.SourceLastTouch.source_id)
        .outerjoin(
            SourceLearnedCadence,
            SourceLearnedCadence.source_id == last_touch.SourceLastTouch.source_id,
        )
        .where(
            last_touch.SourceLastTouch.workspace_id == workspace_id,
            SourceLearnedCadence.source_id.is_(None),
        )
    )
    due = {*expired, *missing}
    refresh_learned_cadences(session, due, moment)
    return len(due)


def _stored_query() -> Select[int, int, int | None]:
    """Select the stored figures that `learned_figures` may read at "as_of".

    A row is read while it is exact at that moment, and until "stale_after"
    after its refresh.  Built once, as every page of sources reads them.
    """
    return select(
        SourceLearnedCadence.source_id,
        SourceLearnedCadence.touch_days,
        SourceLearnedCadence.median_gap_days,
    ).where(
        SourceLearnedCadence.workspace_id == bindparam("workspace_id"),
        SourceLearnedCadence.refreshed_at <= bindparam("as_of"),
        or_(
            SourceLearnedCadence.valid_until.is_(None),
            SourceLearnedCadence.valid_until > bindparam("as_of"),
            SourceLearnedCadence.refreshed_at > bindparam("stale_after"),
        ),
    )


_STORED = _stored_query()
_STORED_OF = _STORED.where(
    SourceLearnedCadence.source_id.in_(bindparam("ids", expanding=True))
)


def learned_figures(
    session: Session,
    workspace_id: int,
    as_of: dt.datetime,
    touched: Iterable[int],
    only: Collection[int] | None = None,
) -> dict[int, LearnedFigures]:
    """Map each source with a confirmed touch to its figures for `as_of`.

    A row is read while it is exact at `as_of`, and for `STALE_ALLOWANCE`
    after its refresh even when the window has moved on since.
    NOTE: so a learned cadence may lag the full recompute (reminders.cadence)
    by up to two days of meetings held or old touches leaving the window,
    until the daily reminder pass or a new touch refreshes the row.

    `touched` lists the sources known to have a confirmed touch, such as
    those with a last touch.  The figures of one without a row valid at
    `as_of` are derived from its touchpoints.  Sources missing from the
    result have no touch in the year to `as_of`.  With `only`, just those
    sources are read, as a page of sources needs.
    """
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "as_of": as_of,
        "stale_after": as_of - STALE_ALLOWANCE,
    }
    if only is None:
        rows = session.execute(_STORED, values)
    else:
        rows = session.execute(_STORED_OF, {**values, "ids": list(only)})
    figures = {source_id: LearnedFigures(days, gap) for source_id, days, gap in rows}
    derive = [source_id for source_id in touched if source_id not in figures]
    times = _touch_times(session, derive, as_of - LEARNING_WINDOW, workspace_id)
    for source_id, found in times.items():
        figures[source_id] = compute_figures(found, as_of)
    return {key: value for key, value in figures.items() if value.touch_days}


def compute_figures(times: Iterable[dt.datetime], as_of: dt.datetime) -> LearnedFigures:
    """Compute the figures of the touches at `times` for the year to `as_of`."""
    start = as_of - LEARNING_WINDOW
    inside = [moment for moment in times if start < moment <= as_of]
    days = len({moment.date() for moment in inside})
    return LearnedFigures(days, learned_interval(inside, as_of, 2))


def _row(
    source_id: int, workspace_id: int, times: list[dt.datetime], moment: dt.datetime
) -> dict[str, Any]:
    figures = compute_figures(times, moment)
    start = moment - LEARNING_WINDOW
    inside = [time for time in times if start < time <= moment]
    ahead = [time for time in times if time > moment]
    limits = [min(inside) + LEARNING_WINDOW] if inside else []
    if ahead:
        limits.append(min(ahead))
    return {
        "source_id": source_id,
        "workspace_id": workspace_id,
        "touch_days": figures.touch_days,
        "median_gap_days": figures.median_gap_days,
        "refreshed_at": moment,
        "valid_until": min(limits, default=None),
    }


def _touch_times(
    session: Session,
    source_ids: Sequence[int],
    since: dt.datetime,
    workspace_id: int | None = None,
) -> dict[int, list[dt.datetime]]:
    """Map each of `source_ids` with a confirmed touch after `since` to its times.

    Touches ahead of the moment read are included, because a row needs the
    first of them to know how long it stays valid.
    """
    times: dict[int, list[dt.datetime]] = defaultdict(list)
    for chunk in chunks(list(source_ids)):
        touches = last_touch.touches_query(chunk, workspace_id, since)
        query = select(touches.c.source_id, touches.c.occurred_at)
        for source_id, occurred in session.execute(query):
            moment = utc_aware(occurred)
            if moment is not None and moment > since:
                times[source_id].append(moment)
    return dict(times)


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    statement = insert_for(session, SourceLearnedCadence)
    statement = statement.on_conflict_do_update(
        index_elements=[SourceLearnedCadence.source_id],
        set_={
            name: statement.excluded[name]
            for name in ("touch_days", "median_gap_days", "refreshed_at", "valid_until")
        },
    )
    session.execute(statement, rows)
