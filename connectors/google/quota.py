"""A per-user quota budget that the reader's threads draw from before each call.

Google counts quota units per user over a sliding minute and rejects calls
over the limit with 429 or 403 `userRateLimitExceeded`.  The budget admits a
call only when the units spent in the last window plus the call's units stay
within the budget, so a reader slows down before Google has to stop it.

Units are dated when their call completes, not when it starts: Google
charges a call at some moment while it runs (each call of a batch
separately), so only the completion time is sure to be no earlier than the
charge.  Units of a call still running never leave the window.
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterator

# How long to wait before looking again when the units to free belong to a
# call that is still running.
_POLL_SECONDS = 0.05


class _Spend:
    __slots__ = ("units", "done_at")

    def __init__(self, units: int) -> None:
        self.units = units
        self.done_at: float | None = None


class QuotaBudget:
    """Units admitted per sliding window, shared by the threads of one user.

    `limit` is the number of units the budget admits in any `window`
    seconds.  `hold(seconds)` stops admissions for that long, as after a
    429, so that other threads do not run into the same limit.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError(f"quota limit {limit} must be at least 1 unit")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._spends: collections.deque[_Spend] = collections.deque()
        self._units_in_window = 0
        self._held_until = 0.0
        self.total_units = 0

    @contextlib.contextmanager
    def spend(self, units: int) -> Iterator[None]:
        """Wait until `units` fit, then hold them for the `with` block's call.

        A request for more than `limit` units waits for an empty window and
        is then admitted alone.
        """
        spend = self._acquire(units)
        try:
            yield
        finally:
            with self._lock:
                spend.done_at = self._clock()

    def hold(self, seconds: float) -> None:
        """Admit nothing for the next `seconds`."""
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)

    def _acquire(self, units: int) -> _Spend:
        while True:
            with self._lock:
                delay = self._delay(units)
                if delay <= 0:
                    spend = _Spend(units)
                    self._spends.append(spend)
                    self._units_in_window += units
                    self.total_units += units
                    return spend
            self._sleep(delay)

    def _delay(self, units: int) -> float:
        """Return how long to wait before `units` fit; 0 when they fit now."""
        now = self._clock()
        if now < self._held_until:
            return self._held_until - now
        spends = self._spends
        while spends and _expired(spends[0], now - self.window):
            self._units_in_window -= spends.popleft().units
        needed = min(units, self.limit)
        if self._units_in_window + needed <= self.limit:
            return 0.0
        free = self.limit - self._units_in_window
        for spend in spends:
            free += spend.units
            if free >= needed:
                if spend.done_at is None:
                    return _POLL_SECONDS
                return max(spend.done_at + self.window - now, _POLL_SECONDS)
        return self.window


def _expired(spend: _Spend, cutoff: float) -> bool:
    return spend.done_at is not None and spend.done_at <= cutoff
