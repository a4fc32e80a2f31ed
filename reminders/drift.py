"""Referral drift: a source sending well fewer referrals than its own baseline.

The recent window is the last `recent_days` (90) days up to the judgment
date.  The baseline is the `baseline_days` (365) days before that window,
scaled to the length of the recent window: with 24 referrals in the baseline
year, 24 * 90 / 365 = 5.9 are expected in 90 days.  When the source's first
known referral falls inside the baseline, the baseline starts there instead,
and a source with less than one recent window of baseline history is not
judged at all.

A source drifts when it was expected to send at least `min_expected` (3)
referrals in the recent window and sent fewer than `ratio` (half) of them.
The minimum keeps sources that send a referral now and then from being
flagged on chance alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from reminders.records import DriftRule, ReferralRecord


@dataclasses.dataclass(frozen=True)
class ReferralTrend:
    """A source's recent referrals against the number its baseline predicts."""

    recent: int
    expected: float
    baseline: int
    baseline_days: int
    flagged: bool

    @property
    def ratio(self) -> float:
        """Recent referrals as a fraction of the expected number."""
        return self.recent / self.expected if self.expected else 0.0


def referral_trend(
    referrals: Iterable[ReferralRecord], as_of: dt.date, rule: DriftRule
) -> ReferralTrend | None:
    """Compare the recent window with the baseline; None if history is too short."""
    records = list(referrals)
    if not records:
        return None
    recent_start = as_of - dt.timedelta(days=rule.recent_days)
    baseline_start = recent_start - dt.timedelta(days=rule.baseline_days)
    first = min(record.received_on for record in records)
    start = max(baseline_start, first - dt.timedelta(days=1))
    baseline_days = (recent_start - start).days
    if baseline_days < rule.recent_days:
        return None
    recent = _count(records, recent_start, as_of)
    baseline = _count(records, start, recent_start)
    expected = baseline * rule.recent_days / baseline_days
    flagged = expected >= rule.min_expected and recent < expected * rule.ratio
    return ReferralTrend(recent, expected, baseline, baseline_days, flagged)


def _count(records: list[ReferralRecord], after: dt.date, until: dt.date) -> int:
    return sum(
        record.count for record in records if after < record.received_on <= until
    )
