"""Push notifications on Celery: the renewal task and the follow-up syncs.

- `warmline.renew_push`: one pass of warmline.push_subscriptions, sent by
  beat every RENEW_TICK_MINUTES and by the push endpoint after a Graph
  lifecycle notification asked for a renewal.
- `sync_with_requests`: wraps a sync task's run.  It reads the account's
  pending sync request before the sync and clears it afterwards; a request
  raised meanwhile sends one more sync (see warmline.push).  After a sync
  of an account that push settings cover but that has no subscription yet,
  such as one just connected, it sends `warmline.renew_push`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.orm import Session, sessionmaker

from warmline import leases, push
from warmline.push_subscriptions import lacks_subscription, renew_subscriptions

if TYPE_CHECKING:
    from warmline.worker.sync import Result, SyncOutcome
    from warmline.worker.tasks import WarmlineTask

log = structlog.get_logger(__name__)

RENEW_PUSH = "warmline.renew_push"
RENEWAL_LEASE = "push:renewal"

FINISHED = frozenset({"done", "failed", "parked", "inactive", "missing"})
"""Sync results after which the request the sync saw is cleared.

After "already running" the running sync clears it; after a retry or a
wait the next attempt does.
"""


def renew_push(self: WarmlineTask) -> dict[str, object]:
    """Create, renew and delete push subscriptions as the settings require.

    A lease keeps two passes from running at once, because both would
    create a Graph subscription for the same new account.
    """
    runtime = self.runtime
    sessions = runtime.sessions
    with sessions.begin() as session:
        lease = leases.acquire(
            session,
            RENEWAL_LEASE,
            self.request.id,
            runtime.worker_name,
            runtime.settings.lease_seconds,
        )
    if isinstance(lease, leases.LeaseBusy):
        log.info("push renewal already running", holder=lease.holder)
        return {"result": "already running"}
    keeper = leases.LeaseKeeper(sessions, lease, runtime.settings.lease_seconds)
    try:
        with keeper.running():
            report = renew_subscriptions(sessions, runtime.settings, runtime.secret_box)
    finally:
        with sessions.begin() as session:
            leases.release(session, lease, None)
    return {
        "created": report.created,
        "renewed": report.renewed,
        "deleted": report.deleted,
        "failed": report.failed,
    }


def sync_with_requests(
    task: WarmlineTask, account_id: int, run: Callable[[], SyncOutcome]
) -> SyncOutcome:
    """Run `run` and send one more sync if a request arrived while it ran."""
    sessions: sessionmaker[Session] = task.runtime.sessions
    with sessions() as session:
        seen = push.request_generation(session, account_id)
    outcome = run()
    if _result(outcome.result) not in FINISHED:
        return outcome
    with sessions.begin() as session:
        pending = push.complete_request(session, account_id, seen)
        if pending and _result(outcome.result) in {"inactive", "missing"}:
            push.drop_request(session, account_id)
            pending = False
        unsubscribed = _result(outcome.result) == "done" and lacks_subscription(
            session, task.runtime.settings, account_id
        )
    if unsubscribed:
        # A newly connected account gets its watch or subscription now
        # rather than at the next scheduled pass.
        task.app.send_task(RENEW_PUSH)
    if pending:
        from warmline.worker.tasks import SYNC_ACCOUNT

        log.info("sync requested during the sync; sending another")
        task.app.send_task(SYNC_ACCOUNT, args=(account_id,))
    return outcome


def _result(result: Result) -> str:
    return str(result.value)
