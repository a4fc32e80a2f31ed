"""Write iCalendar (RFC 5545) text for the example calendars.

Events are written line by line rather than with the icalendar package, so
that the files keep the quirks of the programs they imitate.  Those are
Google's UTC times for single events, Exchange's Windows time zone names,
and VTIMEZONE blocks in the form each program writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

CHICAGO = ZoneInfo("America/Chicago")
EXPORT_STAMP = "20261130T150000Z"
"""DTSTAMP of every event: the time of the export."""

ZONE_FOR_TZID = {
    "America/Chicago": CHICAGO,
    "Central Standard Time": CHICAGO,
    "Customized Time Zone": CHICAGO,
    "(UTC-06:00) Central Time (US & Canada)": CHICAGO,
    "Eastern Standard Time": ZoneInfo("America/New_York"),
    "Pacific Standard Time": ZoneInfo("America/Los_Angeles"),
}
"""The zone each TZID in the examples stands for, used to write local times."""


@dataclasses.dataclass(frozen=True)
class Attendee:
    """An ATTENDEE line: `name` None writes no CN, and CN = address is allowed."""

    address: str
    name: str | None
    partstat: str = "NEEDS-ACTION"
    role: str = "REQ-PARTICIPANT"
    cutype: str = "INDIVIDUAL"


@dataclasses.dataclass
class Event:
    """One VEVENT.

    `start` and `end` are aware datetimes, or dates for an all-day event.
    `tzid` None writes a timed event in UTC ("Z"), as Google does for single
    events.  `recurrence_id` is the original start of the occurrence that
    this event overrides.  `extra` lines are written as given.
    """

    uid: str
    summary: str
    start: dt.datetime | dt.date
    end: dt.datetime | dt.date
    tzid: str | None = None
    location: str | None = None
    description: str | None = None
    organizer: tuple[str | None, str] | None = None
    attendees: Sequence[Attendee] = ()
    status: str = "CONFIRMED"
    rrule: str | None = None
    exdates: Sequence[dt.datetime] = ()
    recurrence_id: dt.datetime | None = None
    sequence: int = 0
    transp: str = "OPAQUE"
    summary_language: str | None = None
    extra: Sequence[str] = ()


def escape_text(value: str) -> str:
    """Escape a TEXT value: backslash, semicolon, comma and line breaks."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\n", "\\n")


def quote_parameter(value: str) -> str:
    """Quote a parameter value that contains ':', ';' or ','."""
    if any(char in value for char in ":;,"):
        return f'"{value}"'
    return value


def format_time(name: str, value: dt.datetime | dt.date, tzid: str | None) -> str:
    """Format DTSTART, DTEND, RECURRENCE-ID or EXDATE with its parameters."""
    if not isinstance(value, dt.datetime):
        return f"{name};VALUE=DATE:{value:%Y%m%d}"
    if tzid is None:
        return f"{name}:{value.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}"
    local = value.astimezone(ZONE_FOR_TZID[tzid])
    return f"{name};TZID={quote_parameter(tzid)}:{local:%Y%m%dT%H%M%S}"


def event_lines(event: Event) -> list[str]:
    """Return the content lines of one VEVENT, unfolded."""
    lines = ["BEGIN:VEVENT", format_time("DTSTART", event.start, event.tzid)]
    lines.append(format_time("DTEND", event.end, event.tzid))
    if event.rrule:
        lines.append(f"RRULE:{event.rrule}")
    for exdate in event.exdates:
        lines.append(format_time("EXDATE", exdate, event.tzid))
    lines.append(f"DTSTAMP:{EXPORT_STAMP}")

    if event.organizer is not None:
        name, address = event.organizer
        cn = f";CN={quote_parameter(name)}" if name else ""
        lines.append(f"ORGANIZER{cn}:mailto:{address}")
    lines.append(f"UID:{event.uid}")
    if event.recurrence_id is not None:
        lines.append(format_time("RECURRENCE-ID", event.recurrence_id, event.tzid))
    for attendee in event.attendees:
        lines.append(attendee_line(attendee))

    if event.description is not None:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location is not None:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    lines += [
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{event.status}",
    ]

    language = f";LANGUAGE={event.summary_language}" if event.summary_language else ""
    lines.append(f"SUMMARY{language}:{escape_text(event.summary)}")
    lines.append(f"TRANSP:{event.transp}")
    lines += list(event.extra)
    lines.append("END:VEVENT")
    return lines


def attendee_line(attendee: Attendee) -> str:
    parameters = [
        f"CUTYPE={attendee.cutype}",
        f"ROLE={attendee.role}",
        f"PARTSTAT={attendee.partstat}",
    ]
    if attendee.name is not None:
        parameters.append(f"CN={quote_parameter(attendee.name)}")
    parameters.append("X-NUM-GUESTS=0")
    return f"ATTENDEE;{';'.join(parameters)}:mailto:{attendee.address}"


def fold_line(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets (RFC 5545 3.1).

    A fold never splits a UTF-8 sequence, because each piece is cut at a
    character boundary.
    """
    pieces = []
    current = ""
    limit = 75
    for char in line:
        if len((current + char).encode("utf-8")) > limit:
            pieces.append(current)
            current = ""
            limit = 74  # a continuation line starts with one space
        current += char
    pieces.append(current)
    return "\r\n ".join(pieces)


def calendar_text(header: Iterable[str], blocks: Iterable[Iterable[str]]) -> str:
    """Join the calendar header lines and component blocks, CRLF-terminated."""
    lines = ["BEGIN:VCALENDAR", *header]
    for block in blocks:
        lines += list(block)
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)


CHICAGO_VTIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:America/Chicago",
    "X-LIC-LOCATION:America/Chicago",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:-0600",
    "TZOFFSETTO:-0500",
    "TZNAME:CDT",
    "DTSTART:19700308T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:-0500",
    "TZOFFSETTO:-0600",
    "TZNAME:CST",
    "DTSTART:19701101T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)


def windows_vtimezone(tzid: str, standard_offset: int) -> tuple[str, ...]:
    """Return a VTIMEZONE as Exchange writes it for a US zone.

    Exchange starts both rules in 1601 and gives the US rules since 2007:
    daylight time from the second Sunday of March to the first Sunday of
    November.  `standard_offset` is in hours, such as -6 for Central.
    """
    standard = f"{standard_offset:+03d}00"
    daylight = f"{standard_offset + 1:+03d}00"
    return (
        "BEGIN:VTIMEZONE",
        f"TZID:{tzid}",
        "BEGIN:STANDARD",
        "DTSTART:16010101T020000",
        f"TZOFFSETFROM:{daylight}",
        f"TZOFFSETTO:{standard}",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11",
        "END:STANDARD",
        "BEGIN:DAYLIGHT",
        "DTSTART:16010101T020000",
        f"TZOFFSETFROM:{standard}",
        f"TZOFFSETTO:{daylight}",
        "RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3",
        "END:DAYLIGHT",
        "END:VTIMEZONE",
    )
