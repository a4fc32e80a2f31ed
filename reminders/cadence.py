"""A source's cadence: set by hand, inherited from its practice, learned, or default.

Order of precedence:

1. the source's own `cadence_days`;
2. for a provider or contact, the practice's `cadence_days`;
3. the interval learned from the source's history, when it has enough touches;
4. the workspace's `default_cadence_days`.

The learned interval is the median gap, in days, between consecutive days with
a confirmed touch during the last 365 days.  Several touches on one day (an
email thread) count as one day.  It is used only when the source was touched
on at least `learned_min_touch_days` different days in that year.  It is
never shorter than seven days, so a burst of daily mail does not set a
cadence that goes cold in two days.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import itertools
import statistics
from collections.abc import Iterable

from reminders.records import ReminderPolicy, SourceProfile

LEARNING_WINDOW = dt.timedelta(days=365)
MIN_LEARNED_DAYS = 7


class CadenceBasis(enum.StrEnum):
    """Origin of a cadence, shown beside it in every listing."""

    OWN = "own"
    PRACTICE = "practice"
    LEARNED = "learned"
    DEFAULT = "default"


@dataclasses.dataclass(frozen=True)
class Cadence:
    days: int
    basis: CadenceBasis


def learned_interval(
    touch_times: Iterable[dt.datetime], as_of: dt.datetime, min_touch_days: int
) -> int | None:
    """Return the median gap in days between touch days of the last year.

    Returns None when fewer than `min_touch_days` distinct days (UTC) had a
    touch in the year up to `as_of`.
    """
    start = as_of - LEARNING_WINDOW
    days = sorted({t.date() for t in touch_times if start < t <= as_of})
    if len(days) < max(min_touch_days, 2):
        return None
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    median = statistics.median(gaps)
    return max(MIN_LEARNED_DAYS, round(median))


def choose_cadence(
    profile: SourceProfile,
    touch_times: Iterable[dt.datetime],
    as_of: dt.datetime,
    policy: ReminderPolicy,
) -> Cadence:
    """Return the cadence that applies to `profile`, by the order above."""
    if profile.cadence_days:
        return Cadence(profile.cadence_days, CadenceBasis.OWN)
    if profile.practice_cadence_days:
        return Cadence(profile.practice_cadence_days, CadenceBasis.PRACTICE)
    learned = learned_interval(touch_times, as_of, policy.learned_min_touch_days)
    if learned is not None:
        return Cadence(learned, CadenceBasis.LEARNED)
    return Cadence(policy.default_cadence_days, CadenceBasis.DEFAULT)
