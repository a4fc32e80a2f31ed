"""Plain records the reminders read: sources, touches, referrals and the policy.

The core builds them from the database; nothing here imports it.  Datetimes
are aware and in UTC.  Staff members are referred to by id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt


@dataclasses.dataclass(frozen=True)
class SourceProfile:
    """A referral source with the owners and cadences that apply to it."""

    source_id: int
    kind: str
    name: str
    practice_id: int | None
    practice: str | None
    owner_id: int | None
    practice_owner_id: int | None
    cadence_days: int | None
    practice_cadence_days: int | None

    @property
    def practice_or_self(self) -> int:
        """Id of the source's practice, or its own id for a practice."""
        return self.practice_id if self.practice_id is not None else self.source_id


@dataclasses.dataclass(frozen=True)
class Touch:
    """A confirmed touchpoint that counts for one source."""

    source_id: int
    occurred_at: dt.datetime
    staff_id: int
    kind: str
    direction: str | None
    activity_id: int

    @property
    def outbound_email(self) -> bool:
        return self.kind == "email" and self.direction == "outbound"


@dataclasses.dataclass(frozen=True)
class Meeting:
    """A held one-off meeting with a source: the reason for a thank-you."""

    activity_id: int
    source_id: int
    practice_id: int
    occurred_at: dt.datetime
    staff_id: int


@dataclasses.dataclass(frozen=True)
class ReferralRecord:
    """Referrals received from a source on one day; no patient details."""

    referral_id: int
    source_id: int
    practice_id: int
    received_on: dt.date
    count: int
    closed_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class DriftRule:
    """When a source's recent referrals count as well below its own baseline."""

    recent_days: int = 90
    baseline_days: int = 365
    ratio: float = 0.5
    min_expected: float = 3.0


@dataclasses.dataclass(frozen=True)
class ReminderPolicy:
    """The workspace settings that the reminders apply."""

    default_cadence_days: int = 30
    learned_min_touch_days: int = 6
    loop_close_days: int = 14
    drift: DriftRule = dataclasses.field(default_factory=DriftRule)
