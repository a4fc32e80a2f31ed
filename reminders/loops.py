"""Closing the loop: reporting back to a source after each referral.

After a referral, an outbound email to the referring practice or to anyone
at it (the referring provider, the office staff) is expected within
`loop_close_days`.  The first confirmed outbound email on or after the day
the referral was received (from midnight UTC) closes it, together with every
other open referral from that practice received up to then.  Meetings do not
close a loop, because a visit rarely carries a patient's outcome report.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from reminders.records import ReferralRecord, Touch


@dataclasses.dataclass(frozen=True)
class OpenLoop:
    """An open referral with the date its report back is due."""

    referral: ReferralRecord
    due_on: dt.date

    def overdue(self, today: dt.date) -> bool:
        return today > self.due_on


def closing_time(
    referral: ReferralRecord, practice_touches: Sequence[Touch], as_of: dt.datetime
) -> dt.datetime | None:
    """Return when an outbound email to the practice closed `referral`, if one did."""
    start = dt.datetime.combine(referral.received_on, dt.time(), tzinfo=dt.UTC)
    times = [
        touch.occurred_at
        for touch in practice_touches
        if touch.outbound_email and start <= touch.occurred_at <= as_of
    ]
    return min(times, default=None)


def find_closings(
    referrals: Iterable[ReferralRecord],
    touches: Mapping[int, Sequence[Touch]],
    as_of: dt.datetime,
) -> dict[int, dt.datetime]:
    """Map each open referral that a touch has closed to the touch's time."""
    closed = {}
    for referral in referrals:
        if referral.closed_at is not None:
            continue
        found = closing_time(referral, touches.get(referral.practice_id, ()), as_of)
        if found is not None:
            closed[referral.referral_id] = found
    return closed


def open_loops(
    referrals: Iterable[ReferralRecord], as_of: dt.datetime, loop_close_days: int
) -> list[OpenLoop]:
    """Return the open referrals received up to `as_of`, earliest due first."""
    delay = dt.timedelta(days=loop_close_days)
    loops = [
        OpenLoop(referral, referral.received_on + delay)
        for referral in referrals
        if referral.closed_at is None and referral.received_on <= as_of.date()
    ]
    loops.sort(key=lambda loop: (loop.due_on, loop.referral.referral_id))
    return loops
