"""Per-user quota accounting over a sliding window, as Google enforces it."""

from __future__ import annotations

import collections
import threading
import time


class QuotaLedger:
    """Units charged per user over the last `window` seconds.

    A call is admitted when the units already charged in the window plus its
    own stay within `limit`; a rejected call is charged nothing.  `limit`
    None turns accounting into counting only.
    """

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._charges: dict[str, collections.deque[tuple[float, int]]] = {}
        self._in_window: dict[str, int] = collections.defaultdict(int)
        self.used: dict[str, int] = collections.defaultdict(int)
        self.rejected: dict[str, int] = collections.defaultdict(int)
        self.peak_in_window: dict[str, int] = collections.defaultdict(int)

    def charge(self, user: str, units: int) -> float | None:
        """Charge `units` to `user`; return None, or seconds until they fit."""
        now = time.monotonic()
        with self._lock:
            charges = self._charges.setdefault(user, collections.deque())
            while charges and charges[0][0] <= now - self.window:
                self._in_window[user] -= charges.popleft()[1]
            if self.limit is not None and self._in_window[user] + units > self.limit:
                self.rejected[user] += 1
                return self._wait(charges, user, units, now)
            charges.append((now, units))
            self._in_window[user] += units
            self.used[user] += units
            self.peak_in_window[user] = max(
                self.peak_in_window[user], self._in_window[user]
            )
            return None

    def _wait(
        self,
        charges: collections.deque[tuple[float, int]],
        user: str,
        units: int,
        now: float,
    ) -> float:
        assert self.limit is not None
        free = self.limit - self._in_window[user]
        for moment, spent in charges:
            free += spent
            if free >= units:
                return max(0.0, moment + self.window - now)
        return self.window
