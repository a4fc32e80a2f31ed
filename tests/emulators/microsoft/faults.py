"""Faults a test queues on the emulator, each matched to a request once or more.

A fault names the requests it applies to by method and a substring of the
path and query, and how many matching requests it hits.  Kinds:

- `throttle`: 429 ApplicationThrottled, with `retry_after` seconds or no
  Retry-After header when it is None;
- `unavailable`: 503 ServiceUnavailable with `retry_after`;
- `drop`: close the connection before handling the request;
- `drop_after`: handle the request, then close the connection unanswered;
- `expired_token`: 401 InvalidAuthenticationToken, as for an expired token;
- `sync_state_not_found`: 410 SyncStateNotFound on a delta request;
- `batch_throttle`: reply to the inner requests at `inner_indexes` of the next
  matching JSON batch with 429 and `retry_after`.
"""

from __future__ import annotations

import dataclasses
import threading

KINDS = frozenset(
    {
        "throttle",
        "unavailable",
        "drop",
        "drop_after",
        "expired_token",
        "sync_state_not_found",
        "batch_throttle",
    }
)


@dataclasses.dataclass
class Fault:
    kind: str
    path_contains: str = ""
    method: str | None = None
    times: int = 1
    retry_after: float | None = None
    inner_indexes: tuple[int, ...] = ()
    hits: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; use one of {sorted(KINDS)}"
            )

    def matches(self, method: str, target: str) -> bool:
        if self.hits >= self.times:
            return False
        if self.method is not None and self.method != method:
            return False
        return self.path_contains in target


class Faults:
    """The queue of pending faults; thread-safe."""

    def __init__(self) -> None:
        self._pending: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, kind: str, path_contains: str = "", **options: object) -> Fault:
        fault = Fault(kind, path_contains, **options)  # type: ignore[arg-type]
        with self._lock:
            self._pending.append(fault)
        return fault

    def take(self, method: str, target: str, kinds: frozenset[str]) -> Fault | None:
        """Return the first pending fault of `kinds` matching the request, and count it."""
        with self._lock:
            for fault in self._pending:
                if fault.kind in kinds and fault.matches(method, target):
                    fault.hits += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()

    def unused(self) -> list[Fault]:
        with self._lock:
            return [fault for fault in self._pending if fault.hits < fault.times]
