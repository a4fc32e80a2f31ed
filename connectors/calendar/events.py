"""VEVENTs to meeting activities, one activity per occurrence.

The VEVENTs that share a UID form one series: a master, which may carry
RRULE, RDATE and EXDATE, and overrides, each with the RECURRENCE-ID of the
occurrence it replaces.  recurring-ical-events expands a series within the
window, applying EXDATEs and overrides (the override with the highest
SEQUENCE wins for each RECURRENCE-ID).  Cancelled occurrences are skipped.

Each occurrence of a recurring series is keyed by its original start in UTC:
the RECURRENCE-ID of an override, the generated start otherwise.  It stays
the same when that occurrence is moved, while `occurred_at` follows the move.
An all-day event starts at midnight of its date in the account's zone.

Some producers, Zimbra among them, write overrides with only the changed
properties.  An override without SUMMARY, LOCATION, ORGANIZER or ATTENDEE
therefore takes the master's, instead of losing the subject, place and
people that link the occurrence to a referral source.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import Any

import icalendar
import recurring_ical_events

from connectors.calendar.localize import (
    Zones,
    discard_recorded_defects,
    localize_event,
    record_defect,
    recorded_defects,
)
from connectors.calendar.participants import participants_of
from connectors.calendar.timezones import TimezoneResolver
from connectors.calendar.validation import ignored_property_defects, unreadable_reason
from connectors.calendar.window import Window
from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Item,
    Participant,
    Quarantined,
)

# recurring-ical-events compares an all-day occurrence with the window as if
# its date were midnight UTC.  The query therefore requests one more day on
# each side, and each start is then checked against the window exactly.
_QUERY_MARGIN = dt.timedelta(days=1)

_CANCELLED = frozenset({"CANCELLED", "CANCELED"})

_INHERITED_BY_OVERRIDES = ("SUMMARY", "LOCATION", "ORGANIZER", "ATTENDEE")


@dataclasses.dataclass(frozen=True)
class ReadContext:
    """Settings and defects that apply to every event of one calendar.

    `defects` are problems of the whole calendar, such as its encoding,
    added to every activity read from it.
    """

    window: Window
    zones: Zones
    defects: tuple[str, ...] = ()


def context_for(
    calendar: icalendar.Calendar,
    window: Window,
    default_zone: zoneinfo.ZoneInfo,
    defects: Sequence[str] = (),
) -> ReadContext:
    """Build the read context of `calendar`: its zones and its defects."""
    resolver = TimezoneResolver.for_calendar(calendar)
    calendar_zone = None
    all_defects = list(defects)
    calendar_zone_name = calendar.get("X-WR-TIMEZONE")
    if calendar_zone_name is not None:
        calendar_zone = resolver.resolve(str(calendar_zone_name))
        if calendar_zone is None:
            all_defects.append(
                f"unknown time zone {str(calendar_zone_name)!r} "
                "in X-WR-TIMEZONE ignored"
            )
    zones = Zones(resolver, calendar_zone, default_zone)
    return ReadContext(window, zones, tuple(all_defects))


def series_of(calendar: icalendar.Calendar) -> list[list[icalendar.Event]]:
    """Group the calendar's VEVENTs by UID, in the order of first appearance.

    A VEVENT without a UID gets one derived from its content, with a defect,
    so it is still read.  The derived UID changes whenever the event does.
    """
    groups: dict[str, list[icalendar.Event]] = {}
    for event in calendar.walk("VEVENT"):
        if not isinstance(event, icalendar.Event):
            continue
        discard_recorded_defects(event)
        uid = str(event.get("UID", "")).strip()
        if not uid:
            digest = hashlib.sha256(event.to_ical()).hexdigest()[:24]
            uid = f"no-uid-{digest}"
            event["UID"] = uid
            record_defect(event, f"missing UID; derived {uid} from the content")
        groups.setdefault(uid, []).append(event)
    return list(groups.values())


def read_series(
    events: Sequence[icalendar.Event], context: ReadContext
) -> Iterator[Item]:
    """Yield the items of one series: its occurrences in the window, in no
    particular order, and a quarantined item for each unreadable VEVENT."""
    uid = str(events[0]["UID"]).strip()
    readable = []
    for event in events:
        reason = unreadable_reason(event)
        ignored = ignored_property_defects(event)
        event = localize_event(event, context.zones)
        if reason is not None:
            key = occurrence_key(uid, _recurrence_id_utc(event, context))
            yield Quarantined(key, reason)
            continue
        for defect in ignored:
            record_defect(event, defect)
        readable.append(event)
    if readable:
        yield from _expand(uid, readable, context)


def occurrence_key(uid: str, occurrence: dt.datetime | None) -> str:
    """Return the provider key of one occurrence of the event `uid`.

    It is the UID alone for a single event, and the UID, a space and the
    original start as ISO 8601 UTC ("...Z") for an occurrence of a series.
    """
    if occurrence is None:
        return uid
    return f"{uid} {occurrence.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}"


def to_utc(value: dt.date | dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """Convert a date or date-time to aware UTC.

    A date becomes midnight in `zone`, and so does the wall time of a naive
    date-time.
    """
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0), tzinfo=zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True)
class _Occurrence:
    """One occurrence: its VEVENT, its start and end, and its original start."""

    source: icalendar.Event
    participants: tuple[Participant, ...]
    start: dt.date
    end: dt.date
    original_start: dt.date


def _expand(
    uid: str, events: list[icalendar.Event], context: ReadContext
) -> Iterator[Item]:
    _fill_overrides_from_master(events)
    recurring = any(_is_recurring(event) for event in events)
    occurrences = _occurrences(events, context.window)
    while True:
        try:
            occurrence = next(occurrences)
        except StopIteration:
            return
        except (ValueError, TypeError) as error:
            # recurring-ical-events raises InvalidCalendar (a ValueError) and
            # dateutil raises ValueError or TypeError for rules and values it
            # cannot combine.  Occurrences yielded so far stand.
            reason = f"recurrence cannot be expanded: {error}"
            yield Quarantined(occurrence_key(uid, None), reason)
            return
        activity = _activity(uid, occurrence, recurring, context)
        if activity is not None:
            yield activity


def _occurrences(
    events: list[icalendar.Event], window: Window
) -> Iterator[_Occurrence]:
    """Yield the occurrences of one series that may start in the window.

    recurring-ical-events reports each occurrence's start, end and the
    RECURRENCE-ID of the override it comes from (in UTC, without tzinfo).
    That is enough to find its VEVENT without copying it, which
    `Occurrence.as_component` would do for every occurrence.
    """
    calendar = icalendar.Calendar()
    for event in events:
        calendar.add_component(event)
    query = recurring_ical_events.of(calendar)
    master, overrides = _master_and_overrides(events)
    participants = {id(event): participants_of(event) for event in events}
    start = window.start - _QUERY_MARGIN
    end = window.end + _QUERY_MARGIN
    for series in query.series:
        for occurrence in series.between(start, end):
            ids = occurrence.recurrence_ids
            override = overrides.get(ids[0]) if ids else None
            source = override if override is not None else master
            if source is None:
                continue
            original_start = occurrence.start
            if override is not None:
                original_start = _original_start_from(override, occurrence.start)
            yield _Occurrence(
                source=source,
                participants=participants[id(source)],
                start=occurrence.start,
                end=occurrence.end,
                original_start=original_start,
            )


def _master_and_overrides(
    events: list[icalendar.Event],
) -> tuple[icalendar.Event | None, dict[dt.datetime, icalendar.Event]]:
    """Return the master and the overrides by RECURRENCE-ID, highest SEQUENCE
    first, as recurring-ical-events chooses them."""
    master = None
    overrides: dict[dt.datetime, icalendar.Event] = {}
    for event in sorted(events, key=_sequence):
        original_start = _date_value(event, "RECURRENCE-ID")
        if original_start is None:
            master = event
        else:
            overrides[_recurrence_id_key(original_start)] = event
    return master, overrides


def _recurrence_id_key(value: dt.date) -> dt.datetime:
    """Return the naive UTC form recurring-ical-events identifies occurrences by."""
    if not isinstance(value, dt.datetime):
        # Naive on purpose: the library's RECURRENCE-ID keys carry no tzinfo.
        return dt.datetime(value.year, value.month, value.day)  # noqa: DTZ001
    if value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _original_start_from(override: icalendar.Event, start: dt.date) -> dt.date:
    """Return the original start of an occurrence that `override` produced.

    That is the override's RECURRENCE-ID, unless the override has
    RANGE=THISANDFUTURE and so also moves the later occurrences (RFC 5545
    section 3.8.4.4).  recurring-ical-events reports those with the
    override's RECURRENCE-ID too, so their original start is their start
    moved back by as much as the override moved its own.
    """
    original_start = _date_value(override, "RECURRENCE-ID")
    if original_start is None:
        return start
    recurrence_range = str(override["RECURRENCE-ID"].params.get("RANGE", ""))
    if recurrence_range.upper() != "THISANDFUTURE":
        return original_start
    moved_start = _date_value(override, "DTSTART")
    if moved_start is None or type(moved_start) is not type(start):
        return start
    return start - (moved_start - original_start)


def _activity(
    uid: str, occurrence: _Occurrence, recurring: bool, context: ReadContext
) -> Activity | None:
    """Return the activity of one occurrence, or None if it does not count."""
    source = occurrence.source
    if str(source.get("STATUS", "")).strip().upper() in _CANCELLED:
        return None
    zone = context.zones.local_zone
    occurred_at = to_utc(occurrence.start, zone)
    if not context.window.contains(occurred_at):
        return None
    original_start = None
    if recurring:
        original_start = to_utc(occurrence.original_start, zone)
    all_day = not isinstance(_date_value(source, "DTSTART"), dt.datetime)
    return Activity(
        kind=ActivityKind.MEETING,
        provider_key=occurrence_key(uid, original_start),
        external_id=uid,
        occurred_at=occurred_at,
        participants=occurrence.participants,
        subject=_text(source, "SUMMARY"),
        occurrence=original_start,
        ends_at=to_utc(occurrence.end, zone),
        location=_text(source, "LOCATION"),
        flags=frozenset({Flag.ALL_DAY}) if all_day else frozenset(),
        defects=(*recorded_defects(source), *context.defects),
    )


def _fill_overrides_from_master(events: list[icalendar.Event]) -> None:
    """Copy the master's inherited properties into overrides that lack them."""
    masters = [event for event in events if "RECURRENCE-ID" not in event]
    if not masters:
        return
    master = max(masters, key=_sequence)
    for event in events:
        if "RECURRENCE-ID" not in event:
            continue
        for name in _INHERITED_BY_OVERRIDES:
            if name not in event and name in master:
                event[name] = master[name]


def _recurrence_id_utc(
    event: icalendar.Event, context: ReadContext
) -> dt.datetime | None:
    """Return the UTC RECURRENCE-ID of an override, if it can be read."""
    value = _date_value(event, "RECURRENCE-ID")
    if value is None:
        return None
    return to_utc(value, context.zones.local_zone)


def _date_value(component: icalendar.Component, name: str) -> dt.date | None:
    """Return the date or date-time of a property, or None if it has none."""
    value = getattr(component.get(name), "dt", None)
    return value if isinstance(value, dt.date) else None


def _sequence(event: icalendar.Event) -> int:
    value = event.get("SEQUENCE", 0)
    return value if isinstance(value, int) else 0


def _is_recurring(event: icalendar.Event) -> bool:
    return any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))


def _text(component: icalendar.Component, name: str) -> str | None:
    value: Any = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    text = str(value).strip()
    return text or None
