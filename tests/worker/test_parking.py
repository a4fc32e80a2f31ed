"""A sync that keeps failing is retried with backoff, then parked."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import warmline.cli.worker_commands  # noqa: F401  (adds accounts resume)
from tests.worker import flaky_provider
from tests.worker.conftest import producer
from warmline import leases
from warmline.cli import main
from warmline.models import Account, AccountStatus, StaffMember
from warmline.settings import load_settings
from warmline.worker import SYNC_ACCOUNT
from warmline.worker.sync import Result, SyncJob, backoff_seconds, run_sync
from warmline.worker_models import WorkerLease
from warmline.workspaces import get_or_create_workspace

TIMED_OUT = "connection to mail.flaky.example timed out"


def add_flaky_account(sessions):
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        member = StaffMember(
            workspace_id=workspace.id, email="sam@brookside-pt.example", name="Sam"
        )
        session.add(member)
        session.flush()
        account = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider=flaky_provider.PROVIDER,
            location="imaps://mail.flaky.example/sam",
        )
        session.add(account)
        session.flush()
        return account.id


def job(sessions, attempts=3):
    settings = load_settings({"WARMLINE_TASK_MAX_ATTEMPTS": str(attempts)})
    return SyncJob(sessions, settings, lambda: None, "task-1", "test:1")


def test_transient_failures_parked_after_max(sessions):
    account_id = add_flaky_account(sessions)

    outcomes = [run_sync(job(sessions), account_id) for _ in range(3)]

    assert [o.result for o in outcomes] == [Result.RETRY, Result.RETRY, Result.PARKED]
    assert [o.failures for o in outcomes] == [1, 2, 3]
    with sessions() as session:
        account = session.get_one(Account, account_id)
        lease = session.get_one(WorkerLease, leases.sync_key(account_id))
    assert account.status is AccountStatus.ERROR
    assert account.last_error == f"parked after 3 attempts: {TIMED_OUT}"
    assert lease.failures == 0
    assert lease.holder is None


def test_parked_account_not_synced(sessions):
    account_id = add_flaky_account(sessions)
    for _ in range(3):
        run_sync(job(sessions), account_id)

    outcome = run_sync(job(sessions), account_id)

    assert outcome.result is Result.INACTIVE
    assert outcome.detail == "status error"


def test_parked_account_resumed_from_cli(sessions, database_url):
    account_id = add_flaky_account(sessions)
    for _ in range(3):
        run_sync(job(sessions), account_id)

    result = CliRunner().invoke(
        main, ["--database", database_url, "accounts", "resume", str(account_id)]
    )
    again = CliRunner().invoke(
        main, ["--database", database_url, "accounts", "resume", str(account_id)]
    )

    assert result.exit_code == 0, result.output
    assert result.output == f"account {account_id} is active again\n"
    with sessions() as session:
        account = session.get_one(Account, account_id)
    assert account.status is AccountStatus.ACTIVE
    assert account.last_error is None
    assert again.exit_code == 1
    assert "has status active; only an account with status error" in again.output


def test_lost_workers_count_toward_parking(sessions):
    account_id = add_flaky_account(sessions)
    key = leases.sync_key(account_id)
    for number in range(3):
        with sessions.begin() as session:
            leases.acquire(session, key, f"dead-{number}", "test", 0.01)
        time.sleep(0.05)

    outcome = run_sync(job(sessions), account_id)

    assert outcome.result is Result.PARKED
    with sessions() as session:
        account = session.get_one(Account, account_id)
    assert account.last_error == (
        "parked after 3 attempts: worker lost: task dead-2 stopped renewing"
    )


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 30, 60), (2, 60, 120), (3, 120, 240), (10, 1800, 1800)],
)
def test_backoff_doubles_with_jitter_capped(attempt, low, high):
    settings = load_settings({})

    delays = [backoff_seconds(attempt, settings) for _ in range(200)]

    assert min(delays) >= low
    assert max(delays) <= high
    if low < high:
        assert len(set(delays)) > 100


def test_backoff_honours_retry_after():
    settings = load_settings({})

    assert backoff_seconds(1, settings, retry_after=3600) == 3600
    assert backoff_seconds(1, settings, retry_after=1) >= 30


def test_worker_retries_then_parks(
    redis_broker, worker_database_url, worker_sessions, start_worker
):
    account_id = add_flaky_account(worker_sessions)
    environment = {
        **redis_broker.environment(),
        "WARMLINE_DATABASE_URL": worker_database_url,
        "WARMLINE_TASK_MAX_ATTEMPTS": "3",
        "WARMLINE_RETRY_BACKOFF_SECONDS": "1",
        "WARMLINE_RETRY_BACKOFF_MAX_SECONDS": "2",
    }
    worker = start_worker(
        "w1",
        environment,
        "--pool=prefork",
        celery_args=("--include=tests.worker.flaky_provider",),
    )
    app = producer(environment)

    result = app.send_task(SYNC_ACCOUNT, args=(account_id,)).get(timeout=60)

    assert result["result"] == "parked"
    assert result["failures"] == 3
    with worker_sessions() as session:
        account = session.scalar(select(Account))
    assert account.status is AccountStatus.ERROR
    assert account.last_error == f"parked after 3 attempts: {TIMED_OUT}"
    log = worker.log.read_text()
    assert log.count("sync retry scheduled") == 2
    assert log.count("sync parked") == 1
