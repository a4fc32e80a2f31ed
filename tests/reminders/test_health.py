"""Relationship health: going cold, ranking and the telling cases."""

from __future__ import annotations

import datetime as dt

from reminders.health import assess_sources, rank_cold
from reminders.records import ReminderPolicy
from tests.reminders.records import AS_OF, days_ago, profile, referral, touch

POLICY = ReminderPolicy(default_cadence_days=30)
TODAY = AS_OF.date()


def assess(profiles, touches, referrals=()):
    return assess_sources(profiles, touches, referrals, AS_OF, POLICY)


def names(healths):
    return [health.profile.name for health in healths]


def test_cold_only_past_cadence():
    healths = assess(
        [profile(1, name="Due today"), profile(2, name="Past")],
        {1: [touch(1, days_ago(30))], 2: [touch(2, days_ago(31))]},
    )

    assert names(rank_cold(healths)) == ["Past"]
    assert healths[1].overdue_days == 1


def test_referral_volume_raises_rank():
    profiles = [profile(1, name="Quiet"), profile(2, name="Busy")]
    touches = {1: [touch(1, days_ago(90))], 2: [touch(2, days_ago(60))]}
    referrals = [referral(2, TODAY - dt.timedelta(days=d)) for d in range(10, 200, 20)]

    ranked = rank_cold(assess(profiles, touches, referrals))

    assert names(ranked) == ["Busy", "Quiet"]
    assert ranked[0].referrals_year == 10
    assert ranked[0].priority > ranked[1].priority


def test_never_touched_last_referring_first():
    profiles = [
        profile(1, name="Untouched A"),
        profile(2, name="Untouched B"),
        profile(3, name="Overdue"),
    ]
    referrals = [referral(2, TODAY - dt.timedelta(days=5))]

    ranked = rank_cold(assess(profiles, {3: [touch(3, days_ago(40))]}, referrals))

    assert names(ranked) == ["Overdue", "Untouched B", "Untouched A"]
    assert ranked[1].never_touched


def test_thank_you_owed_when_cold_and_referring():
    profiles = [profile(1, name="Cold"), profile(2, name="Warm")]
    touches = {1: [touch(1, days_ago(60))], 2: [touch(2, days_ago(3))]}
    referrals = [
        referral(1, TODAY - dt.timedelta(days=10)),
        referral(2, TODAY - dt.timedelta(days=10)),
    ]

    cold, warm = assess(profiles, touches, referrals)

    assert cold.thank_you_owed
    assert not warm.thank_you_owed


def test_thank_you_not_owed_for_old_referral():
    health = assess(
        [profile(1)],
        {1: [touch(1, days_ago(90))]},
        [referral(1, TODAY - dt.timedelta(days=45))],
    )[0]

    assert not health.thank_you_owed


def test_falling_despite_touches():
    referrals = [
        referral(1, TODAY - dt.timedelta(days=30 * month + 5), count=2)
        for month in range(3, 17)
    ]
    touches = {1: [touch(1, days_ago(d)) for d in (5, 20, 40)]}

    health = assess([profile(1)], touches, referrals)[0]

    assert health.drifting
    assert not health.cold
    assert health.falling_despite_touches


def test_practice_counts_its_peoples_referrals():
    practice = profile(1, name="Practice")
    provider = profile(2, kind="provider", name="Provider", practice_id=1)
    referrals = [
        referral(2, TODAY - dt.timedelta(days=5), practice_id=1, count=3),
        referral(1, TODAY - dt.timedelta(days=6), count=1),
    ]

    by_practice, by_provider = assess([practice, provider], {}, referrals)

    assert by_practice.referrals_year == 4
    assert by_provider.referrals_year == 3


def test_future_touches_ignored():
    health = assess([profile(1)], {1: [touch(1, AS_OF + dt.timedelta(days=2))]})[0]

    assert health.never_touched
    assert health.cold
