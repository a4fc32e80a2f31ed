"""The span of time whose meeting occurrences a calendar reader yields."""

from __future__ import annotations

import dataclasses
import datetime as dt

YEARS_BEFORE = 3
YEARS_AFTER = 1


@dataclasses.dataclass(frozen=True)
class Window:
    """A span of aware UTC time, the start included and the end excluded.

    An occurrence belongs to the window when it starts inside it.  The
    window bounds the expansion of recurrence rules that have no end.
    """

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        for value in (self.start, self.end):
            if value.utcoffset() != dt.timedelta(0):
                raise ValueError(
                    f"window bound {value!r} is not aware UTC; "
                    "convert it with astimezone(UTC)"
                )
        if self.start >= self.end:
            raise ValueError(
                f"window start {self.start.isoformat()} is not before its end "
                f"{self.end.isoformat()}"
            )

    @classmethod
    def around(
        cls,
        now: dt.datetime,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> Window:
        """Return a window with the given bounds, defaulting missing ones.

        The default runs from three years before `now` to one year after it,
        both rounded down to midnight UTC, so the window and the cursor that
        depends on it change once a day and not on every read.
        """
        midnight = (
            _aware(now, "now")
            .astimezone(dt.UTC)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        if start is None:
            start = _shift_years(midnight, -YEARS_BEFORE)
        if end is None:
            end = _shift_years(midnight, YEARS_AFTER)
        start = _aware(start, "window_start").astimezone(dt.UTC)
        end = _aware(end, "window_end").astimezone(dt.UTC)
        return cls(start, end)

    def contains(self, moment: dt.datetime) -> bool:
        """Tell whether `moment` lies in the window."""
        return self.start <= moment < self.end


def _aware(value: dt.datetime, name: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value!r} is naive; give it a time zone")
    return value


def _shift_years(moment: dt.datetime, years: int) -> dt.datetime:
    """Move `moment` by whole calendar years, from 29 February to the 28th."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)
