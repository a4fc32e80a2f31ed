"""TZID resolution: IANA names, Windows ids and display names, VTIMEZONEs."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
import pytest
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from connectors.calendar import (
    TimezoneResolver,
    iana_name_for_windows_id,
    iana_name_for_windows_name,
    load_iana_zone,
)
from connectors.calendar.windows_zones import DISPLAY_NAME_TO_WINDOWS_ID

MOUNTAIN_DEFINITION = """BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16011104T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZOFFSETFROM:-0600
TZOFFSETTO:-0700
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010311T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZOFFSETFROM:-0700
TZOFFSETTO:-0600
END:DAYLIGHT
END:VTIMEZONE
"""

INDIA_DEFINITION = """BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:+0530
TZOFFSETTO:+0530
END:STANDARD
END:VTIMEZONE
"""


def definition(text: str) -> icalendar.Timezone:
    component = icalendar.Timezone.from_ical(text)
    assert isinstance(component, icalendar.Timezone)
    return component


def offset_on(
    zone: dt.tzinfo | None, year: int, month: int, day: int, hour: int = 0
) -> dt.timedelta | None:
    assert zone is not None
    return dt.datetime(year, month, day, hour, tzinfo=zone).utcoffset()


@pytest.mark.parametrize(
    ("tzid", "iana_name"),
    [
        ("Eastern Standard Time", "America/New_York"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("Romance Standard Time", "Europe/Paris"),
        ("Pacific Standard Time", "America/Los_Angeles"),
        ("pacific  standard time", "America/Los_Angeles"),
        ("Russia Time Zone 3", "Europe/Samara"),
    ],
)
def test_windows_id_maps_to_iana(tzid: str, iana_name: str) -> None:
    assert iana_name_for_windows_id(tzid) == iana_name


@pytest.mark.parametrize(
    ("tzid", "iana_name"),
    [
        ("Eastern Standard Time 1", "America/New_York"),
        ("Central Standard Time 2", "America/Chicago"),
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC-06:00) Central Time (US & Canada)", "America/Chicago"),
        ("(UTC+01:00) Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"),
        (
            "(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
            "Europe/Berlin",
        ),
        ("(UTC) Coordinated Universal Time", "Etc/UTC"),
        ("(UTC+00:00) Dublin, Edinburgh, Lisbon, London", "Europe/London"),
        ("(GMT-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC-05:00) Eastern Time (US & Canada) 1", "America/New_York"),
        ("Eastern Time", "America/New_York"),
    ],
)
def test_windows_spelling_maps_to_iana(tzid: str, iana_name: str) -> None:
    assert iana_name_for_windows_name(tzid) == iana_name


@pytest.mark.parametrize(
    "tzid",
    ["Customized Time Zone", "Eastern Standard", "(UTC-05:00) Somewhere", ""],
)
def test_unknown_windows_spelling_maps_to_nothing(tzid: str) -> None:
    assert iana_name_for_windows_name(tzid) is None


def test_display_names_name_known_windows_ids() -> None:
    unknown = sorted(set(DISPLAY_NAME_TO_WINDOWS_ID.values()) - set(WINDOWS_TO_OLSON))

    assert unknown == []


@pytest.mark.parametrize("name", ["localtime", "posixrules", "America", "", "../etc"])
def test_load_iana_zone_rejects_non_places(name: str) -> None:
    assert load_iana_zone(name) is None


def test_resolver_prefers_tzdata_for_iana_name() -> None:
    paris = definition(
        MOUNTAIN_DEFINITION.replace("Customized Time Zone", "Europe/Paris")
    )
    resolver = TimezoneResolver([paris])

    zone = resolver.resolve("Europe/Paris")

    assert zone == zoneinfo.ZoneInfo("Europe/Paris")


def test_resolver_uses_calendar_definition() -> None:
    resolver = TimezoneResolver([definition(MOUNTAIN_DEFINITION)])

    zone = resolver.resolve("Customized Time Zone")

    assert offset_on(zone, 2026, 7, 2, 9) == dt.timedelta(hours=-6)
    assert offset_on(zone, 2026, 1, 15, 9) == dt.timedelta(hours=-7)


def test_resolvers_keep_definitions_apart() -> None:
    mountain = TimezoneResolver([definition(MOUNTAIN_DEFINITION)])
    india = TimezoneResolver([definition(INDIA_DEFINITION)])
    without = TimezoneResolver()

    mountain_zone = mountain.resolve("Customized Time Zone")
    india_zone = india.resolve("Customized Time Zone")

    assert offset_on(mountain_zone, 2026, 7, 2) == dt.timedelta(hours=-6)
    assert offset_on(india_zone, 2026, 7, 2) == dt.timedelta(hours=5, minutes=30)
    assert without.resolve("Customized Time Zone") is None


def test_resolver_prefers_numbered_definition_to_windows_id() -> None:
    numbered = definition(INDIA_DEFINITION.replace("Customized", "Eastern Standard"))
    numbered["TZID"] = "Eastern Standard Time 1"
    resolver = TimezoneResolver([numbered])

    zone = resolver.resolve("Eastern Standard Time 1")

    assert offset_on(zone, 2026, 7, 2) == dt.timedelta(hours=5, minutes=30)


def test_resolver_maps_numbered_windows_id_without_definition() -> None:
    resolver = TimezoneResolver()

    zone = resolver.resolve("Eastern Standard Time 1")

    assert zone == zoneinfo.ZoneInfo("America/New_York")


def test_resolver_strips_vendor_prefix() -> None:
    resolver = TimezoneResolver()

    zone = resolver.resolve("/mozilla.org/20050126_1/America/New_York")

    assert zone == zoneinfo.ZoneInfo("America/New_York")


def test_resolver_ignores_unusable_definition() -> None:
    # Built in code: icalendar would reject this VTIMEZONE while parsing it.
    broken = icalendar.Timezone()
    broken.add("TZID", "Broken Zone")
    standard = icalendar.TimezoneStandard()
    # A VTIMEZONE's DTSTART is local time, so it has no tzinfo.
    standard.add("DTSTART", dt.datetime(1601, 1, 1))  # noqa: DTZ001
    broken.add_component(standard)
    resolver = TimezoneResolver([broken])

    assert resolver.resolve("Broken Zone") is None


def test_resolver_returns_none_for_unknown_tzid() -> None:
    resolver = TimezoneResolver()

    assert resolver.resolve("Customized Time Zone") is None
