"""Choosing a source's cadence: own, practice, learned from history, default."""

from __future__ import annotations

import datetime as dt

from reminders.cadence import CadenceBasis, choose_cadence, learned_interval
from reminders.records import ReminderPolicy
from tests.reminders.records import AS_OF, days_ago, profile

POLICY = ReminderPolicy(default_cadence_days=30, learned_min_touch_days=6)
EVERY_TWO_WEEKS = [days_ago(14 * n) for n in range(1, 9)]


def test_own_cadence_wins():
    source = profile(cadence_days=10, practice_cadence_days=20)

    cadence = choose_cadence(source, EVERY_TWO_WEEKS, AS_OF, POLICY)

    assert cadence.days == 10
    assert cadence.basis is CadenceBasis.OWN


def test_practice_cadence_before_learned():
    person = profile(2, kind="provider", practice_id=1, practice_cadence_days=20)

    cadence = choose_cadence(person, EVERY_TWO_WEEKS, AS_OF, POLICY)

    assert cadence.days == 20
    assert cadence.basis is CadenceBasis.PRACTICE


def test_learned_from_median_gap():
    cadence = choose_cadence(profile(), EVERY_TWO_WEEKS, AS_OF, POLICY)

    assert cadence.days == 14
    assert cadence.basis is CadenceBasis.LEARNED


def test_too_few_touch_days_gives_default():
    few = EVERY_TWO_WEEKS[:5]

    cadence = choose_cadence(profile(), few, AS_OF, POLICY)

    assert cadence.days == 30
    assert cadence.basis is CadenceBasis.DEFAULT


def test_same_day_touches_count_once():
    noons = [days_ago(14 * n) + dt.timedelta(hours=12) for n in range(1, 5)]
    thread = noons + [noon + dt.timedelta(hours=3) for noon in noons]

    assert learned_interval(thread, AS_OF, min_touch_days=4) == 14
    assert learned_interval(thread, AS_OF, min_touch_days=5) is None


def test_learned_interval_ignores_touches_older_than_a_year():
    old = [days_ago(400 + 3 * n) for n in range(10)]

    assert learned_interval(old + EVERY_TWO_WEEKS[:3], AS_OF, 6) is None


def test_learned_interval_never_below_a_week():
    daily = [days_ago(n) for n in range(1, 20)]

    assert learned_interval(daily, AS_OF, 6) == 7


def test_median_resists_one_long_gap():
    touches = [days_ago(d) for d in (10, 20, 30, 40, 50, 250)]

    assert learned_interval(touches, AS_OF, 6) == 10
