"""classify: activities that can produce no touchpoint."""

from __future__ import annotations

import pytest

from connectors.records import Flag, ParticipantRole
from matcher import DropReason, classify, is_automated_address
from tests.matcher.factories import (
    OTHER_STAFF,
    SETTINGS,
    STAFF,
    attendee,
    email,
    inbound,
    meeting,
    organizer,
    recipient,
    sender,
)

PRACTICE_ADDRESS = "maria.lopez@riverside-fm.example"


def test_external_email_is_kept() -> None:
    assert classify(inbound(PRACTICE_ADDRESS, "Maria Lopez"), SETTINGS) is None


def test_staff_only_email_is_internal() -> None:
    activity = email(sender(STAFF), recipient(OTHER_STAFF))

    assert classify(activity, SETTINGS) is DropReason.INTERNAL


def test_own_domain_email_is_internal() -> None:
    activity = email(
        sender("billing@brookside-pt.example"),
        recipient(STAFF),
        recipient("front.desk@mail.brookside-pt.example", role=ParticipantRole.CC),
    )

    assert classify(activity, SETTINGS) is DropReason.INTERNAL


def test_one_outside_participant_keeps_email() -> None:
    activity = email(
        sender(STAFF),
        recipient(OTHER_STAFF),
        recipient(PRACTICE_ADDRESS, role=ParticipantRole.BCC),
    )

    assert classify(activity, SETTINGS) is None


def test_staff_only_meeting_is_internal() -> None:
    activity = meeting(organizer(), attendee(OTHER_STAFF), subject="PT team huddle")

    assert classify(activity, SETTINGS) is DropReason.INTERNAL


def test_solo_calendar_entry_is_kept() -> None:
    activity = meeting(organizer(), subject="Drop off brochures - Lakeside Ortho")

    assert classify(activity, SETTINGS) is None


def test_meeting_without_participants_is_kept() -> None:
    assert classify(meeting(subject="Lunch w/ Dr. Patel"), SETTINGS) is None


@pytest.mark.parametrize(
    "address",
    [
        "noreply@lakeside-health.example",
        "no-reply@lakeside-health.example",
        "no_reply@lakeside-health.example",
        "do-not-reply@lakeside-health.example",
        "donotreply@lakeside-health.example",
        "calendar-noreply@google.com",
        "mailer-daemon@riverside-fm.example",
        "postmaster@riverside-fm.example",
        "notifications@portal.example",
        "notification+abc123@portal.example",
        "bounces+12345@mail.example",
        "newsletter@lakeside-health.example",
    ],
)
def test_automated_senders_are_bulk(address: str) -> None:
    assert is_automated_address(address)
    assert classify(inbound(address), SETTINGS) is DropReason.BULK


@pytest.mark.parametrize(
    "address",
    [
        "referrals@riverside-fm.example",
        "info@riverside-fm.example",
        "nora.eply@x.example",
    ],
)
def test_role_addresses_not_automated(address: str) -> None:
    assert not is_automated_address(address)


def test_automated_recipient_is_not_bulk() -> None:
    activity = email(sender(STAFF), recipient("notifications@portal.example"))

    assert classify(activity, SETTINGS) is None


def test_bulk_flag() -> None:
    activity = email(
        sender(PRACTICE_ADDRESS), recipient(STAFF), flags=frozenset({Flag.BULK})
    )

    assert classify(activity, SETTINGS) is DropReason.BULK


def test_auto_reply_flag() -> None:
    activity = email(
        sender(PRACTICE_ADDRESS), recipient(STAFF), flags=frozenset({Flag.AUTO_REPLY})
    )

    assert classify(activity, SETTINGS) is DropReason.AUTO_REPLY


def test_cancelled_meeting() -> None:
    activity = meeting(
        organizer(), attendee(PRACTICE_ADDRESS), flags=frozenset({Flag.CANCELLED})
    )

    assert classify(activity, SETTINGS) is DropReason.CANCELLED


def test_declined_flag() -> None:
    activity = meeting(
        organizer(PRACTICE_ADDRESS),
        attendee(STAFF),
        flags=frozenset({Flag.DECLINED}),
    )

    assert classify(activity, SETTINGS) is DropReason.DECLINED


def test_every_staff_attendee_declined() -> None:
    activity = meeting(
        organizer(PRACTICE_ADDRESS),
        attendee(STAFF, response="declined"),
        attendee(OTHER_STAFF, response="declined"),
    )

    assert classify(activity, SETTINGS) is DropReason.DECLINED


def test_one_staff_attendee_accepted() -> None:
    activity = meeting(
        organizer(PRACTICE_ADDRESS),
        attendee(STAFF, response="declined"),
        attendee(OTHER_STAFF, response="accepted"),
        flags=frozenset({Flag.DECLINED}),
    )

    assert classify(activity, SETTINGS) is None


def test_staff_organizer_keeps_meeting() -> None:
    activity = meeting(
        organizer(STAFF),
        attendee(OTHER_STAFF, response="declined"),
        attendee(PRACTICE_ADDRESS, response="accepted"),
        flags=frozenset({Flag.DECLINED}),
    )

    assert classify(activity, SETTINGS) is None


def test_outside_attendee_declining_is_kept() -> None:
    activity = meeting(
        organizer(STAFF), attendee(PRACTICE_ADDRESS, response="declined")
    )

    assert classify(activity, SETTINGS) is None


def test_declined_email_flag_is_ignored() -> None:
    activity = email(
        sender(PRACTICE_ADDRESS), recipient(STAFF), flags=frozenset({Flag.DECLINED})
    )

    assert classify(activity, SETTINGS) is None
