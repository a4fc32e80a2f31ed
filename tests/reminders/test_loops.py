"""Closing the loop after a referral."""

from __future__ import annotations

import datetime as dt

from reminders.loops import find_closings, open_loops
from tests.reminders.records import AS_OF, referral, touch

RECEIVED = dt.date(2026, 11, 10)
MIDNIGHT = dt.datetime(2026, 11, 10, tzinfo=dt.UTC)


def test_first_outbound_email_closes():
    referrals = [referral(5, RECEIVED, practice_id=1, referral_id=9)]
    touches = {
        1: [
            touch(1, MIDNIGHT + dt.timedelta(days=4)),
            touch(1, MIDNIGHT + dt.timedelta(days=2)),
        ]
    }

    closings = find_closings(referrals, touches, AS_OF)

    assert closings == {9: MIDNIGHT + dt.timedelta(days=2)}


def test_inbound_mail_and_meetings_do_not_close():
    referrals = [referral(1, RECEIVED, referral_id=9)]
    touches = {
        1: [
            touch(1, MIDNIGHT + dt.timedelta(days=1), direction="inbound"),
            touch(1, MIDNIGHT + dt.timedelta(days=2), kind="meeting", direction=None),
        ]
    }

    assert find_closings(referrals, touches, AS_OF) == {}


def test_email_before_referral_does_not_close():
    referrals = [referral(1, RECEIVED, referral_id=9)]
    touches = {1: [touch(1, MIDNIGHT - dt.timedelta(minutes=1))]}

    assert find_closings(referrals, touches, AS_OF) == {}


def test_email_after_as_of_does_not_close():
    referrals = [referral(1, RECEIVED, referral_id=9)]
    touches = {1: [touch(1, AS_OF + dt.timedelta(hours=1))]}

    assert find_closings(referrals, touches, AS_OF) == {}


def test_closed_referral_not_closed_again():
    referrals = [referral(1, RECEIVED, referral_id=9, closed_at=MIDNIGHT)]
    touches = {1: [touch(1, MIDNIGHT + dt.timedelta(days=1))]}

    assert find_closings(referrals, touches, AS_OF) == {}


def test_open_loops_due_after_delay():
    referrals = [
        referral(1, dt.date(2026, 11, 20), referral_id=2),
        referral(1, dt.date(2026, 11, 1), referral_id=1),
        referral(1, dt.date(2026, 10, 1), referral_id=3, closed_at=MIDNIGHT),
        referral(1, dt.date(2026, 12, 3), referral_id=4),
    ]

    loops = open_loops(referrals, AS_OF, 14)

    assert [loop.referral.referral_id for loop in loops] == [1, 2]
    assert loops[0].due_on == dt.date(2026, 11, 15)
    assert loops[0].overdue(AS_OF.date())
    assert not loops[1].overdue(AS_OF.date())
