"""Referral drift: the last 90 days against the source's own baseline."""

from __future__ import annotations

import datetime as dt

from reminders.drift import referral_trend
from reminders.records import DriftRule
from tests.reminders.records import referral

TODAY = dt.date(2026, 12, 1)
RULE = DriftRule()


def monthly(count_per_month: int, months: range) -> list:
    return [
        referral(1, TODAY - dt.timedelta(days=30 * month + 5), count=count_per_month)
        for month in months
    ]


def test_drop_below_half_flagged():
    history = monthly(2, range(3, 17)) + monthly(1, range(0, 2))

    trend = referral_trend(history, TODAY, RULE)

    assert trend is not None
    assert trend.recent == 2
    assert round(trend.expected, 1) == 5.9
    assert trend.flagged


def test_steady_source_not_flagged():
    history = monthly(2, range(0, 15))

    trend = referral_trend(history, TODAY, RULE)

    assert trend is not None
    assert trend.recent == 6
    assert not trend.flagged


def test_exactly_half_not_flagged():
    # 24 a year predict 5.92 in 90 days; 3 is not below half of that.
    history = monthly(2, range(3, 17)) + monthly(1, range(0, 3))

    trend = referral_trend(history, TODAY, RULE)

    assert trend is not None
    assert trend.recent == 3
    assert not trend.flagged


def test_small_source_never_flagged():
    history = [referral(1, TODAY - dt.timedelta(days=days)) for days in (100, 200, 300)]

    trend = referral_trend(history, TODAY, RULE)

    assert trend is not None
    assert trend.recent == 0
    assert trend.expected < RULE.min_expected
    assert not trend.flagged


def test_short_history_not_judged():
    history = [referral(1, TODAY - dt.timedelta(days=days)) for days in (20, 120, 150)]

    assert referral_trend(history, TODAY, RULE) is None


def test_baseline_starts_at_first_referral():
    # Six months of baseline: 12 referrals in about 182 days predict 5.9.
    first = TODAY - dt.timedelta(days=90 + 182)
    history = [referral(1, first + dt.timedelta(days=15 * n)) for n in range(12)]

    trend = referral_trend(history, TODAY, RULE)

    assert trend is not None
    assert trend.baseline == 12
    assert trend.baseline_days == 183
    assert trend.flagged


def test_thresholds_come_from_rule():
    history = monthly(2, range(3, 17)) + monthly(1, range(0, 3))
    strict = DriftRule(ratio=0.6)

    trend = referral_trend(history, TODAY, strict)

    assert trend is not None
    assert trend.flagged
