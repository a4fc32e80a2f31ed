"""iCalendar VEVENTs to meeting activities, shared by the .ics and CalDAV readers.

A reader parses its data with `parse_calendar`, builds a `ReadContext` with
`context_for`, then passes each group from `series_of` to `read_series`.
"""

from connectors.calendar.events import (
    ReadContext,
    context_for,
    occurrence_key,
    read_series,
    series_of,
    to_utc,
)
from connectors.calendar.localize import Zones
from connectors.calendar.parsing import ParsedCalendar, parse_calendar
from connectors.calendar.participants import is_person_address, participants_of
from connectors.calendar.timezones import (
    TimezoneResolver,
    iana_name_for_windows_id,
    iana_name_for_windows_name,
    load_iana_zone,
)
from connectors.calendar.window import Window

__all__ = [
    "ParsedCalendar",
    "ReadContext",
    "TimezoneResolver",
    "Window",
    "Zones",
    "context_for",
    "iana_name_for_windows_id",
    "iana_name_for_windows_name",
    "is_person_address",
    "load_iana_zone",
    "occurrence_key",
    "parse_calendar",
    "participants_of",
    "read_series",
    "series_of",
    "to_utc",
]
