"""match_activity on meetings: attendees, title, location and phone."""

from __future__ import annotations

from matcher import DropReason, Signal, SourceIndex, Status, match_activity
from tests.matcher import workspace as ws
from tests.matcher.factories import (
    SETTINGS,
    STAFF,
    attendee,
    email,
    link_for,
    linked_practices,
    meeting,
    organizer,
    practice,
    recipient,
    sender,
)


def test_attendee_address_confirms() -> None:
    activity = meeting(
        organizer(),
        attendee("thao.nguyen@cedar-im.example", "Thao Nguyen", response="accepted"),
        subject="Lunch and learn",
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.CEDAR
    assert link.person_id == ws.NGUYEN
    assert link.status is Status.CONFIRMED
    assert link.reasons[0].detail.startswith("attendee thao.nguyen@cedar-im.example")


def test_title_names_practice() -> None:
    activity = meeting(organizer(), subject="Drop off brochures - Lakeside Ortho")

    result = match_activity(activity, ws.index(), SETTINGS)

    assert linked_practices(result) == [ws.LAKESIDE_ORTHO]
    link = result.links[0]
    assert link.status is Status.CONFIRMED
    assert link.reasons[0].signal is Signal.TITLE
    assert link.reasons[0].detail == (
        "title 'Drop off brochures - Lakeside Ortho' names Lakeside Orthopedics"
    )


def test_title_with_abbreviation() -> None:
    activity = meeting(organizer(), subject="Riverside FM lunch")

    result = match_activity(activity, ws.index(), SETTINGS)

    assert linked_practices(result) == [ws.RIVERSIDE]


def test_title_and_location_confirm() -> None:
    activity = meeting(
        organizer(),
        subject="Drop off brochures - Lakeside Ortho",
        location="800 Lake Shore Drive, Suite 310",
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.LAKESIDE_ORTHO
    assert link.status is Status.CONFIRMED
    assert {reason.signal for reason in link.reasons} == {Signal.TITLE, Signal.LOCATION}


def test_title_names_doctor() -> None:
    activity = meeting(organizer(), subject="Lunch w/ Dr. Wu")

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.NORTHGATE
    assert link.person_id == ws.WU
    assert link.status is Status.CONFIRMED


def test_title_names_person_in_full() -> None:
    activity = meeting(organizer(), subject="Coffee with Maria L. Lopez")

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.RIVERSIDE
    assert link.person_id == ws.LOPEZ


def test_title_names_person_by_nickname() -> None:
    activity = meeting(organizer(), subject="Call Bob Chen re: referrals")

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.person_id == ws.CHEN


def test_title_ambiguous_doctor_reviews_both() -> None:
    activity = meeting(organizer(), subject="Lunch w/ Dr. Patel")

    result = match_activity(activity, ws.index(), SETTINGS)

    assert sorted(linked_practices(result)) == [ws.CEDAR, ws.LAKESIDE_ORTHO]
    assert all(link.status is Status.NEEDS_REVIEW for link in result.links)


def test_title_surname_alone_names_nobody() -> None:
    activity = meeting(organizer(), subject="Kim lunch")

    assert match_activity(activity, ws.index(), SETTINGS).dropped is DropReason.NO_MATCH


def test_title_look_alike_practice_is_no_match() -> None:
    activity = meeting(organizer(), subject="Lunch at Riverside Family Dental")

    assert match_activity(activity, ws.index(), SETTINGS).dropped is DropReason.NO_MATCH


def test_location_street_address_with_suite_confirms() -> None:
    activity = meeting(
        organizer(), subject="Visit", location="123 Main Street, Suite 200"
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.RIVERSIDE
    assert link.status is Status.CONFIRMED
    assert link.reasons[0].signal is Signal.LOCATION
    assert "is the address of Riverside Family Medicine" in link.reasons[0].detail


def test_location_street_address_without_suite_reviews() -> None:
    activity = meeting(
        organizer(), subject="Visit", location="123 MAIN ST, Springfield"
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.status is Status.NEEDS_REVIEW


def test_location_other_suite_is_no_match() -> None:
    activity = meeting(organizer(), subject="Visit", location="123 Main St. Suite 410")

    assert match_activity(activity, ws.index(), SETTINGS).dropped is DropReason.NO_MATCH


def test_location_shared_building_confirms_neither() -> None:
    index = SourceIndex(
        [
            practice(1, "Hilltop Pediatrics", address="1 Medical Plaza Dr, Suite 100"),
            practice(2, "Valley Cardiology", address="1 Medical Plaza Dr, Suite 220"),
        ]
    )
    activity = meeting(organizer(), subject="Visit", location="1 Medical Plaza Drive")

    result = match_activity(activity, index, SETTINGS)

    assert sorted(linked_practices(result)) == [1, 2]
    assert all(link.status is Status.NEEDS_REVIEW for link in result.links)


def test_location_names_practice() -> None:
    activity = meeting(
        organizer(),
        subject="Lunch and learn",
        location="Cedar Internal Medicine, break room",
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.CEDAR
    assert link.reasons[0].signal is Signal.LOCATION


def test_phone_number_in_location() -> None:
    activity = meeting(organizer(), subject="Call", location="Dial 404.778.5234")

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.RIVERSIDE
    assert link.reasons[0].signal is Signal.PHONE
    assert link.status is Status.NEEDS_REVIEW


def test_attendee_and_title_together() -> None:
    activity = meeting(
        organizer(),
        attendee("scheduling@lakeside-health.example"),
        subject="Lakeside Ortho in-service",
    )

    result = match_activity(activity, ws.index(), SETTINGS)

    assert link_for(result, ws.LAKESIDE_ORTHO).status is Status.CONFIRMED
    assert link_for(result, ws.LAKESIDE_FM).status is Status.NEEDS_REVIEW
    assert result.links[0].practice_id == ws.LAKESIDE_ORTHO


def test_email_subject_names_no_practice() -> None:
    activity = email(
        sender("someone@unrelated.example"),
        recipient(STAFF),
        subject="Lakeside Ortho lunch",
    )

    assert match_activity(activity, ws.index(), SETTINGS).dropped is DropReason.NO_MATCH


def test_location_number_sign_is_suite() -> None:
    activity = meeting(organizer(), subject="Visit", location="123 Main Street, #200")

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.RIVERSIDE
    assert link.status is Status.CONFIRMED


def test_title_supply_company_is_no_match() -> None:
    activity = meeting(
        organizer(), subject="Demo - Lakeside Orthopedics Medical Supply"
    )

    assert match_activity(activity, ws.index(), SETTINGS).dropped is DropReason.NO_MATCH


def test_title_two_practices_reviews_both() -> None:
    activity = meeting(organizer(), subject="Lunch and learn - Lakeside")

    result = match_activity(activity, ws.index(), SETTINGS)

    assert all(link.status is not Status.CONFIRMED for link in result.links)


def test_title_doctor_names_no_contact() -> None:
    # Janet Ortiz is Riverside's office manager, so "Dr. Ortiz" names no one.
    activity = meeting(organizer(), subject="Lunch w/ Dr. Ortiz")

    assert match_activity(activity, ws.index(), SETTINGS).dropped is DropReason.NO_MATCH
