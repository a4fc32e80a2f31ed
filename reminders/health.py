"""Relationship health: cadence, days since the last touch, referrals, ranking.

A source is going cold when more whole days than its cadence have passed
since its last confirmed touch.  Cold sources are ranked by priority:

    priority = (days since the last touch / cadence) * (1 + log2(1 + referrals))

where referrals counts the last 365 days.  A source twice past its cadence
with no referrals scores 2; one with 7 referrals scores 8, so volume weighs
in without burying a relationship that is long overdue.  Sources never
touched come after every overdue one, those that send referrals first.

Two cases are called out beside the ranking:

- falling despite touches: the referrals drift (see reminders.drift) while
  the source is still touched within its cadence, so visits alone are not
  keeping the referrals up;
- thank-you owed: the source sent a referral in the last 30 days but is cold
  or was never touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence

from reminders.cadence import Cadence, choose_cadence
from reminders.drift import ReferralTrend, referral_trend
from reminders.records import ReferralRecord, ReminderPolicy, SourceProfile, Touch

THANK_YOU_REFERRAL_DAYS = 30
VOLUME_DAYS = 365


@dataclasses.dataclass(frozen=True)
class SourceHealth:
    """One source's relationship state as of a moment."""

    profile: SourceProfile
    cadence: Cadence
    last_touch: dt.datetime | None
    last_staff_id: int | None
    days_since: int | None
    referrals_year: int
    last_referral_on: dt.date | None
    trend: ReferralTrend | None
    as_of: dt.datetime

    @property
    def never_touched(self) -> bool:
        return self.last_touch is None

    @property
    def cold(self) -> bool:
        return self.days_since is None or self.days_since > self.cadence.days

    @property
    def overdue_days(self) -> int | None:
        if self.days_since is None:
            return None
        return max(0, self.days_since - self.cadence.days)

    @property
    def drifting(self) -> bool:
        return self.trend is not None and self.trend.flagged

    @property
    def falling_despite_touches(self) -> bool:
        return self.drifting and not self.cold

    @property
    def thank_you_owed(self) -> bool:
        if self.last_referral_on is None or not self.cold:
            return False
        age = (self.as_of.date() - self.last_referral_on).days
        return age <= THANK_YOU_REFERRAL_DAYS

    @property
    def priority(self) -> float:
        """Rank of a cold source: overdue ratio weighted by referral volume."""
        if self.days_since is None:
            return 0.0
        volume = 1 + math.log2(1 + self.referrals_year)
        return self.days_since / self.cadence.days * volume


def assess_source(
    profile: SourceProfile,
    touches: Sequence[Touch],
    referrals: Sequence[ReferralRecord],
    as_of: dt.datetime,
    policy: ReminderPolicy,
) -> SourceHealth:
    """Judge one source from its confirmed touches and its referrals."""
    past = [touch for touch in touches if touch.occurred_at <= as_of]
    last = max(past, key=lambda touch: touch.occurred_at, default=None)
    cadence = choose_cadence(profile, [t.occurred_at for t in past], as_of, policy)
    today = as_of.date()
    year_start = today - dt.timedelta(days=VOLUME_DAYS)
    received = [r for r in referrals if r.received_on <= today]
    return SourceHealth(
        profile=profile,
        cadence=cadence,
        last_touch=last.occurred_at if last else None,
        last_staff_id=last.staff_id if last else None,
        days_since=(as_of - last.occurred_at).days if last else None,
        referrals_year=sum(r.count for r in received if r.received_on > year_start),
        last_referral_on=max((r.received_on for r in received), default=None),
        trend=referral_trend(received, today, policy.drift),
        as_of=as_of,
    )


def assess_sources(
    profiles: Iterable[SourceProfile],
    touches: Mapping[int, Sequence[Touch]],
    referrals: Iterable[ReferralRecord],
    as_of: dt.datetime,
    policy: ReminderPolicy,
) -> list[SourceHealth]:
    """Judge every source; a practice's referrals include its people's."""
    referral_list = list(referrals)
    result = []
    for profile in profiles:
        if profile.kind == "practice":
            own = [r for r in referral_list if r.practice_id == profile.source_id]
        else:
            own = [r for r in referral_list if r.source_id == profile.source_id]
        found = touches.get(profile.source_id, ())
        result.append(assess_source(profile, found, own, as_of, policy))
    return result


def rank_cold(healths: Iterable[SourceHealth]) -> list[SourceHealth]:
    """Return the cold sources, highest priority first, never-touched last."""
    cold = [health for health in healths if health.cold]
    touched = [health for health in cold if not health.never_touched]
    never = [health for health in cold if health.never_touched]
    touched.sort(key=lambda health: (-health.priority, health.profile.name))
    never.sort(key=lambda health: (-health.referrals_year, health.profile.name))
    return touched + never


def cadence_label(health: SourceHealth) -> str:
    return f"{health.cadence.days} days ({health.cadence.basis.value})"


def health_flags(health: SourceHealth) -> list[str]:
    """Return the telling cases that apply to a source, in words."""
    flags = []
    if health.thank_you_owed:
        flags.append("thank-you owed: referred recently, not touched")
    if health.falling_despite_touches:
        flags.append("referrals falling despite touches")
    elif health.drifting:
        flags.append("referrals falling")
    return flags
