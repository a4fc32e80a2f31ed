"""The ranked list of sources going cold, for the command line and the site.

Two readers build the same `SourceHealth` records and rank them with
`reminders.rank_cold`:

- `ranked_cold` judges the full reminder state, which contains every confirmed
  touch, for the reminder pass that needs those touches anyway;
- `cold_sources`, for `warmline cold`, the Today page and `GET /api/cold`,
  reads each source's stored last touch (warmline.last_touch) and stored
  learned cadence (warmline.learned_cadence) instead, so it stays fast on a
  large workspace.  Its result equals `ranked_cold`'s, except that
  `last_staff_id` is None and that a learned cadence may lag by up to two
  days (warmline.learned_cadence.STALE_ALLOWANCE).

The site keeps each workspace's list between requests with
warmline.kept_results.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from reminders import (
    Cadence,
    CadenceBasis,
    ReferralRecord,
    ReminderPolicy,
    ReminderState,
    SourceHealth,
    health_flags,
    rank_cold,
)
from reminders.health import VOLUME_DAYS, assess_source
from reminders.state import tracked
from warmline import learned_cadence, privacy, relationships
from warmline.models import Referral, ReferralSource, Workspace
from warmline.remind.state import (
    profile_from_row,
    profile_rows,
    reminder_policy,
    staff_emails,
)
from warmline.workspaces import workspace_settings


def ranked_cold(
    session: Session, workspace: Workspace, state: ReminderState
) -> list[SourceHealth]:
    """Return the cold sources of `state`, most urgent first.

    Touchpoints aged out by retention live on only as monthly counts, so a
    source's last touch is the newer of its live touches and those counts.
    """
    kept = privacy.aggregated_last_touches(session, workspace, state.as_of)
    healths = [
        _with_kept_touch(health, kept.get(health.profile.source_id))
        for health in state.healths
    ]
    return rank_cold(healths)


def _with_kept_touch(health: SourceHealth, kept: dt.datetime | None) -> SourceHealth:
    if kept is None or (health.last_touch is not None and health.last_touch >= kept):
        return health
    return dataclasses.replace(
        health,
        last_touch=kept,
        last_staff_id=None,
        days_since=(health.as_of - kept).days,
    )


def cold_sources(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[SourceHealth]:
    """Return the sources going cold as of `as_of`, most urgent first.

    Reads stored last touches and learned cadences; see the module docstring.
    """
    policy = reminder_policy(workspace_settings(session, workspace))
    touches = relationships.last_touches(session, workspace, as_of)
    learned = learned_cadence.learned_figures(session, workspace.id, as_of, touches)
    summaries = referral_summaries(session, workspace, as_of.date(), policy)
    referrals = _referrals_by_source(summaries)
    healths = []
    for row in profile_rows(session, workspace):
        figures = learned.get(row.id)
        cadence = stored_cadence(
            row.cadence_days, row.practice_cadence_days, figures, policy
        )
        last_touch = touches.get(row.id)
        if last_touch is not None and (as_of - last_touch).days <= cadence.days:
            continue  # warm, so its profile and referrals are not needed
        profile = profile_from_row(row)
        own = referrals.get((profile.kind == "practice", profile.source_id), [])
        health = assess_source(profile, (), own, as_of, policy)
        healths.append(
            dataclasses.replace(
                health,
                cadence=cadence,
                last_touch=last_touch,
                days_since=(as_of - last_touch).days if last_touch else None,
            )
        )
    judged = {health.profile.source_id: health.profile for health in healths}
    kept = {profile.source_id for profile in tracked(judged)}
    healths = [health for health in healths if health.profile.source_id in kept]
    return rank_cold(healths)


def referral_summaries(
    session: Session, workspace: Workspace, today: dt.date, policy: ReminderPolicy
) -> list[ReferralRecord]:
    """Summarise each source's referrals into a few records that judge the same.

    reminders.assess_source counts referrals over windows ending today: the
    last `VOLUME_DAYS`, and the drift rule's recent and baseline windows.
    Their start dates cut the time before today into segments, and each
    segment's sum becomes one record on the day of its latest referral, so
    the newest record is the last referral received.  One more record with
    no count carries the first referral received, where the drift baseline
    may start.  Referrals after `today` are left out, as assess_source
    leaves them out.
    """
    recent_start = today - dt.timedelta(days=policy.drift.recent_days)
    starts = {
        today - dt.timedelta(days=VOLUME_DAYS),
        recent_start,
        recent_start - dt.timedelta(days=policy.drift.baseline_days),
    }
    ends = sorted(start for start in starts if start < today) + [today]
    received = Referral.received_on
    segments: list[Any] = []
    for after, until in itertools.pairwise(ends):
        inside = and_(received > after, received <= until)
        segments.append(func.max(case((inside, received))))
        segments.append(func.coalesce(func.sum(case((inside, Referral.count))), 0))
    rows = session.execute(
        select(Referral.source_id, ReferralSource.practice_id, func.min(received))
        .add_columns(*segments)
        .join(ReferralSource, ReferralSource.id == Referral.source_id)
        .where(Referral.workspace_id == workspace.id, received <= today)
        .group_by(Referral.source_id, ReferralSource.practice_id)
    )
    records: list[ReferralRecord] = []
    for source_id, practice_id, first, *sums in rows:
        found = [(first, 0), *zip(sums[::2], sums[1::2], strict=True)]
        records.extend(
            ReferralRecord(
                referral_id=0,
                source_id=source_id,
                practice_id=practice_id or source_id,
                received_on=_date(day),
                count=int(count),
                closed_at=None,
            )
            for day, count in found
            if day is not None
        )
    return records


def _date(value: dt.date | str) -> dt.date:
    # Aggregates bypass the column type, so SQLite returns ISO text.
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _referrals_by_source(
    records: Iterable[ReferralRecord],
) -> Mapping[tuple[bool, int], list[ReferralRecord]]:
    """Group referrals as reminders.assess_sources counts them.

    A practice counts its people's referrals too, so the keys are
    (True, practice id) for practices and (False, source id) for the others.
    """
    grouped: dict[tuple[bool, int], list[ReferralRecord]] = defaultdict(list)
    for record in records:
        grouped[(True, record.practice_id)].append(record)
        grouped[(False, record.source_id)].append(record)
    return grouped


def stored_cadence(
    own_days: int | None,
    practice_days: int | None,
    figures: learned_cadence.LearnedFigures | None,
    policy: ReminderPolicy,
) -> Cadence:
    """Return a source's cadence in the order of reminders.cadence.choose_cadence.

    It takes the stored learned figures in place of the touch times, and
    plain columns in place of a profile, so that only cold sources get a
    profile built.  Tests compare the ranking with the one that uses
    choose_cadence on the same data.
    """
    if own_days:
        return Cadence(own_days, CadenceBasis.OWN)
    if practice_days:
        return Cadence(practice_days, CadenceBasis.PRACTICE)
    learned = figures.learned_days(policy.learned_min_touch_days) if figures else None
    if learned is not None:
        return Cadence(learned, CadenceBasis.LEARNED)
    return Cadence(policy.default_cadence_days, CadenceBasis.DEFAULT)


@dataclasses.dataclass(frozen=True)
class ColdRow:
    """One ranked cold source as the site shows it: `warmline cold`'s columns."""

    rank: int
    source_id: int
    kind: str
    name: str
    practice: str | None
    owner: str | None
    last_touch: dt.datetime | None
    days_since: int | None
    overdue_days: int | None
    cadence_days: int
    cadence_basis: str
    referrals_year: int
    last_referral_on: dt.date | None
    notes: list[str]


def cold_rows(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[ColdRow]:
    """Return `cold_sources` as rows, with each owner's address, most urgent first.

    The owner is the source's own, else its practice's, as `warmline cold`
    prints it.
    """
    emails = staff_emails(session, workspace)
    return [
        ColdRow(
            rank=rank,
            source_id=health.profile.source_id,
            kind=health.profile.kind,
            name=health.profile.name,
            practice=health.profile.practice,
            owner=emails.get(
                health.profile.owner_id or health.profile.practice_owner_id or 0
            ),
            last_touch=health.last_touch,
            days_since=health.days_since,
            overdue_days=health.overdue_days,
            cadence_days=health.cadence.days,
            cadence_basis=health.cadence.basis.value,
            referrals_year=health.referrals_year,
            last_referral_on=health.last_referral_on,
            notes=health_flags(health),
        )
        for rank, health in enumerate(cold_sources(session, workspace, as_of), start=1)
    ]
