"""Relationships going cold: sources whose last touch is older than their cadence."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable


@dataclasses.dataclass(frozen=True)
class Relationship:
    """A source with its cadence and the time of its last confirmed touchpoint."""

    source_id: int
    kind: str
    name: str
    practice: str | None
    owner: str | None
    cadence_days: int
    last_touch: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class ColdRelationship:
    relationship: Relationship
    days_since: int | None
    overdue_days: int | None

    @property
    def never_touched(self) -> bool:
        return self.relationship.last_touch is None


def find_cold(
    relationships: Iterable[Relationship], as_of: dt.datetime
) -> list[ColdRelationship]:
    """Return the relationships past their cadence, most overdue first.

    A source never touched is cold too; those come after the overdue ones,
    because a list led by every untouched source hides the ones slipping away.
    """
    overdue = []
    never = []
    for relationship in relationships:
        if relationship.last_touch is None:
            never.append(ColdRelationship(relationship, None, None))
            continue
        days = (as_of - relationship.last_touch).days
        if days > relationship.cadence_days:
            overdue.append(
                ColdRelationship(relationship, days, days - relationship.cadence_days)
            )
    overdue.sort(key=lambda cold: (-(cold.overdue_days or 0), cold.relationship.name))
    never.sort(key=lambda cold: cold.relationship.name)
    return overdue + never
