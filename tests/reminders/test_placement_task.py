"""The reminder pass sends the placement task, run by a real worker over Redis.

The worker process reaches the Google emulator of this test process through
WARMLINE_GOOGLE_API_ROOT, and reads the grant stored, encrypted, in the
throw-away PostgreSQL database.
"""

from __future__ import annotations

import datetime as dt
import json
import time

from cryptography.fernet import Fernet
from sqlalchemy import select

from connectors.google import requested_scopes
from connectors.placement import KEY_PROPERTY
from tests.emulators.google import GoogleEmulator
from tests.reminders.factories import World
from tests.worker.conftest import (  # noqa: F401  (fixtures)
    producer,
    redis_broker,
    start_worker,
    worker_database_url,
    worker_sessions,
)
from warmline.models import Account, FollowUp
from warmline.placement_models import FollowUpPlacement
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.worker import PLACE_FOLLOW_UPS, RUN_REMINDERS
from warmline.workspaces import set_workspace_setting

SAM = "sam.ortiz@brookside-pt.example"


def cold_clinic(sessions, emulator: GoogleEmulator, key: str) -> int:
    """Sam owns a practice past its cadence and has a writable Google calendar."""
    scopes = requested_scopes(True)
    with sessions.begin() as session:
        world = World(session)
        set_workspace_setting(session, world.workspace, "place_follow_ups", "true")
        sam = world.staff(SAM, "Sam Ortiz")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        world.touch(summit, dt.datetime.now(dt.UTC) - dt.timedelta(days=77), sam)
        account = Account(
            workspace_id=world.workspace.id,
            staff_member_id=sam.id,
            provider="google_calendar",
            location=SAM,
            options={"mode": "user", "scopes": scopes, "calendars": ["primary"]},
        )
        session.add(account)
        session.flush()
        workspace_id, account_id = world.workspace.id, account.id
    grant = emulator.authorized_user_info(SAM, scopes)
    box = SecretBox([key.encode()])
    DatabaseCredentialStore(sessions, account_id, box).save(json.dumps(grant))
    return workspace_id


def wait_for_placement(sessions, timeout: float = 60.0) -> FollowUpPlacement:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as session:
            row = session.scalars(
                select(FollowUpPlacement).where(FollowUpPlacement.status == "placed")
            ).first()
        if row is not None:
            return row
        time.sleep(0.2)
    raise AssertionError(f"no follow-up was placed within {timeout} s")


def test_reminder_pass_places_through_worker(
    redis_broker,  # noqa: F811
    worker_database_url,  # noqa: F811
    worker_sessions,  # noqa: F811
    start_worker,  # noqa: F811
):
    key = Fernet.generate_key().decode()
    with GoogleEmulator(users=(SAM,), time_zone="America/Chicago") as emulator:
        workspace_id = cold_clinic(worker_sessions, emulator, key)
        environment = {
            **redis_broker.environment(),
            "WARMLINE_DATABASE_URL": worker_database_url,
            "WARMLINE_SECRET_KEYS": key,
            "WARMLINE_GOOGLE_API_ROOT": emulator.url,
        }
        start_worker("w1", environment, "--pool=solo")
        app = producer(environment)

        reminders = app.send_task(RUN_REMINDERS, args=(workspace_id,)).get(timeout=60)
        placed = wait_for_placement(worker_sessions)
        again = app.send_task(PLACE_FOLLOW_UPS, args=(workspace_id,)).get(timeout=60)

        calendar = emulator.user(SAM).calendar("primary")
        assert calendar is not None
        events = list(calendar.events.values())

    assert reminders["result"] == "done"
    assert again == {"result": "done", "unchanged": 1}
    assert [event["id"] for event in events] == [placed.event_id]
    assert events[0]["summary"] == "Touch base with Summit Sports Medicine"
    assert events[0]["extendedProperties"]["private"][KEY_PROPERTY] == placed.key
    with worker_sessions() as session:
        follow_up = session.scalars(select(FollowUp)).one()
    assert follow_up.calendar_event_id == placed.event_id
