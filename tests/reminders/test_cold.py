"""Finding relationships past their cadence."""

from __future__ import annotations

import datetime as dt

from reminders import Relationship, find_cold

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def relationship(name: str, days_ago: int | None, cadence: int = 30) -> Relationship:
    last = None if days_ago is None else AS_OF - dt.timedelta(days=days_ago)
    return Relationship(1, "practice", name, None, None, cadence, last)


def test_cold_sorted_by_overdue_then_never():
    found = find_cold(
        [
            relationship("Fresh", 10),
            relationship("Slipping", 45),
            relationship("Frozen", 200),
            relationship("Untouched", None),
            relationship("Weekly", 8, cadence=7),
        ],
        AS_OF,
    )

    assert [cold.relationship.name for cold in found] == [
        "Frozen",
        "Slipping",
        "Weekly",
        "Untouched",
    ]
    assert found[0].days_since == 200
    assert found[0].overdue_days == 170
    assert found[-1].never_touched


def test_exactly_at_cadence_not_cold():
    assert find_cold([relationship("Due today", 30)], AS_OF) == []
