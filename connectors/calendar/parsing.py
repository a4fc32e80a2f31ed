"""iCalendar bytes to one icalendar.Calendar.

icalendar parses the whole input into memory at once.  It has no streaming
parser, so memory use grows with the size of the input.
"""

from __future__ import annotations

import dataclasses
import re
import warnings

import icalendar
from icalendar.error import GloballyUniqueTZIDGuessed

from connectors.errors import MalformedData

_BEGIN_LINE = re.compile(r"^BEGIN:", re.I | re.M)
_END_LINE = re.compile(r"^END:", re.I | re.M)
_CALENDAR_START = re.compile(r"^BEGIN:(VCALENDAR|VEVENT)\s*$", re.I | re.M)
_TIMEZONE_BLOCK = re.compile(
    r"^BEGIN:VTIMEZONE\s*$.*?^END:VTIMEZONE[ \t]*(?:\r?\n|$)", re.I | re.M | re.S
)
_TZID_LINE = re.compile(r"^TZID[^:]*:(.*)$", re.I | re.M)


@dataclasses.dataclass(frozen=True)
class ParsedCalendar:
    """A parsed calendar and the problems found in its bytes as a whole."""

    calendar: icalendar.Calendar
    defects: tuple[str, ...] = ()


def parse_calendar(data: bytes) -> ParsedCalendar:
    """Parse iCalendar data into one calendar.

    Accepted besides one VCALENDAR: VEVENTs without a VCALENDAR around them,
    several VCALENDARs one after the other (their components are merged), and
    text that is not UTF-8, which is read as Windows-1252 with a defect.  The
    VEVENTs of a calendar with METHOD:CANCEL (RFC 5546 section 3.2.5) are
    marked STATUS:CANCELLED, since that message cancels each one it lists.

    Raises MalformedData if the data is not iCalendar or was cut short.
    """
    text, defects = _decode(data)
    if not _CALENDAR_START.search(text):
        raise MalformedData("not an iCalendar file: no BEGIN:VCALENDAR line")
    _check_complete(text)
    try:
        components = _parse_components(text)
    except ValueError as error:
        # icalendar builds each VTIMEZONE while parsing and gives up on the
        # whole file when one is unusable.  Without those, the rest may parse.
        usable_text, dropped = _without_unusable_timezones(text)
        if not dropped:
            raise MalformedData(f"not an iCalendar file: {error}") from error
        try:
            components = _parse_components(usable_text)
        except ValueError as second_error:
            message = f"not an iCalendar file: {second_error}"
            raise MalformedData(message) from second_error
        defects += tuple(f"invalid VTIMEZONE {tzid!r} ignored" for tzid in dropped)
    return ParsedCalendar(_merge(components), defects)


def _parse_components(text: str) -> list[icalendar.Component]:
    with warnings.catch_warnings():
        # TimezoneResolver resolves vendor-prefixed TZIDs itself, so
        # icalendar's warning about guessing them adds nothing.
        warnings.simplefilter("ignore", GloballyUniqueTZIDGuessed)
        return icalendar.Component.from_ical(text, multiple=True)


def _without_unusable_timezones(text: str) -> tuple[str, list[str]]:
    """Remove the VTIMEZONE blocks icalendar cannot build a zone from.

    Returns the remaining text and the TZIDs of the removed blocks.
    """
    dropped = []
    kept_text = text
    for match in _TIMEZONE_BLOCK.finditer(text):
        block = match.group(0)
        try:
            _parse_components(block)
        except ValueError:
            tzid = _TZID_LINE.search(block)
            dropped.append(tzid.group(1).strip() if tzid else "")
            kept_text = kept_text.replace(block, "", 1)
    return kept_text, dropped


def _check_complete(text: str) -> None:
    """Raise MalformedData unless every BEGIN line has its END line.

    icalendar silently drops a component that never ends, so a file cut
    short would read as one with fewer events.
    """
    begins = len(_BEGIN_LINE.findall(text))
    ends = len(_END_LINE.findall(text))
    if begins != ends:
        raise MalformedData(
            f"incomplete iCalendar data: {begins} BEGIN lines but {ends} END "
            "lines; the file may have been cut short"
        )


def _decode(data: bytes) -> tuple[str, tuple[str, ...]]:
    try:
        return data.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        # RFC 5545 requires UTF-8, but older Outlook and Lotus Notes exports
        # use the Windows code page.
        text = data.decode("cp1252", errors="replace")
        return text, ("file is not UTF-8; text read as Windows-1252",)


def _merge(components: list[icalendar.Component]) -> icalendar.Calendar:
    calendars = [c for c in components if isinstance(c, icalendar.Calendar)]
    bare_events = [c for c in components if isinstance(c, icalendar.Event)]
    if not calendars and not bare_events:
        names = ", ".join(sorted({str(c.name) for c in components})) or "nothing"
        raise MalformedData(f"not an iCalendar file: it contains {names}")
    for calendar in calendars:
        if str(calendar.get("METHOD", "")).strip().upper() == "CANCEL":
            for event in calendar.walk("VEVENT"):
                event["STATUS"] = "CANCELLED"
    if len(calendars) == 1 and not bare_events:
        return calendars[0]
    # NOTE: the merged calendar takes its properties (X-WR-TIMEZONE) from the
    # first VCALENDAR.  Files that join calendars of different zones are rare.
    merged = icalendar.Calendar()
    if calendars:
        for name, value in calendars[0].items():
            merged[name] = value
    for calendar in calendars:
        for component in calendar.subcomponents:
            merged.add_component(component)
    for event in bare_events:
        merged.add_component(event)
    return merged
