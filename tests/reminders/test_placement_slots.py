"""Working hours and the free-slot search, without a calendar."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from reminders.slots import SlotRequest, WorkingHours, find_slot, merge
from warmline.settings import SettingError, parse_setting

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
HOURS = WorkingHours.parse("mon-fri 09:00-17:00")
HALF_HOUR = dt.timedelta(minutes=30)


def utc(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=dt.UTC)


def request(
    first: dt.date, days: int = 1, not_before: dt.datetime | None = None
) -> SlotRequest:
    return SlotRequest(
        first_day=first,
        last_day=first + dt.timedelta(days=days - 1),
        duration=HALF_HOUR,
        zone=CHICAGO,
        not_before=not_before or utc(1, 1, 0),
    )


def test_parse_several_ranges():
    hours = WorkingHours.parse(
        "Mon-Thu 08:00-12:00; mon-thu 13:00-16:30; fri 08:00-12:00"
    )

    assert hours.days[0] == (
        (dt.time(8), dt.time(12)),
        (dt.time(13), dt.time(16, 30)),
    )
    assert hours.days[4] == ((dt.time(8), dt.time(12)),)
    assert 5 not in hours.days


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "working hours are empty"),
        ("mon-fry 09:00-17:00", "day 'fry' in working hours is invalid"),
        ("mon-fri 9-17", "working hours 'mon-fri 9-17' are invalid"),
        ("mon-fri 17:00-09:00", "end before they start"),
        ("fri-mon 09:00-17:00", "day range fri-mon runs backwards"),
        ("mon 25:00-26:00", "time '25:00' in working hours"),
    ],
)
def test_parse_rejects_invalid(text, message):
    with pytest.raises(ValueError, match=message):
        WorkingHours.parse(text)


def test_setting_names_value_and_fix():
    with pytest.raises(SettingError, match="invalid value for working_hours"):
        parse_setting("working_hours", "9 to 5")
    assert parse_setting("working_hours", " Mon-Fri  09:00-17:00 ") == (
        "mon-fri 09:00-17:00"
    )


def test_first_slot_is_start_of_day():
    found = find_slot(request(dt.date(2026, 12, 7)), HOURS, [])

    assert found == (utc(12, 7, 15), utc(12, 7, 15, 30))


def test_slot_after_busy_on_quarter_hour():
    busy = [(utc(12, 7, 14), utc(12, 7, 15, 10))]

    found = find_slot(request(dt.date(2026, 12, 7)), HOURS, busy)

    assert found == (utc(12, 7, 15, 15), utc(12, 7, 15, 45))


def test_slot_may_touch_busy_interval():
    busy = [(utc(12, 7, 15, 30), utc(12, 7, 23))]

    found = find_slot(request(dt.date(2026, 12, 7)), HOURS, busy)

    assert found == (utc(12, 7, 15), utc(12, 7, 15, 30))


def test_not_before_now_rounded_up():
    found = find_slot(
        request(dt.date(2026, 12, 7), not_before=utc(12, 7, 18, 1)), HOURS, []
    )

    assert found == (utc(12, 7, 18, 15), utc(12, 7, 18, 45))


def test_weekend_skipped():
    found = find_slot(request(dt.date(2026, 12, 5), days=3), HOURS, [])

    assert found == (utc(12, 7, 15), utc(12, 7, 15, 30))


def test_none_when_every_day_full():
    busy = [(utc(12, 7, 0), utc(12, 9, 0))]

    assert find_slot(request(dt.date(2026, 12, 7), days=2), HOURS, busy) is None


def test_local_time_kept_across_dst_change():
    # Chicago leaves daylight saving time on Sunday 1 November 2026.
    before = find_slot(request(dt.date(2026, 10, 30)), HOURS, [])
    after = find_slot(request(dt.date(2026, 11, 2)), HOURS, [])

    assert before == (utc(10, 30, 14), utc(10, 30, 14, 30))
    assert after == (utc(11, 2, 15), utc(11, 2, 15, 30))


def test_merge_joins_overlaps():
    spans = [
        (utc(1, 1, 10), utc(1, 1, 11)),
        (utc(1, 1, 9), utc(1, 1, 10)),
        (utc(1, 1, 12), utc(1, 1, 13)),
    ]

    assert merge(spans) == [
        (utc(1, 1, 9), utc(1, 1, 11)),
        (utc(1, 1, 12), utc(1, 1, 13)),
    ]
