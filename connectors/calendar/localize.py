"""Make every date-time of a VEVENT aware before its recurrence is expanded.

A date-time comes in one of three forms: with a TZID parameter, in UTC (a
trailing Z), or floating (neither).  TZID values are re-read with the
calendar's own `TimezoneResolver`, keeping the wall time icalendar parsed.
Google exports may carry UTC and floating values plus a calendar-wide
X-WR-TIMEZONE, which x-wr-timezone applies as Google Calendar does.  Values
still floating after that, and values whose TZID nothing defines, are read
in the account's default zone with a defect, so no value is left naive or
silently UTC.

DATE values stay dates, because an all-day event has no time zone to guess.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Any

import icalendar
import x_wr_timezone
from icalendar.prop import vDDDLists, vDDDTypes

from connectors.calendar.timezones import TimezoneResolver

DATE_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")

# Defects travel with the component as this property, because
# recurring-ical-events copies the component for every occurrence it
# returns.  It is never written out, and `discard_recorded_defects` drops
# any copy that came with the input.
_DEFECT_PROPERTY = "X-WARMLINE-DEFECT"


@dataclasses.dataclass(frozen=True)
class Zones:
    """The zones one calendar's values are read in.

    `calendar_zone` is the resolved X-WR-TIMEZONE, or None.  `default_zone`
    is the account's zone, used for floating values when the calendar names
    none and for TZIDs that nothing defines.
    """

    resolver: TimezoneResolver
    calendar_zone: dt.tzinfo | None
    default_zone: zoneinfo.ZoneInfo

    @property
    def local_zone(self) -> dt.tzinfo:
        """The zone an all-day date starts in: the calendar's, else the account's."""
        return self.calendar_zone or self.default_zone


def localize_event(event: icalendar.Event, zones: Zones) -> icalendar.Event:
    """Return `event` with aware date-times and its defects recorded on it.

    TZID values are changed in place.  Applying X-WR-TIMEZONE may return a
    copy of the event.
    """
    _resolve_tzids(event, zones)
    if zones.calendar_zone is not None:
        walker = x_wr_timezone.UTCChangingWalker(zones.calendar_zone)
        event = walker.walk_event(event)
    _read_floating_values(event, zones.default_zone)
    return event


def record_defect(component: icalendar.Component, defect: str) -> None:
    """Attach `defect` to the component, once."""
    if defect not in recorded_defects(component):
        component.add(_DEFECT_PROPERTY, defect)


def discard_recorded_defects(component: icalendar.Component) -> None:
    """Remove defects the input itself carried under our property name."""
    component.pop(_DEFECT_PROPERTY, None)


def recorded_defects(component: icalendar.Component) -> tuple[str, ...]:
    """Return the defects attached to the component, in the order found."""
    values = component.get(_DEFECT_PROPERTY)
    if values is None:
        return ()
    if not isinstance(values, list):
        values = [values]
    return tuple(str(value) for value in values)


def _resolve_tzids(event: icalendar.Event, zones: Zones) -> None:
    for holder, params in _date_time_values(event):
        tzid = params.get("TZID")
        if params.get("VALUE", "").upper() == "DATE":
            # icalendar turns a DATE with a known TZID into a midnight
            # date-time, but the value is a date.
            holder.dt = _as_date(holder.dt)
            continue
        if not tzid:
            continue
        zone = zones.resolver.resolve(str(tzid))
        if zone is None:
            zone = zones.default_zone
            record_defect(event, f"unknown time zone {str(tzid)!r}")
        holder.dt = _attach_zone(holder.dt, zone, replace_existing=True)


def _read_floating_values(event: icalendar.Event, zone: zoneinfo.ZoneInfo) -> None:
    for holder, _params in _date_time_values(event):
        if _is_naive(holder.dt):
            holder.dt = _attach_zone(holder.dt, zone, replace_existing=False)
            record_defect(event, f"floating time read in {zone.key}")


def _date_time_values(
    event: icalendar.Event,
) -> Iterator[tuple[vDDDTypes, icalendar.Parameters]]:
    """Yield each date-time value holder with the parameters that apply to it."""
    for name in DATE_TIME_PROPERTIES:
        found = event.get(name)
        properties = found if isinstance(found, list) else [found]
        for prop in properties:
            if isinstance(prop, vDDDLists):
                for item in prop.dts:
                    yield item, prop.params
            elif isinstance(prop, vDDDTypes):
                yield prop, prop.params


def _attach_zone(value: Any, zone: dt.tzinfo, *, replace_existing: bool) -> Any:
    """Give the wall time in `value` the zone `zone`.

    `value` may be a date, a date-time or a PERIOD tuple of a start and an
    end or a duration.  An aware value keeps its zone unless
    `replace_existing` is set.
    """
    if isinstance(value, tuple):
        start, end = value
        return (
            _attach_zone(start, zone, replace_existing=replace_existing),
            _attach_zone(end, zone, replace_existing=replace_existing),
        )
    if not isinstance(value, dt.datetime):
        return value
    if value.tzinfo is not None and not replace_existing:
        return value
    return value.replace(tzinfo=zone)


def _is_naive(value: Any) -> bool:
    if isinstance(value, tuple):
        return any(_is_naive(part) for part in value)
    return isinstance(value, dt.datetime) and value.tzinfo is None


def _as_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    return value
