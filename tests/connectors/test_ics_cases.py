"""IcsReader on time zone and recurrence cases from Outlook, Exchange and Google."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from connectors.files.ics import IcsReader
from connectors.records import Activity, Flag, Item, ParticipantRole, Quarantined

DATA = Path(__file__).parent.parent / "data" / "ics"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def read_items(path: Path, default_timezone: str = "America/Chicago") -> list[Item]:
    reader = IcsReader(
        path,
        default_timezone=default_timezone,
        window_start=utc(2025, 1, 1),
        window_end=utc(2027, 6, 1),
    )
    return list(reader.read(None))


def read_activities(
    path: Path, default_timezone: str = "America/Chicago"
) -> list[Activity]:
    items = read_items(path, default_timezone)
    assert not [item for item in items if isinstance(item, Quarantined)]
    return sorted(
        (item for item in items if isinstance(item, Activity)),
        key=lambda activity: activity.occurred_at,
    )


def by_uid(activities: list[Activity]) -> dict[str, Activity]:
    return {activity.external_id: activity for activity in activities}


def write_calendar(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "calendar.ics"
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Warmline tests//EN", *lines]
    path.write_text("\r\n".join([*body, "END:VCALENDAR", ""]), encoding="utf-8")
    return path


# Time zone identifiers from Outlook and Exchange.


def test_windows_zone_with_vtimezone() -> None:
    activity = by_uid(read_activities(DATA / "exchange_windows_time_zones.ics"))[
        "tz-1@brookside-pt.example"
    ]

    assert activity.occurred_at == utc(2026, 3, 10, 16)
    assert activity.ends_at == utc(2026, 3, 10, 17)
    assert activity.defects == ()


def test_windows_zone_without_vtimezone() -> None:
    activity = by_uid(read_activities(DATA / "exchange_windows_time_zones.ics"))[
        "tz-2@brookside-pt.example"
    ]

    assert activity.occurred_at == utc(2026, 7, 2, 16)
    assert activity.defects == ()


def test_windows_display_name_zone() -> None:
    activity = by_uid(read_activities(DATA / "exchange_windows_time_zones.ics"))[
        "tz-3@brookside-pt.example"
    ]

    assert activity.occurred_at == utc(2026, 7, 2, 13)
    assert activity.defects == ()


def test_unknown_zone_read_in_default_zone() -> None:
    activity = by_uid(read_activities(DATA / "exchange_windows_time_zones.ics"))[
        "tz-4@brookside-pt.example"
    ]

    # 09:00 in America/Chicago (CDT, UTC-5), the account's zone.
    assert activity.occurred_at == utc(2026, 7, 2, 14)
    assert activity.occurred_at.tzinfo is dt.UTC
    assert activity.defects == ("unknown time zone 'Customized Time Zone'",)


def test_unknown_zone_follows_default_zone() -> None:
    activity = by_uid(
        read_activities(
            DATA / "exchange_windows_time_zones.ics", default_timezone="UTC"
        )
    )["tz-4@brookside-pt.example"]

    assert activity.occurred_at == utc(2026, 7, 2, 9)
    assert activity.defects == ("unknown time zone 'Customized Time Zone'",)


def test_exchange_file_yields_single_events() -> None:
    activities = read_activities(DATA / "exchange_windows_time_zones.ics")

    assert len(activities) == 4
    assert [a.occurrence for a in activities] == [None] * 4
    assert sorted(a.provider_key for a in activities) == [
        f"tz-{number}@brookside-pt.example" for number in range(1, 5)
    ]


def test_customized_zone_with_vtimezone_uses_it() -> None:
    activities = read_activities(DATA / "outlook_customized_time_zone.ics")

    india, mountain = activities
    # 09:00 MDT (UTC-6) from the file's own "Customized Time Zone".
    assert mountain.occurred_at == utc(2026, 7, 2, 15)
    assert mountain.defects == ()
    # 10:30 at UTC+05:30 from "Customized Time Zone 1".
    assert india.occurred_at == utc(2026, 1, 15, 5)
    assert india.defects == ()


def test_customized_zone_does_not_leak_between_files() -> None:
    read_activities(DATA / "outlook_customized_time_zone.ics")

    activity = by_uid(read_activities(DATA / "exchange_windows_time_zones.ics"))[
        "tz-4@brookside-pt.example"
    ]

    assert activity.occurred_at == utc(2026, 7, 2, 14)
    assert activity.defects == ("unknown time zone 'Customized Time Zone'",)


def test_broken_vtimezone_is_dropped_not_fatal(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VTIMEZONE",
        "TZID:Broken Zone",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        "UID:broken-zone-1",
        "DTSTART;TZID=Broken Zone:20260105T100000",
        "END:VEVENT",
    )

    (activity,) = read_activities(path)

    assert activity.occurred_at == utc(2026, 1, 5, 16)
    assert activity.defects == (
        "unknown time zone 'Broken Zone'",
        "invalid VTIMEZONE 'Broken Zone' ignored",
    )


# Recurrence with EXDATE, a moved instance, a cancelled instance and DST.


def test_google_series_yields_two_occurrences() -> None:
    activities = read_activities(DATA / "google_recurrence_overrides.ics")

    assert [a.provider_key for a in activities] == [
        "huddle-7f3a@google.com 2026-03-02T14:00:00Z",
        "huddle-7f3a@google.com 2026-03-16T13:00:00Z",
    ]


def test_google_series_first_occurrence() -> None:
    first = read_activities(DATA / "google_recurrence_overrides.ics")[0]

    assert first.external_id == "huddle-7f3a@google.com"
    assert first.occurrence == utc(2026, 3, 2, 14)
    assert first.occurred_at == utc(2026, 3, 2, 14)
    assert first.ends_at == utc(2026, 3, 2, 14, 30)
    assert first.subject == "Weekly huddle with Ridgeway Ortho"


def test_moved_occurrence_keeps_original_start() -> None:
    moved = read_activities(DATA / "google_recurrence_overrides.ics")[1]

    assert moved.occurrence == utc(2026, 3, 16, 13)
    assert moved.occurred_at == utc(2026, 3, 17, 14)
    assert moved.ends_at == utc(2026, 3, 17, 14, 30)
    assert moved.subject == "Weekly huddle with Ridgeway Ortho (moved)"


def test_exdate_and_cancelled_instance_skipped() -> None:
    activities = read_activities(DATA / "google_recurrence_overrides.ics")

    starts = {a.occurrence for a in activities}
    assert utc(2026, 3, 9, 13) not in starts
    assert utc(2026, 3, 23, 13) not in starts
    assert all(Flag.CANCELLED not in a.flags for a in activities)


def test_attendee_named_by_address_unnamed() -> None:
    first = read_activities(DATA / "google_recurrence_overrides.ics")[0]

    organizer, attendee = first.participants
    assert organizer.role is ParticipantRole.ORGANIZER
    assert organizer.name == "Sam Ortiz"
    assert attendee.address == "ridgeway-frontdesk@ridgeway-ortho.example"
    assert attendee.name is None


def test_override_without_attendees_inherits_them() -> None:
    moved = read_activities(DATA / "google_recurrence_overrides.ics")[1]

    assert moved.addresses() == [
        "sam.ortiz@brookside-pt.example",
        "ridgeway-frontdesk@ridgeway-ortho.example",
    ]


def test_reading_twice_gives_same_items() -> None:
    first = read_items(DATA / "google_recurrence_overrides.ics")
    second = read_items(DATA / "google_recurrence_overrides.ics")

    assert first == second


def test_series_keeps_wall_time_across_us_dst_changes(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:dst-weekly@brookside-pt.example",
        "DTSTART;TZID=America/New_York:20260302T090000",
        "DTEND;TZID=America/New_York:20260302T093000",
        "RRULE:FREQ=WEEKLY;BYDAY=MO;UNTIL=20261110T000000Z",
        "END:VEVENT",
    )

    activities = read_activities(path)

    by_day = {a.occurred_at.date(): a.occurred_at for a in activities}
    # EST (UTC-5) until 8 March 2026, EDT (UTC-4) until 1 November 2026.
    assert by_day[dt.date(2026, 3, 2)] == utc(2026, 3, 2, 14)
    assert by_day[dt.date(2026, 3, 9)] == utc(2026, 3, 9, 13)
    assert by_day[dt.date(2026, 10, 26)] == utc(2026, 10, 26, 13)
    assert by_day[dt.date(2026, 11, 2)] == utc(2026, 11, 2, 14)
    assert by_day[dt.date(2026, 11, 9)] == utc(2026, 11, 9, 14)
    assert len(activities) == 37
    assert all(a.occurrence == a.occurred_at for a in activities)


def test_override_with_older_sequence_still_applies(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:seq-1@brookside-pt.example",
        "SEQUENCE:3",
        "SUMMARY:Standing visit",
        "DTSTART;TZID=America/Chicago:20260105T100000",
        "DTEND;TZID=America/Chicago:20260105T110000",
        "RRULE:FREQ=WEEKLY;COUNT=3",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:seq-1@brookside-pt.example",
        "SEQUENCE:0",
        "SUMMARY:Standing visit (moved)",
        "RECURRENCE-ID;TZID=America/Chicago:20260112T100000",
        "DTSTART;TZID=America/Chicago:20260113T140000",
        "DTEND;TZID=America/Chicago:20260113T150000",
        "END:VEVENT",
    )

    activities = read_activities(path)

    assert [(a.occurrence, a.occurred_at) for a in activities] == [
        (utc(2026, 1, 5, 16), utc(2026, 1, 5, 16)),
        (utc(2026, 1, 12, 16), utc(2026, 1, 13, 20)),
        (utc(2026, 1, 19, 16), utc(2026, 1, 19, 16)),
    ]
    assert activities[1].subject == "Standing visit (moved)"


def test_override_with_highest_sequence_wins(tmp_path: Path) -> None:
    override = [
        "BEGIN:VEVENT",
        "UID:seq-2@brookside-pt.example",
        "RECURRENCE-ID;TZID=America/Chicago:20260112T100000",
    ]
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:seq-2@brookside-pt.example",
        "DTSTART;TZID=America/Chicago:20260105T100000",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        "END:VEVENT",
        *override,
        "SEQUENCE:2",
        "DTSTART;TZID=America/Chicago:20260114T090000",
        "END:VEVENT",
        *override,
        "SEQUENCE:1",
        "DTSTART;TZID=America/Chicago:20260113T090000",
        "END:VEVENT",
    )

    activities = read_activities(path)

    assert [a.occurred_at for a in activities] == [
        utc(2026, 1, 5, 16),
        utc(2026, 1, 14, 15),
    ]


def test_this_and_future_override_moves_later_ones(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:range-1@brookside-pt.example",
        "SUMMARY:Standing visit",
        "DTSTART;TZID=America/Chicago:20260105T100000",
        "DTEND;TZID=America/Chicago:20260105T110000",
        "RRULE:FREQ=WEEKLY;COUNT=4",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:range-1@brookside-pt.example",
        "SUMMARY:Standing visit, later slot",
        "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=America/Chicago:20260119T100000",
        "DTSTART;TZID=America/Chicago:20260119T113000",
        "DTEND;TZID=America/Chicago:20260119T123000",
        "END:VEVENT",
    )

    activities = read_activities(path)

    assert [(a.occurrence, a.occurred_at) for a in activities] == [
        (utc(2026, 1, 5, 16), utc(2026, 1, 5, 16)),
        (utc(2026, 1, 12, 16), utc(2026, 1, 12, 16)),
        (utc(2026, 1, 19, 16), utc(2026, 1, 19, 17, 30)),
        (utc(2026, 1, 26, 16), utc(2026, 1, 26, 17, 30)),
    ]
    assert activities[3].subject == "Standing visit, later slot"


def test_rdate_adds_occurrence(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:rdate-1@brookside-pt.example",
        "DTSTART;TZID=America/Chicago:20260105T100000",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        "RDATE;TZID=America/Chicago:20260108T150000",
        "END:VEVENT",
    )

    activities = read_activities(path)

    assert [a.occurrence for a in activities] == [
        utc(2026, 1, 5, 16),
        utc(2026, 1, 8, 21),
        utc(2026, 1, 12, 16),
    ]


def test_cancelled_series_and_lower_case_status_skipped(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:cancelled-series@brookside-pt.example",
        "STATUS:cancelled",
        "DTSTART:20260105T160000Z",
        "RRULE:FREQ=DAILY;COUNT=3",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:canceled-single@brookside-pt.example",
        "STATUS:Canceled",
        "DTSTART:20260106T160000Z",
        "END:VEVENT",
        "BEGIN:VEVENT",
        "UID:kept@brookside-pt.example",
        "STATUS:CONFIRMED",
        "DTSTART:20260107T160000Z",
        "END:VEVENT",
    )

    activities = read_activities(path)

    assert [a.external_id for a in activities] == ["kept@brookside-pt.example"]


def test_method_cancel_cancels_every_event(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "METHOD:CANCEL",
        "BEGIN:VEVENT",
        "UID:visit-1@brookside-pt.example",
        "SEQUENCE:1",
        "DTSTART:20260105T160000Z",
        "END:VEVENT",
    )

    assert read_items(path) == []


# All-day, floating and DURATION values.


def test_all_day_midnight_in_default_zone(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:open-house@ridgeway-ortho.example",
        "SUMMARY:Ridgeway open house",
        "DTSTART;VALUE=DATE:20260415",
        "DTEND;VALUE=DATE:20260416",
        "END:VEVENT",
    )

    (activity,) = read_activities(path)

    assert activity.occurred_at == utc(2026, 4, 15, 5)
    assert activity.ends_at == utc(2026, 4, 16, 5)
    assert activity.flags == frozenset({Flag.ALL_DAY})
    assert activity.occurrence is None
    assert activity.defects == ()


def test_all_day_date_with_tzid_stays_a_date(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:open-house-2@ridgeway-ortho.example",
        "DTSTART;TZID=Europe/Berlin;VALUE=DATE:20260415",
        "END:VEVENT",
    )

    (activity,) = read_activities(path)

    assert activity.occurred_at == utc(2026, 4, 15, 5)
    assert activity.ends_at == utc(2026, 4, 16, 5)
    assert activity.flags == frozenset({Flag.ALL_DAY})


def test_recurring_all_day_occurrence_in_default_zone(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:coverage@riverside-fm.example",
        "DTSTART;VALUE=DATE:20260105",
        "RRULE:FREQ=DAILY;COUNT=2",
        "END:VEVENT",
    )

    activities = read_activities(path, default_timezone="Europe/Paris")

    assert [a.occurrence for a in activities] == [
        utc(2026, 1, 4, 23),
        utc(2026, 1, 5, 23),
    ]
    assert (
        activities[0].provider_key
        == "coverage@riverside-fm.example 2026-01-04T23:00:00Z"
    )


def test_date_start_with_duration(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:conference@brookside-pt.example",
        "DTSTART;VALUE=DATE:20260415",
        "DURATION:P2D",
        "END:VEVENT",
    )

    (activity,) = read_activities(path)

    assert activity.occurred_at == utc(2026, 4, 15, 5)
    assert activity.ends_at == utc(2026, 4, 17, 5)
    assert activity.flags == frozenset({Flag.ALL_DAY})


def test_timed_start_with_duration(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:call@brookside-pt.example",
        "DTSTART;TZID=America/Chicago:20260415T100000",
        "DURATION:PT45M",
        "END:VEVENT",
    )

    (activity,) = read_activities(path)

    assert activity.occurred_at == utc(2026, 4, 15, 15)
    assert activity.ends_at == utc(2026, 4, 15, 15, 45)
    assert activity.flags == frozenset()


def test_floating_time_read_in_default_zone(tmp_path: Path) -> None:
    path = write_calendar(
        tmp_path,
        "BEGIN:VEVENT",
        "UID:floating@brookside-pt.example",
        "DTSTART:20260115T093000",
        "DTEND:20260115T100000",
        "END:VEVENT",
    )

    (activity,) = read_activities(path)

    assert activity.occurred_at == utc(2026, 1, 15, 15, 30)
    assert activity.ends_at == utc(2026, 1, 15, 16)
    assert activity.defects == ("floating time read in America/Chicago",)


def test_google_export_applies_x_wr_timezone() -> None:
    activities = by_uid(read_activities(DATA / "google_x_wr_timezone.ics"))

    floating = activities["0b9kq3n7m2c5h8r1t4v6x9z2aa@google.com"]
    # 15:00 in America/New_York (EST after 1 November), not in the account's zone.
    assert floating.occurred_at == utc(2026, 11, 5, 20)
    assert floating.defects == ()


def test_google_export_series_keeps_local_time_across_dst() -> None:
    activities = read_activities(DATA / "google_x_wr_timezone.ics")

    rounds = [a for a in activities if a.subject == "Weekly rounds at Elmwood"]
    # 09:00 New York time: EDT (UTC-4), then EST (UTC-5) from 1 November.
    assert [a.occurred_at for a in rounds] == [
        utc(2026, 10, 26, 13),
        utc(2026, 11, 2, 14),
        utc(2026, 11, 9, 14),
    ]
    assert rounds[0].participants[1].name == "Chidi Okafor"


def test_google_export_placeholder_organizers_give_no_participant() -> None:
    activities = by_uid(read_activities(DATA / "google_x_wr_timezone.ics"))

    open_house = activities["openhouse9e4d@google.com"]
    forwarded = activities["fwd77c1@google.com"]
    assert open_house.participants == ()
    assert open_house.flags == frozenset({Flag.ALL_DAY})
    # An all-day date starts at midnight in the calendar's own X-WR-TIMEZONE.
    assert open_house.occurred_at == utc(2026, 11, 11, 5)
    assert forwarded.participants == ()
