"""One account's sync as a worker runs it: under a lease, retried or parked.

The sync itself is `warmline.pipeline.sync_account`, the same function the
command line runs.  Around it this module:

1. skips an account that is not active (parked, needs re-authorization,
   disabled) or no longer exists;
2. takes the account's lease.  When another task has it, the request is
   a no-op.  When an earlier delivery of the same task holds it, that
   delivery's worker died or is still running, and the task waits for the
   lease to expire or be released;
3. runs the sync while a thread renews the lease.  If the lease is lost
   anyway, the progress callback stops the sync;
4. releases the lease and classifies the result.  A transient failure
   (the pipeline leaves the account active with an error) or a database
   OperationalError is retried after a backoff with jitter.  After
   task_max_attempts consecutive failures, lost workers included, the
   account is parked: status error, last_error "parked after N attempts: ...".
   A sync that an admission check deferred (a provider's daily quota,
   see warmline.sync_admission) ends as DEFERRED and is not retried: beat
   sends it again each interval.

The caller (the Celery task) turns the returned outcome into a retry.
"""

from __future__ import annotations

import dataclasses
import enum
import random
from collections.abc import Callable

import structlog
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from warmline import leases, pipeline
from warmline.models import Account, AccountStatus
from warmline.secrets import SecretBox
from warmline.settings import ProcessSettings
from warmline.worker_models import WorkerLease

log = structlog.get_logger(__name__)


class Result(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"
    """The pipeline stopped the account (needs re-authorization, error)."""
    RETRY = "retry"
    PARKED = "parked"
    ALREADY_RUNNING = "already running"
    WAIT = "wait"
    """An earlier delivery of this task holds the lease."""
    LEASE_LOST = "lease lost"
    INACTIVE = "inactive"
    MISSING = "missing"
    TIME_LIMIT = "time limit"
    DEFERRED = "deferred"
    """An admission check deferred the sync (a provider's daily quota)."""


@dataclasses.dataclass
class SyncOutcome:
    """Result of a worker's attempt at one account's sync."""

    account_id: int
    result: Result
    detail: str = ""
    retry_in: float | None = None
    """Seconds to wait before retrying, for RETRY and WAIT."""
    failures: int = 0
    report: pipeline.SyncReport | None = None

    def summary(self) -> dict[str, object]:
        """Return the outcome as a task result: JSON-serializable values."""
        summary: dict[str, object] = {
            "account_id": self.account_id,
            "result": self.result.value,
            "detail": self.detail,
            "failures": self.failures,
        }
        if self.report is not None:
            summary["fetched"] = self.report.fetched
            summary["stored"] = self.report.stored
            summary["touchpoints"] = self.report.touchpoints
            if self.report.deferral is not None:
                summary["deferred_until"] = self.report.deferral.until.isoformat()
        return summary


@dataclasses.dataclass(frozen=True)
class SyncJob:
    """Context of one sync attempt: database, settings, secret keys, task, worker."""

    sessions: sessionmaker[Session]
    settings: ProcessSettings
    secret_box: Callable[[], SecretBox]
    task_id: str
    worker: str


def backoff_seconds(
    attempt: int, settings: ProcessSettings, retry_after: float | None = None
) -> float:
    """Return the delay before retry number `attempt` (1 for the first).

    The delay doubles from retry_backoff_seconds, plus a random jitter of up
    to the delay itself, capped at retry_backoff_max_seconds.  A provider's
    Retry-After takes precedence when it is longer.
    """
    delay = float(settings.retry_backoff_seconds * 2 ** max(0, attempt - 1))
    jittered = delay + random.uniform(0, delay)
    capped = min(jittered, float(settings.retry_backoff_max_seconds))
    if retry_after is not None:
        return max(capped, retry_after)
    return capped


def run_sync(job: SyncJob, account_id: int) -> SyncOutcome:
    """Sync one account under its lease and classify what happened."""
    settings = job.settings
    with job.sessions.begin() as session:
        status = session.scalar(select(Account.status).where(Account.id == account_id))
        if status is None:
            return SyncOutcome(account_id, Result.MISSING, "no such account")
        if status is not AccountStatus.ACTIVE:
            return SyncOutcome(account_id, Result.INACTIVE, f"status {status.value}")
        taken = leases.acquire(
            session,
            leases.sync_key(account_id),
            job.task_id,
            job.worker,
            settings.lease_seconds,
        )
    if isinstance(taken, leases.LeaseBusy):
        return _busy(account_id, taken, job)
    if taken.took_over_from is not None:
        log.warning(
            "lease taken over",
            previous_task=taken.took_over_from,
            failures=taken.failures,
        )
        if taken.failures >= settings.task_max_attempts:
            return _park_now(job, taken, account_id)
    return _run_under_lease(job, taken, account_id)


def _busy(account_id: int, busy: leases.LeaseBusy, job: SyncJob) -> SyncOutcome:
    if busy.holder == job.task_id:
        # Our own earlier delivery: its worker died, or (Redis) the
        # visibility timeout passed while it still runs.  Try again once its
        # lease has expired or been released.
        wait = busy.seconds_left + random.uniform(1, 5)
        return SyncOutcome(
            account_id, Result.WAIT, "an earlier delivery holds the lease", wait
        )
    return SyncOutcome(
        account_id,
        Result.ALREADY_RUNNING,
        f"task {busy.holder} on {busy.worker} holds the lease",
    )


def _run_under_lease(job: SyncJob, lease: leases.Lease, account_id: int) -> SyncOutcome:
    with job.sessions() as session:
        cursor_before = session.scalar(
            select(Account.cursor).where(Account.id == account_id)
        )
    keeper = leases.LeaseKeeper(job.sessions, lease, job.settings.lease_seconds)
    try:
        with keeper.running():
            report = pipeline.sync_account(
                job.sessions,
                account_id,
                job.settings.batch_size,
                lambda _done, _total: keeper.check(),
                job.secret_box,
            )
    except leases.LeaseLost as error:
        # The new holder counted this attempt as a lost worker.
        return SyncOutcome(account_id, Result.LEASE_LOST, str(error))
    except SoftTimeLimitExceeded:
        return _timed_out(job, lease, account_id, cursor_before)
    except OperationalError as error:
        message = f"database error: {error.orig or error}"
        return _failed(job, lease, account_id, message, None)
    return _classify(job, lease, account_id, report)


def _classify(
    job: SyncJob,
    lease: leases.Lease,
    account_id: int,
    report: pipeline.SyncReport,
) -> SyncOutcome:
    if report.error is None:
        with job.sessions.begin() as session:
            leases.release(session, lease, None)
        if report.deferral is not None:
            # Not retried: beat sends the sync again each interval, and the
            # check admits it once the quota allows.
            detail = (
                f"until {report.deferral.until.isoformat()}: {report.deferral.reason}"
            )
            return SyncOutcome(account_id, Result.DEFERRED, detail, report=report)
        return SyncOutcome(account_id, Result.DONE, report=report)
    with job.sessions() as session:
        status = session.scalar(select(Account.status).where(Account.id == account_id))
    if status is AccountStatus.ACTIVE:
        # The pipeline keeps an account active only after a TransientError.
        # NOTE: RateLimited.retry_after reaches this point only if the
        # pipeline's SyncReport carries it; until then the backoff applies.
        retry_after = getattr(report, "retry_after", None)
        return _failed(job, lease, account_id, report.error, retry_after, report)
    with job.sessions.begin() as session:
        leases.release(session, lease, None)
    return SyncOutcome(account_id, Result.FAILED, report.error, report=report)


def _failed(
    job: SyncJob,
    lease: leases.Lease,
    account_id: int,
    error: str,
    retry_after: float | None,
    report: pipeline.SyncReport | None = None,
) -> SyncOutcome:
    """Count a failed attempt, then park the account or schedule a retry."""
    try:
        with job.sessions.begin() as session:
            failures = leases.release(session, lease, error)
            if failures is not None and failures >= job.settings.task_max_attempts:
                _park(session, lease.key, account_id, failures, error)
                return SyncOutcome(
                    account_id, Result.PARKED, error, failures=failures, report=report
                )
    except SQLAlchemyError as release_error:
        # The database is away: the lease expires on its own, and the
        # task's own retry count bounds the attempts instead.
        log.warning("lease release failed", error=str(release_error))
        failures = None
    attempt = failures or 1
    return SyncOutcome(
        account_id,
        Result.RETRY,
        error,
        backoff_seconds(attempt, job.settings, retry_after),
        failures=attempt,
        report=report,
    )


def _park_now(job: SyncJob, lease: leases.Lease, account_id: int) -> SyncOutcome:
    with job.sessions.begin() as session:
        error = _lease_error(session, lease.key)
        leases.release(session, lease, error)
        _park(session, lease.key, account_id, lease.failures, error)
    return SyncOutcome(account_id, Result.PARKED, error, failures=lease.failures)


def _lease_error(session: Session, key: str) -> str:
    row = session.get_one(WorkerLease, key, populate_existing=True)
    return row.last_error or "worker lost"


def _park(
    session: Session, key: str, account_id: int, failures: int, error: str
) -> None:
    account = session.get_one(Account, account_id)
    account.status = AccountStatus.ERROR
    account.last_error = f"parked after {failures} attempts: {error}"
    leases.reset_failures(session, key)
    log.error("sync parked", failures=failures, error=error)


def _timed_out(
    job: SyncJob, lease: leases.Lease, account_id: int, cursor_before: str | None
) -> SyncOutcome:
    """Release after the time limit; a sync that moved its cursor made progress."""
    with job.sessions() as session:
        cursor_after = session.scalar(
            select(Account.cursor).where(Account.id == account_id)
        )
    message = f"stopped after {job.settings.sync_time_limit_seconds} s"
    with job.sessions.begin() as session:
        failed = None if cursor_after != cursor_before else message
        failures = leases.release(session, lease, failed)
        if failures is not None and failures >= job.settings.task_max_attempts:
            _park(session, lease.key, account_id, failures, message)
            return SyncOutcome(account_id, Result.PARKED, message, failures=failures)
    log.warning("sync time limit", progressed=failed is None)
    return SyncOutcome(account_id, Result.TIME_LIMIT, message, failures=failures or 0)
