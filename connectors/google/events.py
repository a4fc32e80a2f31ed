"""Google Calendar event resources to meeting activities.

Events are read with singleEvents=true, so each occurrence of a recurring
event arrives as an instance with `recurringEventId` and
`originalStartTime`.  An instance keeps its provider key and its
`occurrence` (the original start in UTC) when it is moved, while
`occurred_at` follows the move.

A cancelled entry may hold nothing but `id` and `status` (plus
`recurringEventId` and `originalStartTime` for an instance), so its key is
built from those fields alone.  All-day events have `date` values, which
mean midnight in the calendar's time zone, not in UTC.  Organizer and
attendee addresses that Google generates for calendars rather than people
("unknownorganizer@calendar.google.com", "...@group.calendar.google.com")
and resources (rooms) give no participant.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from connectors.calendar import is_person_address, occurrence_key
from connectors.errors import MalformedData
from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Participant,
    ParticipantRole,
)

# Google's responseStatus values as iCalendar PARTSTAT in lower case, the
# form `Participant.response` uses for every calendar source.
_RESPONSES = {
    "needsAction": "needs-action",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentative",
}


def event_key(calendar_id: str, event: Mapping[str, Any], zone: dt.tzinfo) -> str:
    """Return the provider key of an event or instance in `calendar_id`.

    "{calendar}/{event id}" for a single event, and
    "{calendar}/{recurringEventId} {original start as ...Z}" for an instance.
    `zone` is the calendar's time zone, for an all-day original start.
    """
    series = event.get("recurringEventId")
    original = event.get("originalStartTime")
    if isinstance(series, str) and isinstance(original, Mapping):
        try:
            start = event_time(original, zone)
        except MalformedData:
            start = None
        if start is not None:
            return f"{calendar_id}/{occurrence_key(series, start)}"
    return f"{calendar_id}/{event.get('id')}"


def series_prefix(calendar_id: str, event: Mapping[str, Any]) -> str | None:
    """Return the key prefix of the instances of a cancelled recurring event.

    A cancelled entry without `recurringEventId` may be a whole series whose
    instances were stored one by one; their keys start with this prefix.
    """
    if event.get("recurringEventId"):
        return None
    return f"{calendar_id}/{event.get('id')} "


def event_activity(
    calendar_id: str, event: Mapping[str, Any], zone: dt.tzinfo
) -> Activity:
    """Build the activity of one confirmed or tentative event or instance.

    `zone` is the calendar's time zone, for all-day dates and times without
    an offset.  Raises MalformedData when the event has no readable start.
    """
    key = event_key(calendar_id, event, zone)
    start_value = event.get("start")
    if not isinstance(start_value, Mapping):
        raise MalformedData(f"event {key} has no start")
    start = event_time(start_value, zone)
    end_value = event.get("end")
    end = event_time(end_value, zone) if isinstance(end_value, Mapping) else None
    occurrence = None
    original = event.get("originalStartTime")
    if event.get("recurringEventId") and isinstance(original, Mapping):
        occurrence = event_time(original, zone)
    flags = set()
    if "date" in start_value and "dateTime" not in start_value:
        flags.add(Flag.ALL_DAY)
    if _declined_by_self(event):
        flags.add(Flag.DECLINED)
    return Activity(
        kind=ActivityKind.MEETING,
        provider_key=key,
        external_id=str(event.get("iCalUID") or event.get("id")),
        occurred_at=start,
        participants=event_participants(event),
        subject=_text(event.get("summary")),
        occurrence=occurrence,
        ends_at=end,
        location=_text(event.get("location")),
        flags=frozenset(flags),
    )


def event_time(value: Mapping[str, Any], zone: dt.tzinfo) -> dt.datetime:
    """Read a start, end or originalStartTime object as aware UTC.

    A `date` is midnight in `zone`.  A `dateTime` has an offset in Google's
    responses; one without it is read in its `timeZone`, else in `zone`.
    """
    text = value.get("dateTime")
    if isinstance(text, str):
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as error:
            raise MalformedData(f"dateTime {text!r} is invalid") from error
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone_named(value.get("timeZone"), zone))
        return moment.astimezone(dt.UTC)
    text = value.get("date")
    if isinstance(text, str):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError as error:
            raise MalformedData(f"date {text!r} is invalid") from error
        return dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    raise MalformedData("a time has neither dateTime nor date")


def event_participants(event: Mapping[str, Any]) -> tuple[Participant, ...]:
    """Return the organizer, then the attendees, each address and role once."""
    found: list[Participant] = []
    seen: set[tuple[str, ParticipantRole]] = set()
    organizer = event.get("organizer")
    people: list[tuple[Any, ParticipantRole]] = [(organizer, ParticipantRole.ORGANIZER)]
    people += [(a, ParticipantRole.ATTENDEE) for a in event.get("attendees") or []]
    for person, role in people:
        participant = _participant(person, role)
        if participant is None or (participant.address, role) in seen:
            continue
        seen.add((participant.address, role))
        found.append(participant)
    return tuple(found)


def _participant(person: Any, role: ParticipantRole) -> Participant | None:
    if not isinstance(person, Mapping) or person.get("resource"):
        return None
    address = _address(person.get("email"))
    if address is None or not is_person_address(address):
        return None
    name = _text(person.get("displayName"))
    if name is not None and name.lower() == address:
        name = None
    response = None
    if role is ParticipantRole.ATTENDEE:
        status = person.get("responseStatus")
        response = _RESPONSES.get(status) if isinstance(status, str) else None
    return Participant(address=address, role=role, name=name, response=response)


def _address(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or " " in address:
        return None
    return address


def _declined_by_self(event: Mapping[str, Any]) -> bool:
    for attendee in event.get("attendees") or []:
        if isinstance(attendee, Mapping) and attendee.get("self"):
            return attendee.get("responseStatus") == "declined"
    return False


def _zone_named(name: Any, fallback: dt.tzinfo) -> dt.tzinfo:
    if isinstance(name, str):
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            return fallback
    return fallback


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text or None
