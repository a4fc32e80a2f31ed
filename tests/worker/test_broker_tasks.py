"""Tasks sent through Redis and RabbitMQ and run by a real worker process."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, select

from tests.worker.clinic import generate_mailboxes, set_up_clinic, snapshot
from tests.worker.conftest import producer
from warmline.models import Account, Activity, Touchpoint
from warmline.worker import MATCH_ACTIVITIES, SYNC_ACCOUNT
from warmline.worker_models import WorkerLease

RESULT_TIMEOUT = 120


def wait_for_lease_holder(sessions, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            holder = session.scalar(
                select(WorkerLease.holder).where(WorkerLease.holder.is_not(None))
            )
        if holder is not None:
            return holder
        time.sleep(0.01)
    pytest.fail("no sync took its lease")


def test_sync_runs_and_second_request_noop(
    broker, worker_database_url, worker_sessions, start_worker, tmp_path
):
    mailboxes = generate_mailboxes(tmp_path, 1, 3000)
    [account_id] = set_up_clinic(worker_sessions, mailboxes)
    environment = {
        **broker.environment(),
        "WARMLINE_DATABASE_URL": worker_database_url,
        "WARMLINE_BATCH_SIZE": "100",
    }
    start_worker("w1", environment, "--pool=prefork", "--concurrency=2")
    app = producer(environment)

    first = app.send_task(SYNC_ACCOUNT, args=(account_id,))
    holder = wait_for_lease_holder(worker_sessions)
    second = app.send_task(SYNC_ACCOUNT, args=(account_id,))
    second_result = second.get(timeout=RESULT_TIMEOUT)
    first_result = first.get(timeout=RESULT_TIMEOUT)

    assert holder == first.id
    assert first_result["result"] == "done"
    assert first_result["stored"] > 2000
    assert second_result["result"] == "already running"
    assert first.id in second_result["detail"]
    with worker_sessions() as session:
        account = session.get_one(Account, account_id)
        lease = session.scalar(select(WorkerLease))
    assert account.last_sync_at is not None
    assert account.last_error is None
    assert lease.holder is None
    assert lease.failures == 0


def test_match_task_restores_touchpoints(
    broker, worker_database_url, worker_sessions, start_worker, tmp_path
):
    mailboxes = generate_mailboxes(tmp_path, 1, 300)
    [account_id] = set_up_clinic(worker_sessions, mailboxes)
    environment = {
        **broker.environment(),
        "WARMLINE_DATABASE_URL": worker_database_url,
    }
    start_worker("w1", environment, "--pool=solo")
    app = producer(environment)
    app.send_task(SYNC_ACCOUNT, args=(account_id,)).get(timeout=RESULT_TIMEOUT)
    synced = snapshot(worker_sessions)
    with worker_sessions.begin() as session:
        activity_ids = list(session.scalars(select(Activity.id)))
        workspace_id = session.scalar(select(Account.workspace_id))
        session.execute(delete(Touchpoint))

    result = app.send_task(MATCH_ACTIVITIES, args=(workspace_id, activity_ids)).get(
        timeout=RESULT_TIMEOUT
    )

    assert result["activities"] == len(activity_ids)
    assert result["linked"] > 100
    assert snapshot(worker_sessions) == synced
