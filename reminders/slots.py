"""Free slots within working hours, for placing follow-ups on calendars.

Working hours are written as day ranges with a time range each, separated
by ";": "mon-fri 09:00-17:00" or "mon-thu 08:00-16:00; fri 08:00-12:00".
They are wall-clock times in the staff member's time zone, so a slot keeps
its local time across a daylight saving change.  Slots start on a
`SLOT_STEP` grid of local time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Sequence

SLOT_STEP = dt.timedelta(minutes=15)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)

Interval = tuple[dt.datetime, dt.datetime]


@dataclasses.dataclass(frozen=True)
class WorkingHours:
    """Local opening times per weekday (Monday is 0), as (start, end) pairs."""

    days: dict[int, tuple[tuple[dt.time, dt.time], ...]]
    text: str

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        """Parse "mon-fri 09:00-17:00; sat 10:00-12:00"; raise ValueError if invalid."""
        days: dict[int, list[tuple[dt.time, dt.time]]] = {}
        parts = [part.strip().lower() for part in text.split(";") if part.strip()]
        if not parts:
            raise ValueError(
                "working hours are empty; give days and times such as "
                "'mon-fri 09:00-17:00'"
            )
        for part in parts:
            match = _PART.match(part)
            if match is None:
                raise ValueError(
                    f"working hours {part!r} are invalid; give days and times "
                    "such as 'mon-fri 09:00-17:00'"
                )
            start = _clock_time(match["start"], part)
            end = _clock_time(match["end"], part)
            if end <= start:
                raise ValueError(
                    f"working hours {part!r} end before they start; "
                    "give a range within one day such as 09:00-17:00"
                )
            for day in _day_range(match["first"], match["last"] or match["first"]):
                days.setdefault(day, []).append((start, end))
        return cls({day: tuple(sorted(spans)) for day, spans in days.items()}, text)

    def intervals(self, day: dt.date, zone: zoneinfo.ZoneInfo) -> list[Interval]:
        """Return the working intervals of a local date, as aware UTC times."""
        spans = self.days.get(day.weekday(), ())
        return [(_utc(day, start, zone), _utc(day, end, zone)) for start, end in spans]


def _clock_time(text: str, part: str) -> dt.time:
    hours, minutes = (int(value) for value in text.split(":"))
    if hours == 24 and minutes == 0:
        return dt.time.max
    if not (0 <= hours <= 23 and 0 <= minutes <= 59):
        raise ValueError(f"time {text!r} in working hours {part!r} is invalid")
    return dt.time(hours, minutes)


def _day_range(first: str, last: str) -> list[int]:
    for name in (first, last):
        if name not in DAY_NAMES:
            raise ValueError(
                f"day {name!r} in working hours is invalid; use {', '.join(DAY_NAMES)}"
            )
    start, end = DAY_NAMES.index(first), DAY_NAMES.index(last)
    if end < start:
        raise ValueError(f"day range {first}-{last} runs backwards; write it in order")
    return list(range(start, end + 1))


def _utc(day: dt.date, time: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    local = dt.datetime.combine(day, time, tzinfo=zone)
    return local.astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True)
class SlotRequest:
    """A slot search: a slot of `duration` on a day from `first_day` on.

    Days run from `first_day` to `last_day` inclusive, in the staff member's
    zone.  No slot starts before `not_before`, usually the current time.
    """

    first_day: dt.date
    last_day: dt.date
    duration: dt.timedelta
    zone: zoneinfo.ZoneInfo
    not_before: dt.datetime


def find_slot(
    request: SlotRequest, hours: WorkingHours, busy: Iterable[Interval]
) -> Interval | None:
    """Return the first free slot within working hours, or None when none is free.

    A slot is free when it overlaps no busy interval; touching one is fine.
    """
    busy_spans = merge(busy)
    day = request.first_day
    while day <= request.last_day:
        for start, end in hours.intervals(day, request.zone):
            found = _first_fit(start, end, request, busy_spans)
            if found is not None:
                return found
        day += dt.timedelta(days=1)
    return None


def _first_fit(
    start: dt.datetime,
    end: dt.datetime,
    request: SlotRequest,
    busy_spans: Sequence[Interval],
) -> Interval | None:
    candidate = _on_grid(max(start, request.not_before), start)
    while candidate + request.duration <= end:
        finish = candidate + request.duration
        blocking = [b for b in busy_spans if b[0] < finish and b[1] > candidate]
        if not blocking:
            return candidate, finish
        candidate = _on_grid(max(b[1] for b in blocking), start)
    return None


def _on_grid(moment: dt.datetime, origin: dt.datetime) -> dt.datetime:
    """Round `moment` up to the next `SLOT_STEP` counted from `origin`."""
    steps = -((origin - moment) // SLOT_STEP)
    return origin + max(steps, 0) * SLOT_STEP


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Return the intervals sorted, with overlapping ones joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
