"""Dates in mail headers and in mbox "From " lines, read as aware UTC.

Header dates follow RFC 5322 section 3.3 plus the obsolete forms of section
4.3 (two- and three-digit years, US zone names).  On dates that real mail
carries, Python 3.11's readers return None, a naive datetime or the year
100, or raise ValueError or OverflowError.  This module never raises: a date
it cannot read comes back as None.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import NamedTuple

_MAX_DATE_CHARACTERS = 200

_HEADER_DATE = re.compile(
    r"""
    (?:[A-Za-z]+\s*,?\s*)?  # day of week, not checked against the date
    (?P<day>\d{1,2})\s*-?\s*
    (?P<month>[A-Za-z]+)\.?\s*-?\s*
    (?P<year>\d+)\s+
    (?P<hour>\d{1,2})[:.](?P<minute>\d{1,2})(?:[:.](?P<second>\d{1,2}))?
    (?:\s*(?P<zone>[+-]\d{4}|[A-Za-z]+))?
    (?:\s+[A-Za-z]+)?  # a zone name after a numeric zone: "+0000 GMT"
    """,
    re.VERBOSE,
)

# asctime() form, as mbox "From " lines carry it: "Thu Mar 05 16:40:00 2026",
# with a numeric zone before or after the year in some writers (Takeout:
# "Thu Mar 05 16:40:00 +0000 2026").
_FROM_LINE_DATE = re.compile(
    rb"""
    [A-Z][a-z]{2}\s+
    (?P<month>[A-Z][a-z]{2})\s+
    (?P<day>\d{1,2})\s+
    (?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s+
    (?:(?P<zone>[+-]\d{4})\s+)?
    (?P<year>\d{4})
    (?:\s+(?P<zone_after>[+-]\d{4}))?
    """,
    re.VERBOSE,
)

_COMMENT = re.compile(r"\([^()]*\)")

_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_NUMBERS = {name[:3]: number for number, name in enumerate(_MONTH_NAMES, 1)}

# RFC 5322 section 4.3: the obsolete zone names with a known offset, in hours.
# Military one-letter zones are missing on purpose: the RFC says to treat
# them as unknown, because early software got their sign wrong.
_ZONE_HOURS = {
    "ut": 0,
    "utc": 0,
    "gmt": 0,
    "z": 0,
    "edt": -4,
    "est": -5,
    "cdt": -5,
    "cst": -6,
    "mdt": -6,
    "mst": -7,
    "pdt": -7,
    "pst": -8,
}


class HeaderDate(NamedTuple):
    """A date read from a header: the instant in UTC, and whether it had a zone.

    Without a zone the instant is read as UTC, which may be hours off.
    """

    value: dt.datetime
    zone_known: bool


def parse_header_date(text: str) -> HeaderDate | None:
    """Read a Date or Received date, or return None if it is invalid.

    Accepts "." as the time separator, a missing seconds field, full month
    names, a trailing comment, and years of two digits (00-49 are 2000-2049,
    50-99 are 1950-1999) or three digits (plus 1900), as RFC 5322 section 4.3
    prescribes.
    """
    if len(text) > _MAX_DATE_CHARACTERS:
        return None
    text = " ".join(_without_comments(text).split())
    match = _HEADER_DATE.fullmatch(text)
    if match is None:
        return None
    month = _month_number(match.group("month"))
    year = _full_year(match.group("year"))
    offset, zone_known = _zone_offset(match.group("zone"))
    if month is None or year is None or offset is None:
        return None
    value = _utc_datetime(
        year,
        month,
        int(match.group("day")),
        int(match.group("hour")),
        int(match.group("minute")),
        int(match.group("second") or 0),
        offset,
    )
    return HeaderDate(value, zone_known) if value is not None else None


def parse_from_line_date(line: bytes) -> dt.datetime | None:
    """Read the date of an mbox "From " line, or return None if it has none.

    A date without a zone is read as UTC, although it is the local time of
    the host that wrote the mbox and may be hours off.  It serves only as a
    fallback when the Date header is unusable.
    """
    match = _FROM_LINE_DATE.search(line)
    if match is None:
        return None
    month = _month_number(match.group("month").decode("ascii"))
    zone = match.group("zone") or match.group("zone_after")
    offset, _ = _zone_offset(zone.decode("ascii") if zone else None)
    if month is None or offset is None:
        return None
    return _utc_datetime(
        int(match.group("year")),
        month,
        int(match.group("day")),
        int(match.group("hour")),
        int(match.group("minute")),
        int(match.group("second") or 0),
        offset,
    )


def _without_comments(text: str) -> str:
    while "(" in text:
        shorter = _COMMENT.sub(" ", text)
        if shorter == text:
            return text.split("(", 1)[0]
        text = shorter
    return text


def _month_number(word: str) -> int | None:
    """Return the number of an English month name or its abbreviation."""
    number = _MONTH_NUMBERS.get(word[:3].lower())
    if number is None or not _MONTH_NAMES[number - 1].startswith(word.lower()):
        return None
    return number


def _full_year(digits: str) -> int | None:
    year = int(digits) if len(digits) <= 4 else None
    if year is None:
        return None
    if len(digits) == 2:
        return year + (2000 if year < 50 else 1900)
    if len(digits) == 3:
        return year + 1900
    return year


def _zone_offset(zone: str | None) -> tuple[dt.timedelta | None, bool]:
    """Return the zone's offset (zero when unknown) and whether it is known."""
    if zone is None:
        return dt.timedelta(0), False
    if zone[0] in "+-":
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if hours > 23 or minutes > 59:
            return None, False
        offset = dt.timedelta(hours=hours, minutes=minutes)
        return (-offset if zone[0] == "-" else offset), True
    hours_east = _ZONE_HOURS.get(zone.lower())
    if hours_east is None:
        return dt.timedelta(0), False
    return dt.timedelta(hours=hours_east), True


@functools.lru_cache(maxsize=128)
def _zone(offset: dt.timedelta) -> dt.timezone:
    return dt.timezone(offset)


def _utc_datetime(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    offset: dt.timedelta,
) -> dt.datetime | None:
    # A leap second (RFC 5322 allows 60) is read as the second before it.
    second = min(second, 59)
    try:
        local = dt.datetime(
            year, month, day, hour, minute, second, tzinfo=_zone(offset)
        )
        return local.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        # Out-of-range fields, or a year 1 or 9999 date that leaves the range
        # of datetime once converted to UTC.
        return None
