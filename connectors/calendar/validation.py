"""Decide whether a VEVENT can be read, before its recurrence is expanded.

icalendar keeps a property it cannot parse as a broken value and lists the
error in the component's `errors`.  A broken property that decides when the
event happens makes the VEVENT unreadable, and the caller quarantines it.
Any other broken property is only ignored, with a defect.
"""

from __future__ import annotations

import datetime as dt
import math

import icalendar

TIMING_PROPERTIES = frozenset(
    {"DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE"}
)

MAX_OCCURRENCES_PER_DAY = 24
"""Rules that may recur more often than hourly are not read as meetings.

Such a rule (FREQ=MINUTELY, or DAILY with many BYMINUTE values) cannot be a
meeting series, and expanding it is slow because dateutil walks every
occurrence from DTSTART to the end of the window: 525,600 a year for
FREQ=MINUTELY.
"""

# How many occurrences one period of each frequency has before BYxxx parts
# multiply them, per day.
_BASE_PER_DAY = {"SECONDLY": 86_400.0, "MINUTELY": 1_440.0, "HOURLY": 24.0}

# The BYxxx parts that add occurrences within a period of each frequency
# (RFC 5545 section 3.3.10, the table of expand and limit).
_EXPANDING_PARTS = {
    "SECONDLY": (),
    "MINUTELY": ("BYSECOND",),
    "HOURLY": ("BYMINUTE", "BYSECOND"),
}
_DAY_OR_LONGER_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")


def unreadable_reason(event: icalendar.Event) -> str | None:
    """Return why `event` cannot be read, or None when it can."""
    for name, message in event.errors:
        if name is not None and name.upper() in TIMING_PROPERTIES:
            return f"invalid {name.upper()}: {message}"
    start = event.get("DTSTART")
    if start is None:
        return "missing DTSTART"
    for name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
        reason = _single_date_value_problem(event, name)
        if reason is not None:
            return reason
    for rule in _as_list(event.get("RRULE")):
        reason = _rule_problem(rule)
        if reason is not None:
            return reason
    return None


def ignored_property_defects(event: icalendar.Event) -> list[str]:
    """Return one defect per broken property that does not decide timing."""
    defects = []
    for name, message in event.errors:
        if name is None or name.upper() not in TIMING_PROPERTIES:
            defects.append(f"invalid {name or 'content line'} ignored: {message}")
    return defects


def _single_date_value_problem(event: icalendar.Event, name: str) -> str | None:
    found = event.get(name)
    if found is None:
        return None
    if isinstance(found, list):
        return f"more than one {name}"
    value = getattr(found, "dt", None)
    if not isinstance(value, dt.date):
        return f"{name} is not a date or date-time"
    return None


def _rule_problem(rule: object) -> str | None:
    if not isinstance(rule, icalendar.vRecur):
        return "RRULE cannot be read"
    text = ";".join(
        f"{part}={','.join(str(value) for value in values)}"
        for part, values in rule.items()
    )
    if not rule.get("FREQ"):
        return f"RRULE has no FREQ: {text}"
    if rule.get("COUNT") and rule.get("UNTIL"):
        return f"RRULE has both COUNT and UNTIL, which RFC 5545 forbids: {text}"
    if _occurrences_per_day(rule) > MAX_OCCURRENCES_PER_DAY:
        return (
            f"RRULE may recur more than {MAX_OCCURRENCES_PER_DAY} times a day, "
            f"which no meeting series does: {text}"
        )
    return None


def _occurrences_per_day(rule: icalendar.vRecur) -> float:
    """Return an upper bound of the rule's occurrences per day.

    BYxxx parts that limit (BYHOUR on a MINUTELY rule) are ignored, so a rule
    that expands and then limits is overestimated.
    """
    frequency = str(rule["FREQ"][0]).upper()
    interval = int(rule.get("INTERVAL", [1])[0]) or 1
    per_day = _BASE_PER_DAY.get(frequency, 1.0) / interval
    parts = _EXPANDING_PARTS.get(frequency, _DAY_OR_LONGER_PARTS)
    counts = [len(rule.get(part, [])) or 1 for part in parts]
    return per_day * math.prod(counts)


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
