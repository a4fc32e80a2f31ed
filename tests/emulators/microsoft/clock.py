"""A clock whose sleep advances time at once, shared by client and emulator.

Tests pass the same `FakeClock` to the Graph client and to the emulator, so
a Retry-After of seven seconds costs no real time while the emulator still
measures seven seconds pass between a 429 and the next request.
"""

from __future__ import annotations

import threading
import time


class FakeClock:
    """Monotonic time that runs with the real clock and jumps on `sleep`.

    Concurrent sleepers each add their own delay, so time may run ahead of
    what a real clock would show, never behind it.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self.slept = 0.0

    def monotonic(self) -> float:
        with self._lock:
            return time.monotonic() + self._offset

    def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            self._offset += seconds
            self.slept += seconds
        time.sleep(0)


class SystemClock:
    """The real monotonic clock, for the benchmark and for latency tests."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)
