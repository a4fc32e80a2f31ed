"""Resolve iCalendar TZID values to time zones.

A TZID names a VTIMEZONE in the same calendar (RFC 5545 section 3.2.19), but
real files also use IANA names without a VTIMEZONE (Google, Apple), Windows
ids such as "W. Europe Standard Time" (Exchange, Outlook), numbered copies
such as "Eastern Standard Time 1" (Outlook), Windows display names such as
"(UTC-05:00) Eastern Time (US & Canada)", and vendor-prefixed ids such as
"/mozilla.org/20050126_1/America/New_York" (Lightning, Evolution).

icalendar resolves TZIDs itself while parsing, and it caches each VTIMEZONE
in one process-wide table the first time it parses that TZID.  A second file
with another "Customized Time Zone" would then get the first file's rules,
and a file without the definition would still resolve it.
`TimezoneResolver` therefore resolves the TZIDs of one calendar from that
calendar alone.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Iterable

import icalendar
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from connectors.calendar.windows_zones import DISPLAY_NAME_TO_WINDOWS_ID

# Zone names that tzdata or the system may contain but that name no place.
# "localtime" is the server's own zone, so reading a TZID as it is a guess.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})

# "(UTC-05:00) ", "(UTC) ", "(GMT+01:00) " at the start of a display name.
_DISPLAY_PREFIX = re.compile(r"^\((?:UTC|GMT)(?:\s*[+-]\d{1,2}:\d{2})?\)\s*", re.I)

# Outlook numbers a second definition of the same zone: "Eastern Standard
# Time 1".  Some real Windows ids also end in a number ("Russia Time Zone 3"),
# so the suffix is only dropped after the full name failed to resolve.
_NUMBER_SUFFIX = re.compile(r"\s+\d+$")


def load_iana_zone(name: str) -> zoneinfo.ZoneInfo | None:
    """Return the IANA zone called `name`, or None if tzdata has no such zone."""
    if name in _NOT_PLACES:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # ZoneInfo raises ValueError for a path and OSError for a directory
        # such as "America".
        return None


@functools.cache
def _windows_ids_by_lower_case() -> dict[str, str]:
    return {windows_id.lower(): windows_id for windows_id in WINDOWS_TO_OLSON}


def iana_name_for_windows_id(tzid: str) -> str | None:
    """Map a Windows time zone id ("Romance Standard Time") to an IANA name.

    The map is CLDR's windowsZones table as shipped with icalendar.  Case and
    runs of spaces are ignored.
    """
    name = " ".join(tzid.split()).lower()
    windows_id = _windows_ids_by_lower_case().get(name)
    if windows_id is None:
        return None
    return WINDOWS_TO_OLSON[windows_id]


def iana_name_for_windows_name(tzid: str) -> str | None:
    """Map any Windows spelling of a zone to an IANA name.

    Besides an id, this accepts an id with Outlook's numeric suffix
    ("Eastern Standard Time 1") and a display name such as "(UTC+01:00)
    Brussels, Copenhagen, Madrid, Paris", with or without the suffix.
    """
    name = " ".join(tzid.split())
    without_number = _NUMBER_SUFFIX.sub("", name)
    for spelling in dict.fromkeys([name, without_number]):
        iana_name = iana_name_for_windows_id(spelling)
        if iana_name is not None:
            return iana_name
        label = _DISPLAY_PREFIX.sub("", spelling).lower()
        windows_id = DISPLAY_NAME_TO_WINDOWS_ID.get(label)
        if windows_id is not None:
            return WINDOWS_TO_OLSON[windows_id]
    return None


def _iana_zone_after_vendor_prefix(tzid: str) -> zoneinfo.ZoneInfo | None:
    """Resolve "/vendor/version/Area/City" by its longest IANA suffix."""
    if not tzid.startswith("/"):
        return None
    parts = tzid.strip("/").split("/")
    for start in range(1, len(parts)):
        zone = load_iana_zone("/".join(parts[start:]))
        if zone is not None:
            return zone
    return None


class TimezoneResolver:
    """Resolves the TZIDs of one calendar to tzinfo objects.

    The order is: an IANA name, a Windows id, the calendar's own VTIMEZONE,
    another Windows spelling (a numbered id or a display name), then a
    vendor-prefixed IANA name.  IANA names and Windows ids come first
    because tzdata carries each zone's full history, while exported
    VTIMEZONEs often hold only the current rules (Outlook) or start in a
    recent year (iPhone).  A numbered id comes after the VTIMEZONE because
    Outlook numbers a definition that differs from the standard one.
    """

    def __init__(self, definitions: Iterable[icalendar.Timezone] = ()) -> None:
        self._definitions = {
            str(definition["TZID"]).strip(): definition
            for definition in definitions
            if "TZID" in definition
        }
        self._resolved: dict[str, dt.tzinfo | None] = {}

    @classmethod
    def for_calendar(cls, calendar: icalendar.Component) -> TimezoneResolver:
        """Build a resolver from the VTIMEZONE components of `calendar`."""
        definitions = [
            component
            for component in calendar.walk("VTIMEZONE")
            if isinstance(component, icalendar.Timezone)
        ]
        return cls(definitions)

    def resolve(self, tzid: str) -> dt.tzinfo | None:
        """Return the zone that `tzid` names, or None when nothing defines it."""
        if tzid not in self._resolved:
            self._resolved[tzid] = self._lookup(tzid.strip())
        return self._resolved[tzid]

    def _lookup(self, tzid: str) -> dt.tzinfo | None:
        zone: dt.tzinfo | None = load_iana_zone(tzid)
        if zone is not None:
            return zone
        iana_name = iana_name_for_windows_id(tzid)
        if iana_name is not None:
            return load_iana_zone(iana_name)
        zone = self._zone_from_definition(tzid)
        if zone is not None:
            return zone
        iana_name = iana_name_for_windows_name(tzid)
        if iana_name is not None:
            return load_iana_zone(iana_name)
        return _iana_zone_after_vendor_prefix(tzid)

    def _zone_from_definition(self, tzid: str) -> dt.tzinfo | None:
        definition = self._definitions.get(tzid)
        if definition is None:
            return None
        try:
            # lookup_tzid=False builds the zone from this component instead of
            # reading icalendar's process-wide cache.
            zone: dt.tzinfo = definition.to_tz(tzp, lookup_tzid=False)
        except ValueError:
            # dateutil raises this for a VTIMEZONE without STANDARD or
            # DAYLIGHT parts, DTSTART or offsets.  Its TZID counts as undefined.
            return None
        return zone
