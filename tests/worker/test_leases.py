"""The lease table on SQLite and PostgreSQL, and one sync per account."""

from __future__ import annotations

import threading
import time

import pytest

from tests.worker.clinic import generate_mailboxes, set_up_clinic
from warmline import leases
from warmline.models import Account
from warmline.settings import load_settings
from warmline.worker.sync import Result, SyncJob, run_sync
from warmline.worker_models import WorkerLease

KEY = "sync:account:1"


def acquire(sessions, holder, seconds=60.0, key=KEY):
    with sessions.begin() as session:
        return leases.acquire(session, key, holder, f"test:{holder}", seconds)


def test_free_lease_acquired(sessions):
    lease = acquire(sessions, "task-a")

    assert isinstance(lease, leases.Lease)
    assert lease.holder == "task-a"
    assert lease.failures == 0
    assert lease.took_over_from is None


def test_held_lease_reports_holder(sessions):
    acquire(sessions, "task-a")

    busy = acquire(sessions, "task-b")

    assert isinstance(busy, leases.LeaseBusy)
    assert busy.holder == "task-a"
    assert busy.worker == "test:task-a"
    assert 55 < busy.seconds_left <= 60


def test_released_lease_free_again(sessions):
    lease = acquire(sessions, "task-a")
    with sessions.begin() as session:
        failures = leases.release(session, lease, None)

    again = acquire(sessions, "task-b")

    assert failures == 0
    assert isinstance(again, leases.Lease)
    assert again.took_over_from is None


def test_expired_lease_taken_over(sessions):
    acquire(sessions, "dead-task", seconds=0.5)
    time.sleep(0.7)

    lease = acquire(sessions, "task-b")

    assert isinstance(lease, leases.Lease)
    assert lease.took_over_from == "dead-task"
    assert lease.failures == 1
    with sessions() as session:
        row = session.get_one(WorkerLease, KEY)
    assert row.last_error == "worker lost: task dead-task stopped renewing"


def test_renewal_keeps_lease(sessions):
    lease = acquire(sessions, "task-a", seconds=0.6)
    keeper = leases.LeaseKeeper(sessions, lease, 0.6)

    with keeper.running():
        time.sleep(1.5)
        busy = acquire(sessions, "task-b")

    assert isinstance(busy, leases.LeaseBusy)
    assert not keeper.lost


def test_lost_lease_detected(sessions):
    lease = acquire(sessions, "task-a", seconds=0.3)
    time.sleep(0.4)
    acquire(sessions, "task-b")
    keeper = leases.LeaseKeeper(sessions, lease, 0.3)

    with keeper.running():
        time.sleep(0.4)

    assert keeper.lost
    with pytest.raises(leases.LeaseLost):
        keeper.check()


def test_release_after_takeover_changes_nothing(sessions):
    stale = acquire(sessions, "task-a", seconds=0.3)
    time.sleep(0.4)
    acquire(sessions, "task-b")

    with sessions.begin() as session:
        failures = leases.release(session, stale, "late")

    assert failures is None
    with sessions() as session:
        assert session.get_one(WorkerLease, KEY).holder == "task-b"


def test_failures_counted_then_reset(sessions):
    for attempt in range(1, 4):
        lease = acquire(sessions, f"task-{attempt}")
        with sessions.begin() as session:
            assert leases.release(session, lease, "timed out") == attempt

    lease = acquire(sessions, "task-ok")
    with sessions.begin() as session:
        failures = leases.release(session, lease, None)

    assert failures == 0


def test_racing_acquirers_one_wins(sessions):
    winners = []
    barrier = threading.Barrier(8)

    def race(number):
        barrier.wait()
        taken = acquire(sessions, f"task-{number}", key="sync:account:99")
        if isinstance(taken, leases.Lease):
            winners.append(number)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(winners) == 1


# --- run_sync: two syncs of one account ---------------------------------------


def sync_job(sessions, task_id, **environment):
    settings = load_settings({"WARMLINE_BATCH_SIZE": "50", **environment})
    return SyncJob(sessions, settings, lambda: None, task_id, f"test:{task_id}")


@pytest.fixture
def one_account(sessions, tmp_path):
    mailboxes = generate_mailboxes(tmp_path, 1, 2000)
    [account_id] = set_up_clinic(sessions, mailboxes)
    return account_id


def test_concurrent_syncs_one_runs(sessions, one_account):
    outcomes = {}
    barrier = threading.Barrier(2)

    def sync(task_id):
        barrier.wait()
        outcomes[task_id] = run_sync(sync_job(sessions, task_id), one_account)

    threads = [threading.Thread(target=sync, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    results = sorted(outcome.result for outcome in outcomes.values())
    assert results == [Result.ALREADY_RUNNING, Result.DONE]
    done = next(o for o in outcomes.values() if o.result is Result.DONE)
    assert done.report is not None
    assert done.report.stored > 1000


def test_dead_holder_expires_next_sync_runs(sessions, one_account):
    acquire(sessions, "dead-task", seconds=0.5, key=leases.sync_key(one_account))
    blocked = run_sync(sync_job(sessions, "early"), one_account)
    time.sleep(0.7)

    outcome = run_sync(sync_job(sessions, "later"), one_account)

    assert blocked.result is Result.ALREADY_RUNNING
    assert outcome.result is Result.DONE
    with sessions() as session:
        row = session.get_one(WorkerLease, leases.sync_key(one_account))
        account = session.get_one(Account, one_account)
    assert row.holder is None
    assert row.failures == 0
    assert account.last_sync_at is not None


def test_own_earlier_delivery_waits(sessions, one_account):
    acquire(sessions, "task-x", seconds=30, key=leases.sync_key(one_account))

    outcome = run_sync(sync_job(sessions, "task-x"), one_account)

    assert outcome.result is Result.WAIT
    assert outcome.retry_in is not None
    assert 29 < outcome.retry_in < 36
