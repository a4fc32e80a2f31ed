"""One workspace's reminder state as of a moment, built from plain records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping

from reminders.followups import responsible_staff
from reminders.health import SourceHealth, assess_sources
from reminders.loops import OpenLoop, open_loops
from reminders.records import ReferralRecord, ReminderPolicy, SourceProfile, Touch


def tracked(profiles: Mapping[int, SourceProfile]) -> list[SourceProfile]:
    """Return the sources whose relationship is judged on its own.

    Contacts count only with a cadence of their own; otherwise their touches
    count for the providers they work for.
    """
    return [
        profile
        for profile in profiles.values()
        if profile.kind != "contact" or profile.cadence_days
    ]


@dataclasses.dataclass(frozen=True)
class ReminderState:
    """The reminders' view of one workspace as of one moment."""

    as_of: dt.datetime
    policy: ReminderPolicy
    profiles: dict[int, SourceProfile]
    touches: dict[int, list[Touch]]
    referrals: list[ReferralRecord]

    @functools.cached_property
    def healths(self) -> list[SourceHealth]:
        return assess_sources(
            tracked(self.profiles),
            self.touches,
            self.referrals,
            self.as_of,
            self.policy,
        )

    @functools.cached_property
    def loops(self) -> list[OpenLoop]:
        return open_loops(self.referrals, self.as_of, self.policy.loop_close_days)

    def responsible(self, source_id: int) -> int | None:
        """Return the staff member a source's follow-ups go to."""
        return responsible_staff(
            self.profiles[source_id], self.touches.get(source_id, ())
        )
