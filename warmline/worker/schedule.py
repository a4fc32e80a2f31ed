"""When beat has work done: account syncs, reminder passes and digests.

Beat itself only sends three periodic tasks and never opens the database.
Workers run those tasks, which read the accounts and staff members and
send one task per account or digest that is due:

- every minute, `warmline.schedule_syncs` sends the syncs whose offset falls
  in that minute.  Each account has a fixed offset within
  sync_interval_minutes, taken from a hash of its id, so the syncs are
  spread over the interval instead of starting together;
- every 15 minutes, `warmline.schedule_digests` sends the digest of each
  staff member whose local time has just reached their workspace's
  digest_time, or digest_hour where that is not set;
- daily at reminders_hour UTC, `warmline.schedule_reminders` sends one
  reminder pass per workspace.
- every 10 minutes, `warmline.renew_push` creates and renews the push
  subscriptions (Gmail watches, Graph subscriptions) that are due.

A tick that no worker runs within its period expires.  The syncs it would
have sent then wait for the next interval, and a digest that would have
gone out waits a day.
"""

from __future__ import annotations

import datetime as dt
import zlib
import zoneinfo
from collections.abc import Iterable
from typing import Any

from celery.schedules import crontab

from warmline.settings import ProcessSettings

SYNC_TICK_SECONDS = 60
DIGEST_TICK_MINUTES = 15
"""Time-zone offsets are whole quarter hours, so each local hour starts on a tick."""
PUSH_RENEW_TICK_MINUTES = 10
"""Minutes between renewal passes of the push subscriptions."""


def beat_schedule(settings: ProcessSettings) -> dict[str, dict[str, Any]]:
    """Return Celery's beat_schedule for `settings`."""
    return {
        "schedule-syncs": {
            "task": "warmline.schedule_syncs",
            "schedule": crontab(minute="*"),
            "options": {"expires": SYNC_TICK_SECONDS - 5},
        },
        "schedule-digests": {
            "task": "warmline.schedule_digests",
            "schedule": crontab(minute=f"*/{DIGEST_TICK_MINUTES}"),
            "options": {"expires": DIGEST_TICK_MINUTES * 60 - 30},
        },
        "schedule-reminders": {
            "task": "warmline.schedule_reminders",
            "schedule": crontab(hour=settings.reminders_hour, minute=0),
            "options": {"expires": 3600},
        },
        "renew-push": {
            "task": "warmline.renew_push",
            "schedule": crontab(minute=f"*/{PUSH_RENEW_TICK_MINUTES}"),
            "options": {"expires": PUSH_RENEW_TICK_MINUTES * 60 - 30},
        },
    }


def sync_offset_seconds(account_id: int, interval_seconds: int) -> int:
    """Return the account's fixed offset within the sync interval.

    CRC-32 rather than hash(): Python salts the hash of strings per process,
    and every worker must compute the same offset.
    """
    return zlib.crc32(f"account:{account_id}".encode()) % interval_seconds


def due_syncs(
    account_ids: Iterable[int], tick: dt.datetime, interval_minutes: int
) -> list[tuple[int, int]]:
    """Return (account id, countdown in seconds) for the syncs due in this tick.

    The tick covers the minute that starts at `tick`, floored to the minute.
    Over one interval every account is due exactly once.
    """
    interval = interval_minutes * 60
    minute_start = int(tick.timestamp()) // SYNC_TICK_SECONDS * SYNC_TICK_SECONDS
    window_start = minute_start % interval
    due = []
    for account_id in account_ids:
        offset = sync_offset_seconds(account_id, interval)
        if window_start <= offset < window_start + SYNC_TICK_SECONDS:
            due.append((account_id, offset - window_start))
    return due


def digest_times(
    workspace_times: dict[int, str], digest_hour: int
) -> dict[int, dt.time]:
    """Map workspaces to their digest time: their digest_time setting ("HH:MM")
    where set, else `digest_hour`:00 (the process setting)."""
    default = dt.time(digest_hour)
    return {
        workspace_id: dt.time.fromisoformat(text) if text else default
        for workspace_id, text in workspace_times.items()
    }


def due_digests(
    members: Iterable[tuple[int, str, dt.time]], tick: dt.datetime
) -> list[tuple[int, dt.date]]:
    """Return (staff member id, local date) of the digests due in this tick.

    `members` holds (id, IANA time zone, local digest time on the quarter
    hour).  A digest is due when the member's local time at the tick,
    floored to the quarter hour, is their digest time.  Over a day each
    member is due once, except on a day whose change of daylight saving
    time skips or repeats that time.
    """
    quarter = DIGEST_TICK_MINUTES * 60
    floored = int(tick.timestamp()) // quarter * quarter
    moment = dt.datetime.fromtimestamp(floored, dt.UTC)
    due = []
    for member_id, zone, at in members:
        local = moment.astimezone(zoneinfo.ZoneInfo(zone))
        start = local.replace(hour=at.hour, minute=at.minute, second=0)
        if start <= local < start + dt.timedelta(minutes=DIGEST_TICK_MINUTES):
            due.append((member_id, local.date()))
    return due
