"""Working days, calendar months and snooze periods."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.dates import add_months, next_working_day, snoozed_due_date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 11, 30), dt.date(2026, 12, 1)),  # Monday
        (dt.date(2026, 12, 4), dt.date(2026, 12, 7)),  # Friday
        (dt.date(2026, 12, 5), dt.date(2026, 12, 7)),  # Saturday
        (dt.date(2026, 12, 6), dt.date(2026, 12, 7)),  # Sunday
    ],
)
def test_next_working_day(day, expected):
    assert next_working_day(day) == expected


def test_add_months_clamps_to_month_end():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)


def test_snooze_counts_from_today_when_overdue():
    due = dt.date(2026, 11, 20)
    today = dt.date(2026, 12, 1)

    assert snoozed_due_date(due, today, "2w") == dt.date(2026, 12, 15)
    assert snoozed_due_date(due, today, "1m") == dt.date(2027, 1, 1)
    assert snoozed_due_date(due, today, "3m") == dt.date(2027, 3, 1)


def test_snooze_counts_from_later_due_date():
    assert snoozed_due_date(
        dt.date(2026, 12, 10), dt.date(2026, 12, 1), "2w"
    ) == dt.date(2026, 12, 24)


@pytest.mark.parametrize("period", ["", "2d", "0w", "w", "two weeks"])
def test_snooze_rejects_bad_period(period):
    with pytest.raises(ValueError, match="use weeks or months such as 2w, 1m, 3m"):
        snoozed_due_date(dt.date(2026, 12, 1), dt.date(2026, 12, 1), period)
