"""The Celery tasks: thin wrappers over the functions the command line calls.

Task names are stable strings, so producers that do not import this module
(the web app, `celery call`) can send them:

- `warmline.sync_account(account_id)`: warmline.pipeline.sync_account
  under the account's lease (see warmline.worker.sync);
- `warmline.match_activities(workspace_id, activity_ids)`: match stored
  activities again (warmline.matching);
- `warmline.run_reminders(workspace_id)`: one reminder pass
  (warmline.remind.run_reminders) under a workspace lease;
- `warmline.send_digest(staff_member_id, local_date)`: one staff member's
  digest (warmline.remind.send_digests), at most once a day;
- `warmline.place_follow_ups(workspace_id)`: one placement pass of follow-up
  events on staff calendars (warmline.worker.placement), sent after each
  reminder pass of a workspace that places follow-ups;
- `warmline.schedule_syncs`, `warmline.schedule_digests` and
  `warmline.schedule_reminders`: the beat ticks of warmline.worker.schedule.
- `warmline.renew_push`: one renewal pass of the push subscriptions
  (warmline.worker.push).  A sync that a push notification requested
  while it ran sends one more `warmline.sync_account` when it ends.

Each task binds its name, id and main argument to the log context and
clears the context when it ends.  Producers inside a database transaction
send tasks with `enqueue_after_commit`, so a worker never looks for a row
that is not committed yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog
from celery import Task
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from reminders.mailer import SmtpConfig
from warmline import leases, remind
from warmline.matching import rematch_activities
from warmline.models import Account, AccountStatus, StaffMember, Workspace, utcnow
from warmline.readers import ReaderServices
from warmline.remind.snooze_links import load_link_key
from warmline.worker import push, schedule
from warmline.worker.placement import (
    PLACE_FOLLOW_UPS,
    place_follow_ups,
    placement_enabled,
)
from warmline.worker.sync import Result, SyncJob, backoff_seconds, run_sync
from warmline.workspaces import workspace_settings

if TYPE_CHECKING:
    from warmline.worker.app import Runtime, WarmlineCelery

log = structlog.get_logger(__name__)

SYNC_ACCOUNT = "warmline.sync_account"
MATCH_ACTIVITIES = "warmline.match_activities"
RUN_REMINDERS = "warmline.run_reminders"
SEND_DIGEST = "warmline.send_digest"
PENDING_TASKS = "warmline_tasks_after_commit"


class WarmlineTask(Task):  # type: ignore[misc]
    """A task whose log context contains its name and id while it runs."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(task=self.name, task_id=self.request.id)
        try:
            return super().__call__(*args, **kwargs)
        finally:
            structlog.contextvars.clear_contextvars()

    @property
    def runtime(self) -> Runtime:
        return self.app.runtime  # type: ignore[no-any-return]

    def retry_database_error(self, error: OperationalError) -> Exception:
        """Return the retry of a task that met a database OperationalError.

        Bounded by task_max_attempts; once exceeded Celery raises `error`.
        """
        settings = self.runtime.settings
        attempt = self.request.retries + 1
        countdown = backoff_seconds(attempt, settings)
        log.warning(
            "database error, retrying",
            error=str(error.orig or error),
            attempt=attempt,
            countdown=round(countdown, 1),
        )
        return self.retry(  # type: ignore[no-any-return]
            exc=error, countdown=countdown, max_retries=settings.task_max_attempts
        )


def register(app: WarmlineCelery) -> None:
    """Add the tasks to `app`, with limits taken from its settings."""
    settings = app.runtime.settings
    common = {"bind": True, "base": WarmlineTask}
    app.task(
        name=SYNC_ACCOUNT,
        soft_time_limit=settings.sync_time_limit_seconds,
        time_limit=settings.sync_time_limit_seconds + settings.lease_seconds,
        **common,
    )(sync_account)
    app.task(name=MATCH_ACTIVITIES, **common)(match_activities)
    app.task(name=RUN_REMINDERS, **common)(run_reminders)
    app.task(name=SEND_DIGEST, **common)(send_digest)
    app.task(name=PLACE_FOLLOW_UPS, **common)(place_follow_ups)
    app.task(name="warmline.schedule_syncs", **common)(schedule_syncs)
    app.task(name="warmline.schedule_digests", **common)(schedule_digests)
    app.task(name="warmline.schedule_reminders", **common)(schedule_reminders)
    app.task(name=push.RENEW_PUSH, **common)(push.renew_push)


def enqueue_after_commit(
    session: Session, app: WarmlineCelery, name: str, *args: Any, **options: Any
) -> None:
    """Send task `name` once the session's transaction commits; never on rollback."""
    if PENDING_TASKS not in session.info:
        session.info[PENDING_TASKS] = []
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)
    session.info[PENDING_TASKS].append((app, name, args, options))


def _send_pending(session: Session) -> None:
    pending = session.info.get(PENDING_TASKS, [])
    session.info[PENDING_TASKS] = []
    for app, name, args, options in pending:
        app.send_task(name, args=args, **options)


def _drop_pending(session: Session) -> None:
    session.info[PENDING_TASKS] = []


# --- sync ---------------------------------------------------------------------


def sync_account(self: WarmlineTask, account_id: int) -> dict[str, object]:
    """Sync one account, or report that its sync is already running."""
    structlog.contextvars.bind_contextvars(account_id=account_id)
    runtime = self.runtime
    job = SyncJob(
        sessions=runtime.sessions,
        settings=runtime.settings,
        secret_box=runtime.secret_box,
        task_id=self.request.id,
        worker=runtime.worker_name,
    )
    try:
        outcome = push.sync_with_requests(
            self, account_id, lambda: run_sync(job, account_id)
        )
    except OperationalError as error:
        raise self.retry_database_error(error) from error
    if outcome.result in (Result.RETRY, Result.WAIT):
        assert outcome.retry_in is not None
        log.warning(
            "sync retry scheduled",
            result=outcome.result.value,
            error=outcome.detail,
            failures=outcome.failures,
            countdown=round(outcome.retry_in, 1),
        )
        # Unbounded here: the lease's failure count parks the account after
        # task_max_attempts, and a WAIT ends when the earlier lease expires.
        raise self.retry(countdown=outcome.retry_in, max_retries=None)
    log.info("sync task finished", **outcome.summary())
    return outcome.summary()


# --- matching -----------------------------------------------------------------


def match_activities(
    self: WarmlineTask, workspace_id: int, activity_ids: Sequence[int]
) -> dict[str, int]:
    """Match the given stored activities of a workspace again."""
    structlog.contextvars.bind_contextvars(workspace_id=workspace_id)
    try:
        report = rematch_activities(self.runtime.sessions, workspace_id, activity_ids)
    except OperationalError as error:
        raise self.retry_database_error(error) from error
    log.info(
        "activities matched again",
        activities=report.activities,
        linked=report.linked,
        dropped=report.dropped,
    )
    return {
        "activities": report.activities,
        "linked": report.linked,
        "dropped": report.dropped,
    }


# --- reminders and digests ----------------------------------------------------


def run_reminders(self: WarmlineTask, workspace_id: int) -> dict[str, object]:
    """Run one workspace's reminder pass, unless another pass holds its lease."""
    structlog.contextvars.bind_contextvars(workspace_id=workspace_id)
    runtime = self.runtime
    sessions = runtime.sessions
    key = f"reminders:workspace:{workspace_id}"
    try:
        with sessions.begin() as session:
            lease = leases.acquire(
                session,
                key,
                self.request.id,
                runtime.worker_name,
                runtime.settings.lease_seconds,
            )
        if isinstance(lease, leases.LeaseBusy):
            log.info("reminder pass already running", holder=lease.holder)
            return {"result": "already running", "holder": lease.holder}
        created, closed = _reminder_pass(runtime, lease, workspace_id)
        if placement_enabled(sessions, workspace_id):
            self.app.send_task(
                PLACE_FOLLOW_UPS, args=(workspace_id,), expires=12 * 3600
            )
    except OperationalError as error:
        raise self.retry_database_error(error) from error
    return {"result": "done", "created": created, "closed": closed}


def _reminder_pass(
    runtime: Runtime, lease: leases.Lease, workspace_id: int
) -> tuple[int, int]:
    """Run the pass under `lease`, release it, and count follow-ups changed."""
    sessions = runtime.sessions
    keeper = leases.LeaseKeeper(sessions, lease, runtime.settings.lease_seconds)
    try:
        with keeper.running(), sessions.begin() as session:
            workspace = session.get_one(Workspace, workspace_id)
            report = remind.run_reminders(session, workspace, utcnow())
            counts = len(report.created), len(report.closed)
    except Exception as error:
        with sessions.begin() as session:
            leases.release(session, lease, f"{type(error).__name__}: {error}")
        raise
    with sessions.begin() as session:
        leases.release(session, lease, None)
    return counts


def send_digest(
    self: WarmlineTask, staff_member_id: int, local_date: str
) -> dict[str, object]:
    """Send one staff member's digest for `local_date` (YYYY-MM-DD) at most once."""
    structlog.contextvars.bind_contextvars(staff_member_id=staff_member_id)
    runtime = self.runtime
    try:
        with runtime.sessions.begin() as session:
            member = session.get_one(StaffMember, staff_member_id)
            workspace = session.get_one(Workspace, member.workspace_id)
            request = remind.DigestRequest(
                now=utcnow(),
                local_date=dt.date.fromisoformat(local_date),
                staff_email=member.email,
                smtp=_smtp_config(session, workspace, runtime),
                link_key=load_link_key(runtime.settings),
                services=ReaderServices(runtime.sessions, runtime.secret_box),
            )
            workspace_name = workspace.name
        outcomes = remind.send_digests(runtime.sessions, workspace_name, request)
    except OperationalError as error:
        raise self.retry_database_error(error) from error
    except remind.ReminderError as error:
        log.error("digest not sent", error=str(error))
        return {"status": "not sent", "detail": str(error)}
    outcome = outcomes[0]
    if outcome.status == "failed":
        # The server refused the message and the claim was released.
        attempt = self.request.retries + 1
        raise self.retry(
            countdown=backoff_seconds(attempt, runtime.settings),
            max_retries=runtime.settings.task_max_attempts,
        )
    return {"status": outcome.status, "detail": outcome.detail}


def _smtp_config(
    session: Session, workspace: Workspace, runtime: Runtime
) -> SmtpConfig:
    # The same sources as 'warmline digest': the environment, then the store.
    settings = workspace_settings(session, workspace)
    password = runtime.smtp_password
    if password is None and settings["smtp_user"]:
        password = remind.stored_smtp_password(session, workspace, runtime.secret_box())
    return remind.smtp_config(settings, password)


# --- beat ticks ---------------------------------------------------------------


def schedule_syncs(self: WarmlineTask) -> int:
    """Send the syncs of the active accounts whose offset falls in this minute."""
    runtime = self.runtime
    interval = runtime.settings.sync_interval_minutes
    with runtime.sessions() as session:
        account_ids = list(
            session.scalars(
                select(Account.id).where(Account.status == AccountStatus.ACTIVE)
            )
        )
    due = schedule.due_syncs(account_ids, utcnow(), interval)
    for account_id, countdown in due:
        # A sync still queued when the next one is due is redundant.
        self.app.send_task(
            SYNC_ACCOUNT,
            args=(account_id,),
            countdown=countdown,
            expires=interval * 60 + countdown,
        )
    log.info("syncs scheduled", accounts=len(due))
    return len(due)


def schedule_digests(self: WarmlineTask) -> int:
    """Send the digests of the staff members whose digest hour has come."""
    runtime = self.runtime
    with runtime.sessions() as session:
        members = session.execute(
            select(StaffMember.id, StaffMember.timezone, StaffMember.workspace_id)
        ).all()
        workspace_times = {
            workspace_id: workspace_settings(session, workspace_id)["digest_time"]
            for workspace_id in {row.workspace_id for row in members}
        }
    times = schedule.digest_times(workspace_times, runtime.settings.digest_hour)
    due = schedule.due_digests(
        [(row.id, row.timezone, times[row.workspace_id]) for row in members],
        utcnow(),
    )
    for member_id, local_date in due:
        self.app.send_task(
            SEND_DIGEST, args=(member_id, local_date.isoformat()), expires=6 * 3600
        )
    log.info("digests scheduled", staff=len(due))
    return len(due)


def schedule_reminders(self: WarmlineTask) -> int:
    """Send one reminder pass per workspace."""
    with self.runtime.sessions() as session:
        workspace_ids = list(session.scalars(select(Workspace.id)))
    for workspace_id in workspace_ids:
        self.app.send_task(RUN_REMINDERS, args=(workspace_id,), expires=12 * 3600)
    log.info("reminder passes scheduled", workspaces=len(workspace_ids))
    return len(workspace_ids)
