"""Results computed from a workspace's data, kept per process until a commit changes it.

The site's pages show figures that read many rows: the cold list, the
count of matches awaiting review, the weekly chart.  `KeptResults` computes
each once and reuses it while the `workspace_summaries` change counter
(warmline.change_counter) still has the value read before the computation,
and for at most `reuse` after the time it was computed for.  So a commit of
any process shows from the next request on, and what moves with time alone
(days since a touch, a meeting that becomes past) shows within `reuse`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from warmline.change_counter import SUMMARIES, read_counter

T = TypeVar("T")

_COUNTER_READ = "kept_results.counter"
"""The session.info key of the transaction and counter value read in it."""

REUSE = dt.timedelta(minutes=10)
"""How long a kept result may serve when no commit has changed its tables."""


@dataclasses.dataclass(frozen=True)
class Kept(Generic[T]):
    """One result, the time it was computed for and the counter value it is valid at."""

    value: T
    computed_at: dt.datetime
    counter: int


class KeptResults:
    """The kept results of one process, by database, workspace and result name.

    One thread computes a result while the others that need the same one
    wait for it, so a burst of requests after a change computes it once.
    Safe to share between threads.
    """

    def __init__(self, reuse: dt.timedelta = REUSE) -> None:
        self.reuse = reuse
        self._kept: dict[tuple[str, int, str], Kept[Any]] = {}
        self._locks: dict[tuple[str, int, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def get(
        self,
        session: Session,
        workspace_id: int,
        name: str,
        now: dt.datetime,
        compute: Callable[[], T],
    ) -> Kept[T]:
        """Return the result `name` as of `now`, kept if still valid, else computed.

        `compute` must read through `session`, after this call has read the
        counter, so that a result is never kept under a newer value than
        the data it saw.
        """
        found = self._counter(session)
        if found is None:
            # Without the counter row, nothing shows when the data changed.
            return Kept(compute(), now, 0)
        database_id, counter = found
        key = (database_id, workspace_id, name)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            kept = self._kept.get(key)
            if (
                kept is not None
                and kept.counter == counter
                and kept.computed_at <= now < kept.computed_at + self.reuse
            ):
                return kept
            fresh = Kept(compute(), now, counter)
            self._kept[key] = fresh
            return fresh

    @staticmethod
    def _counter(session: Session) -> tuple[str, int] | None:
        """Read the counter once per transaction of `session`.

        Reusing the first read is safe, because a later commit only makes
        the value older than the data a result then reads.  So the result is
        recomputed in the next transaction rather than kept too long.
        """
        transaction = session.get_transaction()
        memo = session.info.get(_COUNTER_READ)
        if transaction is not None and memo is not None and memo[0]() is transaction:
            found: tuple[str, int] | None = memo[1]
            return found
        found = read_counter(session, SUMMARIES)
        # A weak reference, so the memo never keeps a finished transaction,
        # and its connections, alive.
        session.info[_COUNTER_READ] = (weakref.ref(session.get_transaction()), found)
        return found
