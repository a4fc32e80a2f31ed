"""Faults a test injects into the emulator, matched by method and resource id.

Methods are named as in the discovery documents ("users.messages.get",
"users.history.list", "events.list"), plus "batch" for a whole batch
request and "token" for the token endpoint.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any


@dataclasses.dataclass
class Fault:
    """One injected fault.

    `times` is how many matching calls it hits; None hits every one.
    `resource_id` limits it to one message or event id.  `inner_only`
    limits it to calls inside a batch request.

    Kinds: "error" responds with `status` with Google's error body (`reason` and
    `message` in it, `retry_after` as a Retry-After header, or `body`
    instead of the whole body); "drop" sends half the response and closes
    the connection; "empty_page" responds to a listing call with an empty page
    that still has a next page token.
    """

    method: str
    kind: str = "error"
    status: int = 500
    reason: str | None = "backendError"
    message: str = "Backend Error"
    retry_after: str | None = None
    body: dict[str, Any] | None = None
    times: int | None = 1
    resource_id: str | None = None
    inner_only: bool = False
    hits: int = 0


class FaultList:
    """The faults in force, safe to use from the server's threads."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(
        self, method: str, resource_id: str | None = None, inner: bool = False
    ) -> Fault | None:
        """Return the first fault that matches this call and count the hit."""
        with self._lock:
            for fault in self._faults:
                if fault.method != method:
                    continue
                if fault.resource_id is not None and fault.resource_id != resource_id:
                    continue
                if fault.inner_only and not inner:
                    continue
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                fault.hits += 1
                return fault
        return None
