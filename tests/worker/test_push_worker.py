"""Push notifications on Celery: a Graph notification posted to the site
becomes a sync task on Redis that a real worker process runs.

The accounts are mbox accounts with a Graph subscription row, because the
path under test (endpoint, sync request, task, follow-up) is the same for
every provider.  tests/web/test_push.py covers the Outlook and Gmail
specifics.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.worker.clinic import generate_mailboxes, set_up_clinic
from tests.worker.conftest import producer
from warmline import leases, push
from warmline.models import Account, utcnow
from warmline.push_models import PushSubscription, SyncRequest
from warmline.secrets import SecretBox
from warmline.settings import load_settings
from warmline.worker import SYNC_ACCOUNT
from warmline.worker.push import RENEW_PUSH, RENEWAL_LEASE
from warmline.worker.schedule import beat_schedule
from warmline.worker_models import WorkerLease
from web import create_app

SECRET_KEY = Fernet.generate_key().decode()
WAIT_SECONDS = 90.0


def subscribe(sessions, account_id: int, subscription_id: str, state: str) -> None:
    box = SecretBox([SECRET_KEY.encode()])
    with sessions.begin() as session:
        session.add(
            PushSubscription(
                account_id=account_id,
                kind=push.GRAPH,
                resource="messages",
                subscription_id=subscription_id,
                client_state=box.encrypt(state),
                expires_at=utcnow() + dt.timedelta(days=2),
            )
        )


def notification(subscription_id: str, state: str) -> dict[str, object]:
    return {
        "value": [
            {
                "subscriptionId": subscription_id,
                "changeType": "created",
                "resource": "Users/abc/Messages/AAMkAD",
                "clientState": state,
            }
        ]
    }


def last_sync(sessions, account_id: int) -> dt.datetime | None:
    with sessions() as session:
        return session.get_one(Account, account_id).last_sync_at


def wait_until(condition, what: str, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def requests_left(sessions) -> int:
    with sessions() as session:
        return len(session.scalars(select(SyncRequest)).all())


def test_notification_queues_right_sync(
    redis_broker, worker_database_url, worker_sessions, start_worker, tmp_path
):
    mailboxes = generate_mailboxes(tmp_path, 2, 50)
    first, second = set_up_clinic(worker_sessions, mailboxes)
    subscribe(worker_sessions, second, "sub-second", "second-secret")
    environment = {
        **redis_broker.environment(),
        "WARMLINE_DATABASE_URL": worker_database_url,
        "WARMLINE_SECRET_KEYS": SECRET_KEY,
        "WARMLINE_WEB_SESSION_KEY": "test-session-key-for-signing-cookies-0123456789",
    }
    start_worker("w1", environment, "--pool=solo")

    with TestClient(create_app(load_settings(environment))) as client:
        forged = client.post("/push/graph", json=notification("sub-second", "guess"))
        genuine = client.post(
            "/push/graph", json=notification("sub-second", "second-secret")
        )
        wait_until(lambda: last_sync(worker_sessions, second), "the queued sync")
        wait_until(lambda: requests_left(worker_sessions) == 0, "the request cleared")
    app = producer(environment)
    renewal = app.send_task(RENEW_PUSH).get(timeout=WAIT_SECONDS)
    with worker_sessions.begin() as session:
        leases.acquire(session, RENEWAL_LEASE, "another-pass", "elsewhere", 60)
    overlapping = app.send_task(RENEW_PUSH).get(timeout=WAIT_SECONDS)

    assert forged.status_code == 403
    assert genuine.status_code == 202
    assert last_sync(worker_sessions, first) is None
    # No push setting is on, so the pass deletes the stored subscription.
    assert renewal == {"created": 0, "renewed": 0, "deleted": 1, "failed": 0}
    assert overlapping == {"result": "already running"}


def test_request_during_sync_runs_again(
    redis_broker, worker_database_url, worker_sessions, start_worker, tmp_path
):
    [account_id] = set_up_clinic(worker_sessions, generate_mailboxes(tmp_path, 1, 3000))
    subscribe(worker_sessions, account_id, "sub-1", "secret")
    environment = {
        **redis_broker.environment(),
        "WARMLINE_DATABASE_URL": worker_database_url,
        "WARMLINE_SECRET_KEYS": SECRET_KEY,
        "WARMLINE_WEB_SESSION_KEY": "test-session-key-for-signing-cookies-0123456789",
        "WARMLINE_BATCH_SIZE": "100",
    }
    worker = start_worker("w1", environment, "--pool=prefork", "--concurrency=2")
    app = producer(environment)

    running = app.send_task(SYNC_ACCOUNT, args=(account_id,))
    wait_until(lambda: lease_holder(worker_sessions), "the first sync's lease")
    with TestClient(create_app(load_settings(environment))) as client:
        response = client.post("/push/graph", json=notification("sub-1", "secret"))
    first = running.get(timeout=WAIT_SECONDS)
    wait_until(lambda: requests_left(worker_sessions) == 0, "the follow-up sync")

    log = worker.log.read_text(errors="replace")
    assert response.status_code == 202
    assert first["result"] == "done"
    assert "sync requested during the sync; sending another" in log
    assert log.count("sync task finished") >= 2


def lease_holder(sessions) -> str | None:
    with sessions() as session:
        return session.scalar(
            select(WorkerLease.holder).where(WorkerLease.holder.is_not(None))
        )


def test_renewal_scheduled_every_ten_minutes():
    entry = beat_schedule(load_settings({}))["renew-push"]

    assert entry["task"] == RENEW_PUSH
    assert str(entry["schedule"]._orig_minute) == "*/10"
