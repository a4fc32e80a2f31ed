"""Calendar arithmetic for due dates: working days and snooze periods."""

from __future__ import annotations

import calendar
import datetime as dt
import re

SNOOZE_PATTERN = re.compile(r"^(\d+)([wm])$")


def next_working_day(day: dt.date) -> dt.date:
    """Return the first Monday-to-Friday date after `day`.

    NOTE: public holidays are not known, so a thank-you after a meeting on
    the eve of a holiday falls due on the holiday.
    """
    following = day + dt.timedelta(days=1)
    while following.weekday() >= 5:
        following += dt.timedelta(days=1)
    return following


def add_months(day: dt.date, months: int) -> dt.date:
    """Add calendar months, moving the 31st to the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return day.replace(year=year, month=month, day=min(day.day, last))


def parse_snooze(text: str) -> tuple[int, str]:
    """Parse a snooze period such as '2w', '1m' or '3m' into (amount, unit)."""
    match = SNOOZE_PATTERN.match(text.strip().lower())
    if match is None or int(match.group(1)) == 0:
        raise ValueError(
            f"snooze period {text!r} is invalid; use weeks or months such as 2w, 1m, 3m"
        )
    return int(match.group(1)), match.group(2)


def snoozed_due_date(due_on: dt.date, today: dt.date, period: str) -> dt.date:
    """Return the new due date: the period added to today or to a later due date."""
    amount, unit = parse_snooze(period)
    start = max(due_on, today)
    if unit == "w":
        return start + dt.timedelta(weeks=amount)
    return add_months(start, amount)
