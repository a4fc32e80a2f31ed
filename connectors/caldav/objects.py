"""One calendar object resource to meeting items, as the .ics reader reads a file.

A calendar object contains the VEVENTs of one UID: a single event, or a
series with its overrides (RFC 4791 section 4.1).  It is parsed and
expanded by connectors.calendar, so recurrences, time zones and
participants come out exactly as from an .ics file.  Each provider key
gains the prefix "calendar-href|object-href|", so every occurrence of one
object can be dropped with one ScopeListed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo

import icalendar

from connectors.caldav.hrefs import object_prefix
from connectors.calendar import (
    Window,
    context_for,
    parse_calendar,
    read_series,
    series_of,
)
from connectors.errors import MalformedData
from connectors.records import Activity, Item, Quarantined


@dataclasses.dataclass(frozen=True)
class ObjectRead:
    """The items of one calendar object, and whether they depend on the window.

    `window_dependent` is true when moving the window may add or drop
    occurrences: the object has a recurrence rule or dates, or an event
    that starts after the window's end.
    """

    items: list[Item]
    window_dependent: bool


def read_object(
    calendar: str,
    href: str,
    data: str,
    window: Window,
    zone: zoneinfo.ZoneInfo,
) -> ObjectRead:
    """Read the occurrences of one calendar object within the window.

    Data that is not iCalendar gives one Quarantined item keyed by the
    object's prefix.
    """
    prefix = object_prefix(calendar, href)
    try:
        parsed = parse_calendar(data.encode("utf-8"))
    except MalformedData as error:
        reason = f"calendar object {href} cannot be read: {error}"
        return ObjectRead([Quarantined(prefix, reason)], window_dependent=False)
    context = context_for(parsed.calendar, window, zone, parsed.defects)
    items: list[Item] = []
    for events in series_of(parsed.calendar):
        items.extend(
            _with_prefix(item, prefix) for item in read_series(events, context)
        )
    return ObjectRead(items, _depends_on_window(parsed.calendar, window))


def _with_prefix(item: Item, prefix: str) -> Item:
    if isinstance(item, Activity):
        item.provider_key = prefix + item.provider_key
        return item
    if isinstance(item, Quarantined):
        return dataclasses.replace(item, provider_key=prefix + item.provider_key)
    raise TypeError(f"read_series yielded an unexpected {type(item).__name__}")


def _depends_on_window(calendar: icalendar.Calendar, window: Window) -> bool:
    # A day of margin covers any zone offset, since only the date is compared.
    last_date = (window.end - dt.timedelta(days=1)).date()
    for event in calendar.walk("VEVENT"):
        if "RRULE" in event or "RDATE" in event:
            return True
        start = getattr(event.get("DTSTART"), "dt", None)
        if isinstance(start, dt.datetime):
            start = start.date()
        if isinstance(start, dt.date) and start >= last_date:
            return True
    return False
