"""Planning follow-ups: cold sources, open loops and thank-yous after meetings."""

from __future__ import annotations

import dataclasses
import datetime as dt

from reminders.followups import (
    ClosedBy,
    PlanInput,
    Reason,
    StoredFollowUp,
    plan_follow_ups,
)
from reminders.health import assess_sources
from reminders.loops import open_loops
from reminders.records import Meeting, ReminderPolicy
from tests.reminders.records import AS_OF, days_ago, profile, referral, touch

POLICY = ReminderPolicy(default_cadence_days=30)
OWNER, PRACTICE_OWNER, TOUCHER = 1, 2, 3
ZONES = {OWNER: "America/Chicago", PRACTICE_OWNER: "UTC", TOUCHER: "UTC"}


def plan_for(profiles, touches=None, referrals=(), meetings=(), stored=(), as_of=AS_OF):
    touches = touches or {}
    return plan_follow_ups(
        PlanInput(
            as_of=as_of,
            healths=assess_sources(profiles, touches, referrals, as_of, POLICY),
            profiles={p.source_id: p for p in profiles},
            touches=touches,
            loops=open_loops(referrals, as_of, POLICY.loop_close_days),
            meetings=meetings,
            stored=stored,
            staff_zones=ZONES,
        )
    )


def stored(follow_up_id, source_id, reason, *, is_open=True, basis_at=None, **more):
    return StoredFollowUp(
        follow_up_id=follow_up_id,
        source_id=source_id,
        reason=reason,
        is_open=is_open,
        basis_at=basis_at,
        closed_at=more.get("closed_at"),
        closed_by=more.get("closed_by"),
    )


def test_cold_follow_up_goes_to_owner():
    source = profile(1, owner_id=OWNER, practice_owner_id=PRACTICE_OWNER)

    plan = plan_for([source], {1: [touch(1, days_ago(40), staff_id=TOUCHER)]})

    (created,) = plan.create
    assert created.reason is Reason.COLD
    assert created.staff_id == OWNER
    # Midnight UTC on 1 December is still 30 November in Chicago.
    assert created.due_on == dt.date(2026, 11, 30)
    assert created.basis_at == days_ago(40)
    assert "40 days since the last touch; cadence 30 days (default)" in created.note


def test_assignee_falls_back_to_practice_owner_then_toucher():
    person = profile(
        2, kind="provider", practice_id=1, practice_owner_id=PRACTICE_OWNER
    )
    practice = profile(1)
    touches = {
        1: [touch(1, days_ago(40), staff_id=TOUCHER)],
        2: [touch(2, days_ago(40), staff_id=TOUCHER)],
    }

    plan = plan_for([practice, person], touches)

    assignees = {new.source_id: new.staff_id for new in plan.create}
    assert assignees == {1: TOUCHER, 2: PRACTICE_OWNER}


def test_never_touched_without_owner_gets_nothing():
    plan = plan_for([profile(1), profile(2, owner_id=OWNER)])

    assert [new.source_id for new in plan.create] == [2]
    assert plan.unassigned == []


def test_unassigned_reported():
    referrals = [referral(1, dt.date(2026, 11, 25), referral_id=4)]

    plan = plan_for([profile(1)], referrals=referrals)

    assert plan.create == []
    assert plan.unassigned == [(1, Reason.CLOSE_LOOP)]


def test_one_open_follow_up_per_reason():
    source = profile(1, owner_id=OWNER)
    existing = [stored(8, 1, Reason.COLD)]

    plan = plan_for([source], {1: [touch(1, days_ago(40))]}, stored=existing)

    assert plan.create == []
    assert plan.close == []


def test_cold_closed_as_done_when_touched():
    existing = [stored(8, 1, Reason.COLD, basis_at=days_ago(40))]

    plan = plan_for(
        [profile(1, owner_id=OWNER)], {1: [touch(1, days_ago(2))]}, stored=existing
    )

    (closure,) = plan.close
    assert closure.follow_up_id == 8
    assert closure.done
    assert closure.closed_by is ClosedBy.TOUCHPOINT


def test_cold_dismissed_when_cadence_changed():
    existing = [stored(8, 1, Reason.COLD, basis_at=days_ago(40))]
    source = profile(1, owner_id=OWNER, cadence_days=60)

    plan = plan_for([source], {1: [touch(1, days_ago(40))]}, stored=existing)

    (closure,) = plan.close
    assert not closure.done
    assert closure.closed_by is ClosedBy.RESOLVED


def test_done_by_hand_waits_one_cadence():
    source = profile(1, owner_id=OWNER)
    touches = {1: [touch(1, days_ago(100))]}
    recent = [
        stored(
            8,
            1,
            Reason.COLD,
            is_open=False,
            closed_at=days_ago(10),
            closed_by=ClosedBy.STAFF,
        )
    ]
    older = [
        stored(
            8,
            1,
            Reason.COLD,
            is_open=False,
            closed_at=days_ago(31),
            closed_by=ClosedBy.STAFF,
        )
    ]

    assert plan_for([source], touches, stored=recent).create == []
    assert len(plan_for([source], touches, stored=older).create) == 1


def test_loop_follow_up_due_after_earliest_referral():
    source = profile(1, owner_id=OWNER)
    referrals = [
        referral(1, dt.date(2026, 11, 20), referral_id=5),
        referral(1, dt.date(2026, 11, 12), referral_id=4, count=2),
    ]
    touches = {1: [touch(1, days_ago(3), direction="inbound")]}

    plan = plan_for([source], touches, referrals)

    (created,) = plan.create
    assert created.reason is Reason.CLOSE_LOOP
    assert created.due_on == dt.date(2026, 11, 26)
    assert created.note == "3 referral(s) open since 2026-11-12"


def test_loop_follow_up_closed_when_no_referral_open():
    closed = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)
    referrals = [referral(1, dt.date(2026, 11, 12), referral_id=4, closed_at=closed)]
    existing = [stored(8, 1, Reason.CLOSE_LOOP)]
    touches = {1: [touch(1, days_ago(3))]}

    plan = plan_for([profile(1, owner_id=OWNER)], touches, referrals, stored=existing)

    (closure,) = plan.close
    assert closure.follow_up_id == 8
    assert closure.done
    assert closure.closed_by is ClosedBy.RESOLVED
    assert plan.create == []


FRIDAY_LUNCH = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)  # noon in Chicago


def lunch(source_id=2, practice_id=1, at=FRIDAY_LUNCH):
    return Meeting(
        activity_id=70,
        source_id=source_id,
        practice_id=practice_id,
        occurred_at=at,
        staff_id=TOUCHER,
    )


def thank_yous(plan):
    return [new for new in plan.create if new.reason is Reason.THANK_YOU]


def people():
    return [
        profile(1, owner_id=OWNER),
        profile(2, kind="provider", practice_id=1, practice_owner_id=OWNER),
    ]


def test_thank_you_due_next_working_day():
    touches = {
        1: [touch(1, FRIDAY_LUNCH, kind="meeting", direction=None)],
        2: [touch(2, FRIDAY_LUNCH, kind="meeting", direction=None)],
    }

    plan = plan_for(people(), touches, meetings=[lunch()])

    (created,) = plan.create
    assert created.reason is Reason.THANK_YOU
    assert created.source_id == 2
    assert created.staff_id == OWNER
    assert created.due_on == dt.date(2026, 11, 30)
    assert created.activity_id == 70
    assert created.basis_at == FRIDAY_LUNCH


def test_no_thank_you_after_outbound_email():
    email = touch(1, FRIDAY_LUNCH + dt.timedelta(hours=3))
    touches = {1: [touch(1, FRIDAY_LUNCH, kind="meeting", direction=None), email]}

    plan = plan_for(people(), touches, meetings=[lunch()])

    assert thank_yous(plan) == []


def test_thank_you_closed_by_outbound_email():
    sent = FRIDAY_LUNCH + dt.timedelta(days=1)
    touches = {
        1: [touch(1, FRIDAY_LUNCH, kind="meeting", direction=None), touch(1, sent)]
    }
    existing = [stored(8, 2, Reason.THANK_YOU, basis_at=FRIDAY_LUNCH)]

    plan = plan_for(people(), touches, meetings=[lunch()], stored=existing)

    (closure,) = plan.close
    assert closure.done
    assert closure.closed_at == sent
    assert thank_yous(plan) == []


def test_thank_you_once_per_meeting():
    touches = {1: [touch(1, FRIDAY_LUNCH, kind="meeting", direction=None)]}
    closed = [
        stored(
            8,
            2,
            Reason.THANK_YOU,
            is_open=False,
            basis_at=FRIDAY_LUNCH,
            closed_by=ClosedBy.STAFF,
        )
    ]

    plan = plan_for(people(), touches, meetings=[lunch()], stored=closed)

    assert thank_yous(plan) == []


def test_old_meeting_gets_no_thank_you():
    old = lunch(at=AS_OF - dt.timedelta(days=8))

    plan = plan_for(
        people(),
        {1: [touch(1, old.occurred_at, kind="meeting", direction=None)]},
        meetings=[old],
    )

    assert thank_yous(plan) == []


def test_plan_twice_is_stable():
    source = profile(1, owner_id=OWNER)
    touches = {1: [touch(1, days_ago(40))]}
    first = plan_for([source], touches)
    existing = [
        stored(index, new.source_id, new.reason, basis_at=new.basis_at)
        for index, new in enumerate(first.create)
    ]

    second = plan_for([source], touches, stored=existing)

    assert len(first.create) == 1
    assert dataclasses.astuple(second)[:2] == ([], [])
