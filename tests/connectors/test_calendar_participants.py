"""ORGANIZER and ATTENDEE values as participants."""

from __future__ import annotations

import icalendar
import pytest

from connectors.calendar import participants_of
from connectors.records import Participant, ParticipantRole

ORGANIZER = ParticipantRole.ORGANIZER
ATTENDEE = ParticipantRole.ATTENDEE


def event_with(*lines: str) -> icalendar.Event:
    text = "\r\n".join(
        ["BEGIN:VEVENT", "UID:p-1", "DTSTART:20260310T170000Z", *lines, "END:VEVENT"]
    )
    event = icalendar.Event.from_ical(text + "\r\n")
    assert isinstance(event, icalendar.Event)
    return event


def test_attendee_keeps_name_and_response() -> None:
    event = event_with(
        "ATTENDEE;CN=Thao Nguyen;PARTSTAT=ACCEPTED:mailto:thao.nguyen@cedar-im.example"
    )

    (participant,) = participants_of(event)

    assert participant == Participant(
        address="thao.nguyen@cedar-im.example",
        role=ATTENDEE,
        name="Thao Nguyen",
        response="accepted",
    )


def test_organizer_comes_first_without_response() -> None:
    event = event_with(
        "ATTENDEE;PARTSTAT=DECLINED:mailto:dana.wu@cedar-im.example",
        "ORGANIZER;CN=Sam Ortiz:mailto:sam.ortiz@brookside-pt.example",
    )

    organizer, attendee = participants_of(event)

    assert organizer.role is ORGANIZER
    assert organizer.address == "sam.ortiz@brookside-pt.example"
    assert organizer.response is None
    assert attendee.role is ATTENDEE
    assert attendee.response == "declined"


def test_email_parameter_wins_over_value() -> None:
    event = event_with(
        "ATTENDEE;CN=Dana Wu;EMAIL=Dana.Wu@cedar-im.example;PARTSTAT=ACCEPTED:"
        "urn:uuid:6e1f3a52-8c0d-4b7a-9f24-1d5e8c7b3a90",
        'ORGANIZER;EMAIL="sam.ortiz@brookside-pt.example":'
        "mailto:2_gezdcnbvgm3dcmzq@imip.me.example",
    )

    organizer, attendee = participants_of(event)

    assert organizer.address == "sam.ortiz@brookside-pt.example"
    assert attendee.address == "dana.wu@cedar-im.example"


def test_name_equal_to_address_is_dropped() -> None:
    event = event_with(
        "ATTENDEE;CN=Ridgeway-FrontDesk@ridgeway-ortho.example:"
        "mailto:ridgeway-frontdesk@ridgeway-ortho.example"
    )

    (participant,) = participants_of(event)

    assert participant.name is None


def test_upper_case_mailto_and_quoted_name() -> None:
    event = event_with(
        'ATTENDEE;CN="Ortiz, Janet":MAILTO:Janet.Ortiz@Riverside-FM.example'
    )

    (participant,) = participants_of(event)

    assert participant.address == "janet.ortiz@riverside-fm.example"
    assert participant.name == "Ortiz, Janet"


def test_mailbox_in_value_gives_name_and_address() -> None:
    event = event_with("ATTENDEE:mailto:Front Desk <frontdesk@elmwood-fm.example>")

    (participant,) = participants_of(event)

    assert participant.address == "frontdesk@elmwood-fm.example"
    assert participant.name == "Front Desk"


def test_percent_encoded_address_is_decoded() -> None:
    event = event_with("ATTENDEE:mailto:chidi.okafor%40elmwood-fm.example")

    (participant,) = participants_of(event)

    assert participant.address == "chidi.okafor@elmwood-fm.example"


def test_name_folded_across_lines_is_joined() -> None:
    event = event_with(
        "ATTENDEE;PARTSTAT=ACCEPTED;CN=Priya Nata",
        " rajan:mailto:priya.natarajan@elmwood-fm.example",
        "ORGANIZER;CN=Sam",
        "  Ortiz:mailto:sam.ortiz@brookside-pt.example",
    )

    organizer, attendee = participants_of(event)

    assert attendee.name == "Priya Natarajan"
    assert organizer.name == "Sam Ortiz"


@pytest.mark.parametrize(
    "line",
    [
        "ATTENDEE;CN=Chidi Okafor:Chidi Okafor",
        "ATTENDEE;CN=Chidi Okafor:mailto:Chidi Okafor",
        "ATTENDEE;CN=Priya Natarajan:/o=ExchangeLabs/ou=Exchange Administrative "
        "Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=5d1c0e7a-priya",
        "ORGANIZER;CN=Unknown Organizer:mailto:unknownorganizer@calendar.google.com",
        "ORGANIZER;CN=Ridgeway events:mailto:c_8f2k1m@group.calendar.google.com",
        "ATTENDEE;CN=Room 2:mailto:c_1889abc@resource.calendar.google.com",
        "ATTENDEE;CUTYPE=ROOM;CN=Board room:mailto:boardroom@brookside-pt.example",
        "ATTENDEE;CUTYPE=RESOURCE;CN=Projector:mailto:projector@brookside-pt.example",
        "ATTENDEE:mailto:",
        "ATTENDEE:mailto:frontdesk@localhost",
    ],
)
def test_value_without_person_address_gives_no_participant(line: str) -> None:
    event = event_with(line)

    assert participants_of(event) == ()


def test_repeated_address_and_role_kept_once() -> None:
    event = event_with(
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana.wu@cedar-im.example",
        "ATTENDEE;PARTSTAT=TENTATIVE:mailto:DANA.WU@cedar-im.example",
        "ORGANIZER:mailto:dana.wu@cedar-im.example",
    )

    participants = participants_of(event)

    assert [(p.role, p.response) for p in participants] == [
        (ORGANIZER, None),
        (ATTENDEE, "accepted"),
    ]
