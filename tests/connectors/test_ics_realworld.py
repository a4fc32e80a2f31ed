"""IcsReader on files from real calendar software, and on fixtures with their traits.

Files named "project__name.ics" are copies from other projects' test suites,
listed in tests/data/ics/SOURCES.md.  The others reproduce the traits of
exports whose licence does not allow a copy here.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from connectors.files.ics import IcsReader
from connectors.records import Activity, Flag, Participant, ParticipantRole, Quarantined

DATA = Path(__file__).parent.parent / "data" / "ics"
ORGANIZER = ParticipantRole.ORGANIZER
ATTENDEE = ParticipantRole.ATTENDEE


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def read_activities(
    name: str, start: dt.datetime, end: dt.datetime, zone: str = "America/Chicago"
) -> list[Activity]:
    reader = IcsReader(
        DATA / name, default_timezone=zone, window_start=start, window_end=end
    )
    items = list(reader.read(None))
    assert not [item for item in items if isinstance(item, Quarantined)]
    activities = [item for item in items if isinstance(item, Activity)]
    return sorted(activities, key=lambda activity: activity.occurred_at)


def people(activity: Activity) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (p.role.value, p.address, p.name, p.response) for p in activity.participants
    ]


# Copies from permissively licensed test suites.


def test_bare_vevent_with_umlaut_organizer() -> None:
    (activity,) = read_activities(
        "icalendar__issue_101_umlauts_in_organizer.ics",
        utc(2013, 1, 1),
        utc(2014, 1, 1),
    )

    assert activity.external_id == "20130416112341.10064jz0k4j7uem8@acmenet.de"
    assert activity.occurred_at == utc(2013, 4, 16, 10)
    assert activity.ends_at == utc(2013, 4, 16, 11)
    assert activity.location == "im büro"
    assert activity.participants == (
        Participant(address="adm-acme@mydomain.de", role=ORGANIZER, name="acme, ädmin"),
    )


def test_blackberry_invite_quoted_names_upper_case_mailto() -> None:
    (activity,) = read_activities(
        "icalendar__property_params.ics", utc(2012, 1, 1), utc(2013, 1, 1)
    )

    assert people(activity) == [
        ("organizer", "rembrand@daxlab.com", None, None),
        ("attendee", "rembrand@xs4all.nl", "RembrandXS", "needs-action"),
        ("attendee", "rembrand@daxlab.com", "RembrandDX", "needs-action"),
        ("attendee", "rembspam@xs4all.nl", "RembrandSB", "needs-action"),
    ]


def test_blackberry_invite_is_all_day_in_default_zone() -> None:
    (activity,) = read_activities(
        "icalendar__property_params.ics", utc(2012, 1, 1), utc(2013, 1, 1)
    )

    assert activity.flags == frozenset({Flag.ALL_DAY})
    # Midnight of 14 August 2012 in America/Chicago (CDT, UTC-5).
    assert activity.occurred_at == utc(2012, 8, 14, 5)
    assert activity.ends_at == utc(2012, 8, 15, 5)


def test_delegated_and_non_participant_attendees_kept() -> None:
    (activity,) = read_activities(
        "khal__event_dt_partstat.ics", utc(2014, 1, 1), utc(2015, 1, 1)
    )

    assert activity.occurred_at == utc(2014, 4, 9, 7, 30)
    assert people(activity) == [
        ("attendee", "hcabot@example.com", "Henry Cabot", "tentative"),
        ("attendee", "iamboss@example.com", "The Big Cheese", "delegated"),
        ("attendee", "jdoe@example.com", "Jane Doe", "accepted"),
        ("attendee", "jqpublic@example.com", None, "accepted"),
        ("attendee", "another@example.com", None, "declined"),
        ("attendee", "tent@example.com", None, "tentative"),
    ]


def test_apple_export_email_parameter_and_cancelled_event() -> None:
    activities = read_activities(
        "node-ical__tentative-apple-calendar.ics", utc(2022, 1, 1), utc(2023, 1, 1)
    )

    assert [a.subject for a in activities] == ["Tentative", "Confirmed", "No Status"]
    tentative, confirmed, no_status = activities
    assert people(tentative) == [
        ("organizer", "tentative@example.com", None, None),
        ("attendee", "tentative@example.com", None, "tentative"),
    ]
    assert people(confirmed)[1] == (
        "attendee",
        "confirmed@example.com",
        None,
        "confirmed",
    )
    assert no_status.participants == ()


def test_apple_export_times_in_x_wr_timezone() -> None:
    tentative, confirmed, no_status = read_activities(
        "node-ical__tentative-apple-calendar.ics", utc(2022, 1, 1), utc(2023, 1, 1)
    )

    assert tentative.occurred_at == utc(2022, 7, 4, 23)
    # 09:00 in America/Vancouver (PDT, UTC-7).
    assert confirmed.occurred_at == utc(2022, 7, 5, 16)
    assert no_status.occurred_at == utc(2022, 7, 7, 16)
    assert all(a.defects == () for a in (tentative, confirmed, no_status))


# Fixtures written here with the traits of exports under MPL-2.0 and AGPL-3.0.


def test_zimbra_series_with_rdates_exdate_and_overrides() -> None:
    activities = read_activities(
        "zimbra_recurring_exceptions.ics", utc(2025, 9, 1), utc(2026, 3, 1)
    )

    assert [(a.occurrence, a.occurred_at, a.ends_at) for a in activities] == [
        # Second Wednesday, moved from 11:30 to 15:00 CDT by an override.
        (utc(2025, 10, 8, 16, 30), utc(2025, 10, 8, 20), utc(2025, 10, 8, 20, 30)),
        (
            utc(2025, 11, 12, 17, 30),
            utc(2025, 11, 12, 17, 30),
            utc(2025, 11, 12, 18, 30),
        ),
        # An RDATE, moved by an override whose RECURRENCE-ID is in UTC.
        (utc(2025, 11, 20, 17, 30), utc(2025, 11, 21, 14), utc(2025, 11, 21, 15)),
        # An RDATE given as a PERIOD, with its own end.
        (utc(2025, 12, 3, 17, 30), utc(2025, 12, 3, 17, 30), utc(2025, 12, 3, 19)),
        # 10 December is excluded by EXDATE.
        (utc(2026, 1, 14, 17, 30), utc(2026, 1, 14, 17, 30), utc(2026, 1, 14, 18, 30)),
        (utc(2026, 2, 11, 17, 30), utc(2026, 2, 11, 17, 30), utc(2026, 2, 11, 18, 30)),
    ]


def test_zimbra_folded_names_and_names_equal_to_addresses() -> None:
    first = read_activities(
        "zimbra_recurring_exceptions.ics", utc(2025, 9, 1), utc(2026, 3, 1)
    )[0]

    assert people(first) == [
        ("organizer", "sam.ortiz@brookside-pt.example", "Sam Ortiz", None),
        ("attendee", "thao.nguyen@cedar-im.example", "Thao Nguyen", "accepted"),
        ("attendee", "frontdesk@cedar-im.example", None, "needs-action"),
        ("attendee", "maria.lopez@riverside-fm.example", None, "needs-action"),
    ]
    assert first.location == "Cedar IM break room"


def test_google_invite_weekly_all_day_series() -> None:
    activities = read_activities(
        "google_invite_request.ics", utc(2025, 12, 1), utc(2026, 3, 1)
    )

    days = [5, 8, 12, 15, 19, 22]
    assert [a.occurrence for a in activities] == [utc(2026, 1, day, 6) for day in days]
    assert all(a.flags == frozenset({Flag.ALL_DAY}) for a in activities)
    assert activities[0].location == "Riverside Family Medicine, 12 Mill Road"


def test_google_invite_attendees_and_responses() -> None:
    first = read_activities(
        "google_invite_request.ics", utc(2025, 12, 1), utc(2026, 3, 1)
    )[0]

    assert people(first) == [
        ("organizer", "maria.lopez@riverside-fm.example", "Maria L. Lopez", None),
        (
            "attendee",
            "janet.ortiz@riverside-fm.example",
            "Janet R. Ortiz",
            "needs-action",
        ),
        ("attendee", "sam.ortiz@brookside-pt.example", "Sam Ortiz", "accepted"),
        ("attendee", "chidi.okafor@elmwood-fm.example", None, "declined"),
        (
            "attendee",
            "priya.natarajan@elmwood-fm.example",
            "Priya Natarajan",
            "tentative",
        ),
    ]


def test_iphone_invite_through_exchange() -> None:
    (activity,) = read_activities(
        "iphone_through_exchange.ics", utc(2026, 1, 1), utc(2026, 2, 1)
    )

    # 16:00 in Europe/Paris (CET, UTC+1).
    assert activity.occurred_at == utc(2026, 1, 12, 15)
    assert activity.subject == "R?union d'?quipe"
    assert people(activity) == [
        (
            "organizer",
            "frontdesk@brookside-pt.onmicrosoft.example",
            "Brookside Front Desk",
            None,
        ),
        ("attendee", "dana.wu@cedar-im.example", None, "needs-action"),
    ]


def test_exchange_romance_standard_time() -> None:
    winter, summer = read_activities(
        "exchange_romance_standard_time.ics", utc(2026, 1, 1), utc(2027, 1, 1)
    )

    # 09:30 in Paris: CET (UTC+1) in February, CEST (UTC+2) in July.
    assert winter.occurred_at == utc(2026, 2, 20, 8, 30)
    assert summer.occurred_at == utc(2026, 7, 2, 7, 30)
    assert winter.external_id == (
        "040000008200E00074C5B7101A82E00800000000A1B2C3D4E5F6D00100000000000000"
        "00100000003F9E8D7C6B5A49382716050403020100"
    )
    assert winter.subject == "Déjeuner avec Elmwood"
    assert winter.location is None


def test_exchange_folded_name_and_upper_case_mailto() -> None:
    winter, _summer = read_activities(
        "exchange_romance_standard_time.ics", utc(2026, 1, 1), utc(2027, 1, 1)
    )

    assert people(winter) == [
        ("organizer", "sam.ortiz@brookside-pt.example", "Sam Ortiz", None),
        (
            "attendee",
            "priya.natarajan@elmwood-fm.example",
            "Priya Natarajan",
            "needs-action",
        ),
    ]


def test_icloud_invite_with_historical_vtimezone() -> None:
    (activity,) = read_activities(
        "icloud_europe_paris_history.ics", utc(2026, 1, 1), utc(2027, 1, 1)
    )

    # 04:30 in Paris on the day after the switch to CEST (UTC+2).
    assert activity.occurred_at == utc(2026, 3, 30, 2, 30)
    assert people(activity) == [
        ("organizer", "dana.wu@cedar-im.example", "Dana Wu", None),
        ("attendee", "dana.wu@cedar-im.example", "Dana Wu", "accepted"),
        ("attendee", "sam.ortiz@brookside-pt.example", "Sam Ortiz", "needs-action"),
    ]
