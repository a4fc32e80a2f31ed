"""The reminder pass on the database: loops, follow-ups, idempotence."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tests.conftest import MISSING_ID
from tests.reminders.factories import World
from warmline import remind as service
from warmline.models import FollowUp, FollowUpStatus, Referral
from warmline.reminder_models import FollowUpBasis

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)  # a Tuesday, 18:00 Monday in Chicago
LATER = AS_OF + dt.timedelta(days=3)


def days_ago(days: float) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


@pytest.fixture
def world(sessions):
    with sessions.begin() as session:
        yield World(session)


def follow_ups(world: World) -> list[FollowUp]:
    return list(world.session.scalars(select(FollowUp).order_by(FollowUp.id)))


def test_office_staff_touch_counts_for_provider(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Riverside Family Medicine", owner=sam, cadence=30)
    doctor = world.provider("Maria Lopez, MD", practice)
    manager = world.contact("Linda Haas", practice)
    world.touch(practice, days_ago(5), sam, person=manager, through_contact=(doctor,))

    report = service.run_reminders(world.session, world.workspace, AS_OF)

    cold_names = [health.profile.name for health in report.cold]
    assert "Maria Lopez, MD" not in cold_names
    assert report.created == []


def test_pass_twice_changes_nothing(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
    world.touch(practice, days_ago(77), sam)
    world.referral(practice, (AS_OF - dt.timedelta(days=5)).date())

    first = service.run_reminders(world.session, world.workspace, AS_OF)
    second = service.run_reminders(world.session, world.workspace, AS_OF)

    assert sorted(view.reason for view in first.created) == ["close_loop", "cold"]
    assert second.created == []
    assert second.closed == []
    assert second.referrals_closed == []
    assert len(follow_ups(world)) == 2


def test_outbound_email_closes_loop_and_follow_up(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Northgate Clinic", owner=sam, cadence=30)
    doctor = world.provider("Dana Wu, MD", practice)
    world.touch(practice, days_ago(6), sam, person=doctor)
    referral = world.referral(doctor, dt.date(2026, 11, 26), external_ref="NGC-1")
    first = service.run_reminders(world.session, world.workspace, AS_OF)
    (loop_follow_up,) = first.created
    reply_at = AS_OF + dt.timedelta(days=1)
    world.touch(practice, reply_at, sam, person=world.contact("Gwen Foster", practice))

    second = service.run_reminders(world.session, world.workspace, LATER)

    assert loop_follow_up.reason == "close_loop"
    assert loop_follow_up.due_on == dt.date(2026, 12, 10)
    assert second.referrals_closed == [(referral.id, "Dana Wu, MD", reply_at)]
    assert world.session.get(Referral, referral.id).closed_at == reply_at
    assert [view.follow_up_id for view in second.closed] == [
        loop_follow_up.follow_up_id
    ]
    assert second.closed[0].status == "done"


def test_inbound_email_leaves_loop_open(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Northgate Clinic", owner=sam, cadence=30)
    referral = world.referral(practice, dt.date(2026, 11, 26))
    world.touch(practice, days_ago(1), sam, direction="inbound")

    report = service.run_reminders(world.session, world.workspace, AS_OF)

    assert report.referrals_closed == []
    assert world.session.get(Referral, referral.id).closed_at is None
    assert [loop.referral.referral_id for loop in report.state.loops] == [referral.id]


def test_thank_you_after_lunch_and_learn(world):
    amy = world.staff("amy@brookside-pt.example", "Amy Chen")
    practice = world.practice("Maple Grove Pediatrics", owner=amy, cadence=30)
    doctor = world.provider("Hannah Schultz, MD", practice)
    friday_noon = dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)
    world.touch(practice, friday_noon, amy, kind="meeting", person=doctor)

    first = service.run_reminders(world.session, world.workspace, AS_OF)
    world.touch(practice, AS_OF + dt.timedelta(hours=2), amy, person=doctor)
    second = service.run_reminders(world.session, world.workspace, LATER)
    third = service.run_reminders(world.session, world.workspace, LATER)

    (thank_you,) = first.created
    assert thank_you.reason == "thank_you"
    assert thank_you.source == "Hannah Schultz, MD"
    assert thank_you.staff_email == "amy@brookside-pt.example"
    assert thank_you.due_on == dt.date(2026, 11, 30)
    assert [view.follow_up_id for view in second.closed] == [thank_you.follow_up_id]
    assert third.created == []


def test_no_thank_you_for_routine_meetings(world):
    amy = world.staff("amy@brookside-pt.example", "Amy Chen")
    practice = world.practice("Ridgeway Orthopedic Associates", owner=amy, cadence=30)
    world.touch(practice, days_ago(2), amy, kind="meeting", recurring=True)
    world.touch(practice, days_ago(3), amy, kind="meeting", flags=("all_day",))

    report = service.run_reminders(world.session, world.workspace, AS_OF)

    assert report.created == []


def test_unowned_never_touched_source_listed(world):
    practice = world.practice("Harbor Point Urgent Care")
    world.referral(practice, dt.date(2026, 11, 20))

    report = service.run_reminders(world.session, world.workspace, AS_OF)

    assert report.created == []
    assert [(name, reason.value) for name, reason in report.unassigned] == [
        ("Harbor Point Urgent Care", "close_loop")
    ]


def test_done_by_hand_on_loop_closes_referrals(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Cedar Internal Medicine", owner=sam, cadence=30)
    world.touch(practice, days_ago(3), sam, direction="inbound")
    referral = world.referral(practice, dt.date(2026, 11, 24))
    (created,) = service.run_reminders(world.session, world.workspace, AS_OF).created

    view = service.complete_follow_up(
        world.session, world.workspace, created.follow_up_id, LATER
    )
    again = service.run_reminders(world.session, world.workspace, LATER)

    assert view.status == "done"
    assert world.session.get(Referral, referral.id).closed_at == LATER
    assert world.session.get(FollowUpBasis, created.follow_up_id).closed_by == "staff"
    assert again.created == []


def test_cold_done_by_hand_not_recreated_within_cadence(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
    world.touch(practice, days_ago(77), sam)
    (created,) = service.run_reminders(world.session, world.workspace, AS_OF).created

    service.complete_follow_up(
        world.session, world.workspace, created.follow_up_id, AS_OF
    )
    soon = service.run_reminders(
        world.session, world.workspace, AS_OF + dt.timedelta(days=29)
    )
    after = service.run_reminders(
        world.session, world.workspace, AS_OF + dt.timedelta(days=31)
    )

    assert soon.created == []
    assert [view.reason for view in after.created] == ["cold"]


def test_snooze_and_errors(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
    world.touch(practice, days_ago(77), sam)
    (created,) = service.run_reminders(world.session, world.workspace, AS_OF).created

    snoozed = service.snooze_follow_up(
        world.session, world.workspace, created.follow_up_id, "1m", AS_OF.date()
    )
    service.complete_follow_up(
        world.session, world.workspace, created.follow_up_id, AS_OF
    )

    assert snoozed.due_on == dt.date(2027, 1, 1)
    with pytest.raises(service.ReminderError, match="is already done"):
        service.snooze_follow_up(
            world.session, world.workspace, created.follow_up_id, "2w", AS_OF.date()
        )
    with pytest.raises(
        service.ReminderError, match=f"no follow-up with id {MISSING_ID}"
    ):
        service.complete_follow_up(world.session, world.workspace, MISSING_ID, AS_OF)


def test_close_referral_by_hand(world):
    practice = world.practice("Northgate Clinic")
    referral = world.referral(practice, dt.date(2026, 11, 26))

    service.close_referral(world.session, world.workspace, referral.id, AS_OF)

    assert world.session.get(Referral, referral.id).closed_at == AS_OF
    with pytest.raises(
        service.ReminderError, match="already closed at 2026-12-01 00:00 UTC"
    ):
        service.close_referral(world.session, world.workspace, referral.id, AS_OF)
    with pytest.raises(
        service.ReminderError, match=f"no referral with id {MISSING_ID}"
    ):
        service.close_referral(world.session, world.workspace, MISSING_ID, AS_OF)


def test_schema_allows_one_open_follow_up_per_reason(world):
    sam = world.staff("sam@brookside-pt.example", "Sam Ortiz")
    practice = world.practice("Summit Sports Medicine")

    def add(status: FollowUpStatus) -> None:
        world.session.add(
            FollowUp(
                workspace_id=world.workspace.id,
                source_id=practice.id,
                staff_member_id=sam.id,
                reason="cold",
                due_on=AS_OF.date(),
                status=status,
            )
        )
        world.session.flush()

    add(FollowUpStatus.DONE)
    add(FollowUpStatus.DONE)
    add(FollowUpStatus.OPEN)
    with pytest.raises(IntegrityError), world.session.begin_nested():
        add(FollowUpStatus.OPEN)
