"""Beat's schedule: spread account syncs, digests at local time."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from warmline.settings import load_settings
from warmline.worker import schedule
from warmline.worker.app import celery_config

START = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


def test_each_account_due_once_per_interval():
    account_ids = range(1, 501)
    due = Counter()

    for minute in range(5):
        tick = START + dt.timedelta(minutes=minute, seconds=7)
        for account_id, countdown in schedule.due_syncs(account_ids, tick, 5):
            due[account_id] += 1
            assert 0 <= countdown < 60

    assert set(due) == set(account_ids)
    assert set(due.values()) == {1}


def test_syncs_spread_over_interval():
    per_minute = [
        len(schedule.due_syncs(range(1, 501), START + dt.timedelta(minutes=m), 5))
        for m in range(5)
    ]

    assert sum(per_minute) == 500
    assert max(per_minute) < 140


def test_offset_stable_across_calls():
    assert schedule.sync_offset_seconds(42, 300) == schedule.sync_offset_seconds(
        42, 300
    )


@pytest.mark.parametrize(
    ("zone", "utc_due"),
    [
        ("America/Chicago", dt.datetime(2026, 12, 4, 13, 0, tzinfo=dt.UTC)),
        ("Europe/Berlin", dt.datetime(2026, 12, 4, 6, 0, tzinfo=dt.UTC)),
        ("Asia/Kathmandu", dt.datetime(2026, 12, 4, 1, 15, tzinfo=dt.UTC)),
        ("UTC", dt.datetime(2026, 12, 4, 7, 0, tzinfo=dt.UTC)),
    ],
)
def test_digest_due_at_local_hour(zone, utc_due):
    day = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    ticks = [day + dt.timedelta(minutes=15 * n) for n in range(96)]

    seven = dt.time(7)
    due_at = [tick for tick in ticks if schedule.due_digests([(1, zone, seven)], tick)]

    assert due_at == [utc_due]
    assert schedule.due_digests([(1, zone, seven)], utc_due) == [
        (1, dt.date(2026, 12, 4))
    ]


def test_late_tick_still_in_quarter():
    tick = dt.datetime(2026, 12, 4, 13, 9, 40, tzinfo=dt.UTC)

    assert schedule.due_digests([(3, "America/Chicago", dt.time(7))], tick) == [
        (3, dt.date(2026, 12, 4))
    ]


def test_digest_due_at_workspace_time():
    day = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
    ticks = [day + dt.timedelta(minutes=15 * n) for n in range(96)]
    times = schedule.digest_times({1: "06:45", 2: ""}, 7)
    members = [
        (10, "America/Chicago", times[1]),
        (20, "America/Chicago", times[2]),
    ]

    due = [
        (tick, member_id)
        for tick in ticks
        for member_id, _date in schedule.due_digests(members, tick)
    ]

    assert times == {1: dt.time(6, 45), 2: dt.time(7)}
    assert due == [
        (dt.datetime(2026, 12, 4, 12, 45, tzinfo=dt.UTC), 10),
        (dt.datetime(2026, 12, 4, 13, 0, tzinfo=dt.UTC), 20),
    ]


def test_beat_schedule_uses_reminders_hour():
    settings = load_settings({"WARMLINE_REMINDERS_HOUR": "4"})

    entries = schedule.beat_schedule(settings)

    assert entries["schedule-reminders"]["schedule"].hour == {4}
    assert entries["schedule-syncs"]["task"] == "warmline.schedule_syncs"


def test_redis_keys_prefixed_by_queue():
    settings = load_settings(
        {
            "WARMLINE_BROKER_URL": "redis://127.0.0.1:6379/0",
            "WARMLINE_RESULT_BACKEND": "redis://127.0.0.1:6379/1",
            "WARMLINE_TASK_QUEUE": "clinic-a",
        }
    )

    config = celery_config(settings)

    assert config["task_default_queue"] == "clinic-a"
    assert config["broker_transport_options"]["global_keyprefix"] == "clinic-a:"
    assert config["result_backend_transport_options"] == {
        "global_keyprefix": "clinic-a:"
    }
    assert config["task_acks_late"] is True
    assert config["task_reject_on_worker_lost"] is True


def test_amqp_config_has_no_redis_options():
    settings = load_settings(
        {"WARMLINE_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//"}
    )

    config = celery_config(settings)

    assert "broker_transport_options" not in config
    assert config["result_backend"] is None
