"""Write transactions of the site, run again when PostgreSQL aborts them.

PostgreSQL aborts one of two transactions that wait for each other's row
locks (SQLSTATE 40P01, deadlock detected) and may abort a serializable one
(40001).  Running the aborted one again from the start then succeeds.  The
write paths lock activities before touchpoints and sources, as a sync does,
but a review decision then rematches what it learned and locks other
activities late, so a decision and a sync can still meet that way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = structlog.get_logger(__name__)

T = TypeVar("T")

ATTEMPTS = 3
RETRIED_STATES = {"40P01", "40001"}
"""Deadlock detected, and serialization failure."""


def commit_retrying(db: Session, work: Callable[[], T], action: str) -> T:
    """Run `work` in `db`'s transaction and commit, up to ATTEMPTS times.

    After an abort the transaction is rolled back and `work` runs again on
    what other transactions have committed since.  `action` names it
    in the log line of each retry.  Other errors are raised as they are.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            result = work()
            db.commit()
        except DBAPIError as error:
            db.rollback()
            state = getattr(error.orig, "sqlstate", None)
            if state not in RETRIED_STATES or attempt == ATTEMPTS:
                raise
            log.warning("transaction aborted, retrying", action=action,
                        sqlstate=state, attempt=attempt)  # fmt: skip
            continue
        return result
    raise AssertionError("unreachable: the last attempt returns or raises")
