"""Referral sources for the site: search, and one source with its people,
cadence and timeline."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from reminders import ReminderPolicy
from reminders.health import VOLUME_DAYS
from warmline import relationships
from warmline.audit_models import TouchpointMonthCount
from warmline.db import utc_aware
from warmline.learned_cadence import LearnedFigures, learned_figures
from warmline.models import (
    Referral,
    ReferralSource,
    SourceKind,
    StaffMember,
    Workspace,
)
from warmline.remind.cold import stored_cadence
from warmline.remind.state import reminder_policy
from warmline.workspaces import workspace_settings
from web.charts import BarChart, Series, stacked_bars
from web.text import like_pattern

MONTHS_SHOWN = 12


@dataclasses.dataclass(frozen=True)
class Health:
    """A source's cadence and last confirmed touch, as of one moment."""

    cadence_days: int | None
    last_touch: dt.datetime | None
    as_of: dt.datetime

    @property
    def days_since(self) -> int | None:
        if self.last_touch is None:
            return None
        return (self.as_of - self.last_touch).days

    @property
    def cold(self) -> bool:
        """Past its cadence or never touched; a source without a cadence is not."""
        if self.cadence_days is None:
            return False
        days = self.days_since
        return days is None or days > self.cadence_days


class SourceStatus(enum.StrEnum):
    """A source's relationship health, one value per source."""

    COLD = "cold"
    """Touched, but longer ago than its cadence."""
    WARM = "warm"
    """Touched within its cadence, or touched and without a cadence."""
    NEVER = "never"
    """Never touched, as far as the stored activity shows."""


Tier = Literal["1", "2", "3", "none"]
TIERS: tuple[Tier, ...] = ("1", "2", "3", "none")
"""Tiers by referrals in the last 365 days (settings tier_1_referrals and
tier_2_referrals); tier 3 is one referral or more, and "none" means no referral."""


def status_of(health: Health) -> SourceStatus:
    if health.last_touch is None:
        return SourceStatus.NEVER
    return SourceStatus.COLD if health.cold else SourceStatus.WARM


def tier_of(referrals_year: int, settings: dict[str, Any]) -> Tier:
    """Return the tier of a source with `referrals_year` referrals in 365 days."""
    if referrals_year >= settings["tier_1_referrals"]:
        return "1"
    if referrals_year >= settings["tier_2_referrals"]:
        return "2"
    return "3" if referrals_year > 0 else "none"


@dataclasses.dataclass(frozen=True)
class SourceSummary:
    id: int
    kind: SourceKind
    name: str
    practice_id: int | None
    practice_name: str | None
    title: str | None
    owner_email: str | None
    health: Health
    referrals_year: int = 0
    """Referrals in the 365 days to the health's moment, a practice's people's
    included."""
    tier: Tier = "none"

    @property
    def status(self) -> SourceStatus:
        return status_of(self.health)


@dataclasses.dataclass(frozen=True)
class SourceSearch:
    """Search text (name, address or domain) and filters; None or '' means any."""

    text: str = ""
    owner_id: int | None = None
    kind: SourceKind | None = None
    status: SourceStatus | None = None
    tier: Tier | None = None

    @property
    def in_sql(self) -> bool:
        """Whether a condition is on stored columns, which SQL can test."""
        return bool(self.text) or self.owner_id is not None or self.kind is not None

    @property
    def derived(self) -> bool:
        """Whether a condition is on a figure computed from touches or referrals."""
        return self.status is not None or self.tier is not None


@dataclasses.dataclass(frozen=True)
class _Row:
    """The columns of a source that its summary and health need."""

    id: int
    kind: SourceKind
    name: str
    practice_id: int | None
    practice_name: str | None
    practice_cadence: int | None
    title: str | None
    cadence_days: int | None
    owner_email: str | None


@functools.cache
def _rows_query() -> tuple[Select[*tuple[Any, ...]], Any]:
    """Select _Row's columns; returns the query and its alias of the practice.

    Built once.  Adding conditions to the returned query makes a new
    query, so callers can share it.
    """
    practice = aliased(ReferralSource)
    query = (
        select(
            ReferralSource.id,
            ReferralSource.kind,
            ReferralSource.name,
            ReferralSource.practice_id,
            practice.name,
            practice.cadence_days,
            ReferralSource.title,
            ReferralSource.cadence_days,
            StaffMember.email,
        )
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .outerjoin(StaffMember, StaffMember.id == ReferralSource.owner_id)
    )
    return query, practice


_AGED_OUT = (
    select(TouchpointMonthCount.source_id, func.max(TouchpointMonthCount.last_touch_at))
    .where(
        TouchpointMonthCount.workspace_id == bindparam("workspace_id"),
        TouchpointMonthCount.last_touch_at <= bindparam("as_of"),
        TouchpointMonthCount.source_id.in_(bindparam("ids", expanding=True)),
    )
    .group_by(TouchpointMonthCount.source_id)
)


def last_touches_of(
    session: Session, workspace_id: int, ids: Sequence[int], as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each of the source `ids` to its newest confirmed touch up to `as_of`.

    The rule of warmline.relationships.last_touches, which the cold list
    uses, read for a few sources instead of the whole workspace, with the
    monthly counts that retention keeps.
    """
    touches = relationships.last_touches_of(session, workspace_id, ids, as_of)
    if not ids:
        return touches
    values = {"workspace_id": workspace_id, "as_of": as_of, "ids": list(ids)}
    aged_out = session.execute(_AGED_OUT, values)
    for source_id, touched in aged_out:
        moment = utc_aware(touched)
        if source_id not in touches or touches[source_id] < moment:
            touches[source_id] = moment
    return touches


def _cadence(
    row: _Row, figures: LearnedFigures | None, policy: ReminderPolicy
) -> int | None:
    """Return the cadence the cold list gives `row` (warmline.remind.cold).

    A contact without a cadence of its own has none, because it counts toward
    its practice.  Other sources fall back to their practice's cadence, then
    to the cadence learned from their touches, then to the workspace default.
    """
    if row.kind is SourceKind.CONTACT and row.cadence_days is None:
        return None
    return stored_cadence(row.cadence_days, row.practice_cadence, figures, policy).days


def _summaries(
    session: Session, workspace_id: int, rows: Sequence[_Row], as_of: dt.datetime
) -> list[SourceSummary]:
    """Build the summaries of `rows`, reading the last touches of those alone."""
    settings = workspace_settings(session, workspace_id)
    policy = reminder_policy(settings)
    ids = [row.id for row in rows]
    touches = last_touches_of(session, workspace_id, ids, as_of)
    learned = learned_figures(session, workspace_id, as_of, list(touches), only=ids)
    referrals = referrals_year(session, workspace_id, as_of, ids)
    return [
        SourceSummary(
            id=row.id,
            kind=row.kind,
            name=row.name,
            practice_id=row.practice_id,
            practice_name=row.practice_name,
            title=row.title,
            owner_email=row.owner_email,
            health=Health(
                _cadence(row, learned.get(row.id), policy), touches.get(row.id), as_of
            ),
            referrals_year=referrals.get(row.id, 0),
            tier=tier_of(referrals.get(row.id, 0), settings),
        )
        for row in rows
    ]


def _referrals_year_query() -> Select[*tuple[Any, ...]]:
    """Sum the referrals since the bound "start" per source and its practice."""
    return (
        select(ReferralSource.id, ReferralSource.practice_id, func.sum(Referral.count))
        .join(Referral, Referral.source_id == ReferralSource.id)
        .where(
            Referral.workspace_id == bindparam("workspace_id"),
            Referral.received_on >= bindparam("start"),
            Referral.received_on <= bindparam("end"),
        )
        .group_by(ReferralSource.id, ReferralSource.practice_id)
    )


_REFERRALS_YEAR = _referrals_year_query()
_PEOPLE_OF = select(ReferralSource.id, ReferralSource.practice_id).where(
    ReferralSource.practice_id.in_(bindparam("ids", expanding=True))
)
_REFERRALS_YEAR_BY_SOURCE = (
    select(Referral.source_id, func.sum(Referral.count))
    .where(
        Referral.workspace_id == bindparam("workspace_id"),
        Referral.source_id.in_(bindparam("ids", expanding=True)),
        Referral.received_on >= bindparam("start"),
        Referral.received_on <= bindparam("end"),
    )
    .group_by(Referral.source_id)
)


def referrals_year(
    session: Session,
    workspace_id: int,
    as_of: dt.datetime,
    ids: Sequence[int] | None = None,
) -> dict[int, int]:
    """Map sources to their referrals in the 365 days to `as_of`.

    A practice's count includes its providers' and contacts', as in the cold
    list.  With `ids`, only those sources are read: their people first, then
    the referrals of both, because one join over both conditions made
    PostgreSQL scan every source (4.6 ms instead of about 1 for a page of 100).
    """
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "start": as_of.date() - dt.timedelta(days=VOLUME_DAYS),
        "end": as_of.date(),
    }
    rows: list[tuple[int, int | None, int]]
    if ids is None:
        rows = [tuple(row) for row in session.execute(_REFERRALS_YEAR, values)]
    else:
        practice_of = dict(session.execute(_PEOPLE_OF, {"ids": list(ids)}).all())
        members = sorted({*ids, *practice_of})
        rows = [
            (source_id, practice_of.get(source_id), count)
            for source_id, count in session.execute(
                _REFERRALS_YEAR_BY_SOURCE, {**values, "ids": members}
            )
        ]
    counts: dict[int, int] = {}
    for source_id, practice_id, count in rows:
        counts[source_id] = counts.get(source_id, 0) + count
        if practice_id is not None:
            counts[practice_id] = counts.get(practice_id, 0) + count
    return counts


def source_facets(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, tuple[SourceStatus, Tier]]:
    """Map every source of the workspace to its status and tier at `as_of`.

    The same figures as the summaries, read for the whole workspace at once,
    so that the Sources page can filter on them.
    """
    settings = workspace_settings(session, workspace)
    policy = reminder_policy(settings)
    query, _practice = _rows_query()
    rows = [
        _Row(*row)
        for row in session.execute(
            query.where(ReferralSource.workspace_id == workspace.id)
        )
    ]
    touches = relationships.last_touches(session, workspace, as_of)
    learned = learned_figures(session, workspace.id, as_of, list(touches))
    referrals = referrals_year(session, workspace.id, as_of)
    facets = {}
    for row in rows:
        cadence = _cadence(row, learned.get(row.id), policy)
        health = Health(cadence, touches.get(row.id), as_of)
        facets[row.id] = (
            status_of(health),
            tier_of(referrals.get(row.id, 0), settings),
        )
    return facets


def search_ids(session: Session, workspace_id: int, search: SourceSearch) -> list[int]:
    """Return the ids of the sources that match the search's stored columns.

    In the Sources page's order; the status and tier are not tested here.
    """
    practice = aliased(ReferralSource)
    query = (
        select(ReferralSource.id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .where(ReferralSource.workspace_id == workspace_id)
    )
    if search.text:
        pattern = like_pattern(search.text.lower())
        query = query.where(
            or_(
                ReferralSource.name.ilike(pattern, escape="\\"),
                cast(ReferralSource.emails, String).ilike(pattern, escape="\\"),
                cast(ReferralSource.domains, String).ilike(pattern, escape="\\"),
                practice.name.ilike(pattern, escape="\\"),
            )
        )
    if search.owner_id is not None:
        query = query.where(ReferralSource.owner_id == search.owner_id)
    if search.kind is not None:
        query = query.where(ReferralSource.kind == search.kind)
    return list(session.scalars(query.order_by(*_listing_order(practice))))


def _listing_order(practice: Any) -> list[ColumnElement[Any]]:
    # People follow their practice, as in `warmline sources list`.
    return [
        func.lower(func.coalesce(practice.name, ReferralSource.name)),
        ReferralSource.practice_id.is_not(None),
        func.lower(ReferralSource.name),
        ReferralSource.id.expression,
    ]


def listing_order(session: Session, workspace_id: int) -> list[int]:
    """Return the ids of every source of the workspace in the Sources page's order.

    Sorting 10,000 sources by their practice's name takes 10 to 20 ms on
    PostgreSQL, so the page keeps this list (web.summaries) and cuts its
    unfiltered pages from it with `sources_by_id`.
    """
    practice = aliased(ReferralSource)
    query = (
        select(ReferralSource.id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .where(ReferralSource.workspace_id == workspace_id)
        .order_by(*_listing_order(practice))
    )
    return list(session.scalars(query))


@functools.cache
def _by_id_query() -> Select[*tuple[Any, ...]]:
    """Select _Row's columns for the bound "ids" of the bound "workspace_id"."""
    query, _practice = _rows_query()
    return query.where(
        ReferralSource.workspace_id == bindparam("workspace_id"),
        ReferralSource.id.in_(bindparam("ids", expanding=True)),
    )


def sources_by_id(
    session: Session, workspace_id: int, ids: Sequence[int], as_of: dt.datetime
) -> list[SourceSummary]:
    """Return the summaries of the sources `ids`, in that order.

    Ids of other workspaces and of deleted sources are left out.
    """
    values = {"workspace_id": workspace_id, "ids": list(ids)}
    found = {
        row.id: row
        for row in (_Row(*row) for row in session.execute(_by_id_query(), values))
    }
    rows = [found[source_id] for source_id in ids if source_id in found]
    return _summaries(session, workspace_id, rows, as_of)


@dataclasses.dataclass(frozen=True)
class SourceDetail:
    source: ReferralSource
    summary: SourceSummary
    people: list[SourceSummary]
    """For a practice, its providers and contacts; for a person, their colleagues."""


_SOURCE = select(ReferralSource).where(
    ReferralSource.workspace_id == bindparam("workspace_id"),
    ReferralSource.id == bindparam("source_id"),
)


@functools.cache
def _with_colleagues_query() -> Select[*tuple[Any, ...]]:
    """Select _Row's columns for a source and its colleagues, in one query.

    The colleagues are the sources whose practice is the bound
    "practice_id": for a practice its people, for a person the others at
    their practice.
    """
    query, _practice = _rows_query()
    return query.where(
        ReferralSource.workspace_id == bindparam("workspace_id"),
        or_(
            ReferralSource.id == bindparam("source_id"),
            ReferralSource.practice_id == bindparam("practice_id"),
        ),
    ).order_by(ReferralSource.name, ReferralSource.id)


def get_source(
    session: Session, workspace_id: int, source_id: int, as_of: dt.datetime
) -> SourceDetail | None:
    source = session.scalar(
        _SOURCE, {"workspace_id": workspace_id, "source_id": source_id}
    )
    if source is None:
        return None
    values = {
        "workspace_id": workspace_id,
        "source_id": source.id,
        "practice_id": source.practice_id or source.id,
    }
    rows = [_Row(*row) for row in session.execute(_with_colleagues_query(), values)]
    own = [row for row in rows if row.id == source.id]
    colleagues = [row for row in rows if row.id != source.id]
    summaries = _summaries(session, workspace_id, [*own, *colleagues], as_of)
    practice_name = own[0].practice_name or source.name
    people = [
        dataclasses.replace(summary, practice_name=practice_name)
        for summary in summaries[1:]
    ]
    return SourceDetail(source=source, summary=summaries[0], people=people)


def owners(session: Session, workspace_id: int) -> list[StaffMember]:
    return list(
        session.scalars(
            select(StaffMember)
            .where(StaffMember.workspace_id == workspace_id)
            .order_by(StaffMember.name)
        )
    )


def month_starts(as_of: dt.date, months: int) -> list[dt.date]:
    """Return the first days of `months` calendar months, the last `as_of`'s."""
    index = as_of.year * 12 + as_of.month - 1
    return [
        dt.date(number // 12, number % 12 + 1, 1)
        for number in range(index - months + 1, index + 1)
    ]


def _referrals_query() -> Select[dt.date, int]:
    """Select the referrals of a source and of the people at it in a period."""
    ids = select(ReferralSource.id).where(
        ReferralSource.workspace_id == bindparam("workspace_id"),
        or_(
            ReferralSource.id == bindparam("source_id"),
            ReferralSource.practice_id == bindparam("source_id"),
        ),
    )
    return select(Referral.received_on, Referral.count).where(
        Referral.workspace_id == bindparam("workspace_id"),
        Referral.source_id.in_(ids),
        Referral.received_on >= bindparam("start"),
        Referral.received_on <= bindparam("end"),
    )


_REFERRALS = _referrals_query()


def monthly_referrals(
    session: Session,
    workspace_id: int,
    source: ReferralSource,
    as_of: dt.datetime,
    months: int = MONTHS_SHOWN,
) -> tuple[list[dt.date], list[int]]:
    """Count a source's referrals in each of the last `months` calendar months.

    A practice's referrals include those of its providers and contacts, as
    in the cold list.  Months are cut on the referral's date as received.
    """
    starts = month_starts(as_of.date(), months)
    values = {
        "workspace_id": workspace_id,
        "source_id": source.id,
        "start": starts[0],
        "end": as_of.date(),
    }
    rows = session.execute(_REFERRALS, values)
    counts = [0] * months
    for received_on, count in rows:
        index = (received_on.year - starts[0].year) * 12 + received_on.month
        counts[index - starts[0].month] += count
    return starts, counts


def referrals_bar_chart(
    name: str, starts: list[dt.date], counts: list[int]
) -> BarChart:
    """Draw a source's referrals per month as one bar per month."""
    # The year is written under the first month and under each January.
    labels = [
        f"{start:%b %y}" if index == 0 or start.month == 1 else f"{start:%b}"
        for index, start in enumerate(starts)
    ]
    return stacked_bars(
        "referrals-chart",
        f"Referrals per month from {name}",
        f"Referrals received in each of the last {len(starts)} calendar months, "
        "the current month last.",
        [f"{start:%B %Y}" for start in starts],
        [Series("Referrals", counts)],
        labels,
        show_legend=False,
    )
