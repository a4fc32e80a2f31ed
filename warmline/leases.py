"""Expiring leases in the database, so that one unit of work runs at a time.

A lease is a row of `worker_lease`.  It is free when no one holds it
(`holder` is null) or when its holder stopped renewing it and `expires_at`
has passed.  Acquiring is a single UPDATE whose WHERE clause repeats both
conditions and the token read just before, so of two workers racing for the
same row exactly one changes it: PostgreSQL re-checks the WHERE clause of
the second UPDATE against the row the first one committed, and SQLite runs
writers one at a time.  No row lock is held while the work runs, so a
crashed worker leaves nothing to clean up; its lease simply expires.

The clock is the database server's on PostgreSQL (`statement_timestamp()`),
so workers on several machines agree on expiry.  SQLite runs on one machine,
where the process clock is the same clock.

Each row also counts consecutive failed attempts.  A holder that releases
after a failure adds one; a lease taken over after it expired counts its
lost holder as one more.  A success resets the count.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from warmline import store
from warmline.models import UTCDateTime, utcnow
from warmline.worker_models import WorkerLease

log = structlog.get_logger(__name__)

NEVER_HELD = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class LeaseLost(Exception):
    """The lease expired and another worker took it while this one worked."""


@dataclasses.dataclass(frozen=True)
class Lease:
    """A lease this process holds."""

    key: str
    token: str
    holder: str
    failures: int
    """Consecutive failed attempts before this one, a lost holder included."""
    took_over_from: str | None
    """Task id of an earlier holder that never released, or None."""


@dataclasses.dataclass(frozen=True)
class LeaseBusy:
    """Another holder's unexpired lease, returned instead of a Lease."""

    key: str
    holder: str
    worker: str | None
    expires_at: dt.datetime
    seconds_left: float


def sync_key(account_id: int) -> str:
    return f"sync:account:{account_id}"


def acquire(
    session: Session, key: str, holder: str, worker: str, seconds: float
) -> Lease | LeaseBusy:
    """Take the lease `key` for `seconds` unless someone else holds it.

    `holder` is the Celery task id.  The caller commits; until then no
    other transaction sees the new holder.
    """
    session.execute(
        store.insert_ignoring_conflicts(session, WorkerLease).values(
            key=key, expires_at=NEVER_HELD, failures=0
        )
    )
    current = session.get_one(WorkerLease, key, populate_existing=True)
    previous_holder, previous_token = current.holder, current.token
    now, expires = _clock(session, seconds)
    token = secrets.token_hex(16)
    free = sa.or_(WorkerLease.holder.is_(None), WorkerLease.expires_at < now)
    same_token = (
        WorkerLease.token.is_(None)
        if previous_token is None
        else WorkerLease.token == previous_token
    )
    values: dict[str, object] = {
        "holder": holder,
        "token": token,
        "worker": worker,
        "acquired_at": now,
        "expires_at": expires,
    }
    if previous_holder is not None:
        values["failures"] = WorkerLease.failures + 1
        values["last_error"] = f"worker lost: task {previous_holder} stopped renewing"
    result = session.execute(
        sa.update(WorkerLease)
        .where(WorkerLease.key == key, free, same_token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return _busy(session, key)
    failures = session.scalar(
        sa.select(WorkerLease.failures).where(WorkerLease.key == key)
    )
    return Lease(
        key=key,
        token=token,
        holder=holder,
        failures=failures or 0,
        took_over_from=previous_holder,
    )


def _busy(session: Session, key: str) -> LeaseBusy:
    row = session.get_one(WorkerLease, key, populate_existing=True)
    now = session.scalar(sa.select(_clock(session, 0)[0]))
    assert now is not None
    return LeaseBusy(
        key=key,
        holder=row.holder or "",
        worker=row.worker,
        expires_at=row.expires_at,
        seconds_left=max(0.0, (row.expires_at - now).total_seconds()),
    )


def renew(session: Session, lease: Lease, seconds: float) -> bool:
    """Push the lease's expiry `seconds` ahead; False if it is no longer ours."""
    _now, expires = _clock(session, seconds)
    result = session.execute(
        sa.update(WorkerLease)
        .where(WorkerLease.key == lease.key, WorkerLease.token == lease.token)
        .values(expires_at=expires)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]


def release(session: Session, lease: Lease, error: str | None) -> int | None:
    """Give the lease up and return the consecutive failures now counted.

    `error` is None after a success, which resets the count, or the reason
    the attempt failed, which adds one.  Returns None, changing nothing, when
    the lease had already been taken over.
    """
    now, _expires = _clock(session, 0)
    values: dict[str, object] = {
        "holder": None,
        "token": None,
        "worker": None,
        "expires_at": now,
    }
    if error is None:
        values["failures"] = 0
        values["last_error"] = None
    else:
        values["failures"] = WorkerLease.failures + 1
        values["last_error"] = error
    result = session.execute(
        sa.update(WorkerLease)
        .where(WorkerLease.key == lease.key, WorkerLease.token == lease.token)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.scalar(
        sa.select(WorkerLease.failures).where(WorkerLease.key == lease.key)
    )


def reset_failures(session: Session, key: str) -> None:
    """Forget the failures counted on `key`, as when its work is parked."""
    session.execute(
        sa.update(WorkerLease)
        .where(WorkerLease.key == key)
        .values(failures=0)
        .execution_options(synchronize_session=False)
    )


def _clock(
    session: Session, seconds: float
) -> tuple[ColumnElement[dt.datetime], ColumnElement[dt.datetime]]:
    """Return SQL expressions for now and for `seconds` from now."""
    if session.get_bind().dialect.name == "postgresql":
        now = sa.func.statement_timestamp(type_=UTCDateTime())
        ahead = sa.literal(dt.timedelta(seconds=seconds), sa.Interval())
        return now, sa.type_coerce(now + ahead, UTCDateTime())
    moment = utcnow()
    return (
        sa.literal(moment, UTCDateTime()),
        sa.literal(moment + dt.timedelta(seconds=seconds), UTCDateTime()),
    )


class LeaseKeeper:
    """A thread that renews a lease every third of its lifetime.

    When a renewal finds the lease taken over, `check()` raises LeaseLost in
    the worker's thread, which the sync calls from its progress callback.
    A failed renewal (database unreachable) is logged and tried again at
    the next tick.  If the database stays away past the expiry, another
    worker may take the lease over, and the next renewal reports it lost.
    """

    def __init__(
        self, sessions: sessionmaker[Session], lease: Lease, seconds: float
    ) -> None:
        self.sessions = sessions
        self.lease = lease
        self.seconds = seconds
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"lease {lease.key}", daemon=True
        )

    def _run(self) -> None:
        while not self._stop.wait(self.seconds / 3):
            try:
                with self.sessions.begin() as session:
                    kept = renew(session, self.lease, self.seconds)
            except SQLAlchemyError as error:
                log.warning(
                    "lease renewal failed", key=self.lease.key, error=str(error)
                )
                continue
            if not kept:
                log.warning("lease lost", key=self.lease.key)
                self._lost.set()
                return

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def check(self) -> None:
        """Raise LeaseLost if another worker took the lease over."""
        if self._lost.is_set():
            raise LeaseLost(f"lease {self.lease.key} was taken over by another worker")

    @contextmanager
    def running(self) -> Iterator[LeaseKeeper]:
        """Renew the lease in the background for the `with` block."""
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
