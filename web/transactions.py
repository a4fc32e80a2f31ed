"""Write transactions of the site, run again when PostgreSQL aborts them.

The write paths lock activities before touchpoints and sources, as a sync
does, but a review decision then rematches what it learned and locks
other activities late, so a decision and a sync can still deadlock.
PostgreSQL then aborts one of them, and `warmline.db.retrying` runs it
again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from warmline.db import retrying

T = TypeVar("T")


def commit_retrying(db: Session, work: Callable[[], T], action: str) -> T:
    """Run `work` in `db`'s transaction and commit it, again after an abort.

    After an abort the transaction is rolled back and `work` runs again on
    what other transactions have committed since (see warmline.db.retrying).
    """

    def run() -> T:
        result = work()
        db.commit()
        return result

    return retrying(run, action, db.rollback)
