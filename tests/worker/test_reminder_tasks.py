"""The reminder pass and a digest, run by a real worker over Redis."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

from sqlalchemy import select

from tests.reminders.factories import World
from tests.reminders.smtp_server import PASSWORD, USER, running_smtp_server
from tests.worker.conftest import producer
from warmline.models import FollowUp, StaffMember, Workspace
from warmline.reminder_models import DigestSend
from warmline.worker import RUN_REMINDERS, SEND_DIGEST
from warmline.worker.app import WarmlineCelery
from warmline.workspaces import set_workspace_setting

SAM = "sam.ortiz@brookside-pt.example"


def cold_clinic(sessions, smtp):
    """Sam owns a practice last touched 77 days ago, past its 30-day cadence."""
    with sessions.begin() as session:
        world = World(session)
        settings = {
            "digest_sender": "digest@brookside-pt.example",
            "smtp_host": "127.0.0.1",
            "smtp_port": str(smtp.port),
            "smtp_user": USER,
            "smtp_ca_file": str(smtp.ca_file),
        }
        for name, value in settings.items():
            set_workspace_setting(session, world.workspace, name, value)
        sam = world.staff(SAM, "Sam Ortiz")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        now = dt.datetime.now(dt.UTC)
        world.touch(summit, now - dt.timedelta(days=77), sam)
        return world.workspace.id, sam.id


def started_worker(broker, database_url: str, start_worker) -> WarmlineCelery:
    """Start one worker on `broker` and return a client of it."""
    environment = {
        **broker.environment(),
        "WARMLINE_DATABASE_URL": database_url,
        "WARMLINE_SMTP_PASSWORD": PASSWORD,
    }
    start_worker("w1", environment, "--pool=solo")
    return producer(environment)


def test_reminders_then_digest_through_worker(
    redis_broker, worker_database_url, worker_sessions, start_worker, tmp_path
):
    with running_smtp_server(tmp_path) as smtp:
        workspace_id, sam_id = cold_clinic(worker_sessions, smtp)
        app = started_worker(redis_broker, worker_database_url, start_worker)
        with worker_sessions() as session:
            zone = session.get_one(StaffMember, sam_id).timezone
        today = dt.datetime.now(zoneinfo.ZoneInfo(zone)).date().isoformat()

        pass_result = app.send_task(RUN_REMINDERS, args=(workspace_id,)).get(timeout=60)
        digest = app.send_task(SEND_DIGEST, args=(sam_id, today)).get(timeout=60)
        again = app.send_task(SEND_DIGEST, args=(sam_id, today)).get(timeout=60)

        received = smtp.inbox.messages()

    assert pass_result["result"] == "done"
    assert pass_result["created"] >= 1
    with worker_sessions() as session:
        follow_ups = session.scalars(select(FollowUp)).all()
        claims = session.scalars(select(DigestSend)).all()
        workspace = session.get_one(Workspace, workspace_id)
    assert [f.staff_member_id for f in follow_ups] == [sam_id]
    assert workspace.name == "default"
    assert digest == {"status": "sent", "detail": ""}
    assert again["status"] == "already sent"
    assert len(received) == 1
    assert received[0]["To"] == f"Sam Ortiz <{SAM}>"
    assert [claim.status for claim in claims] == ["sent"]


def quarter_of(moment: dt.datetime) -> dt.time:
    """Return the local quarter hour that `moment` falls in."""
    return dt.time(moment.hour, moment.minute // 15 * 15)


def test_digest_time_schedules_through_worker(
    redis_broker, worker_database_url, worker_sessions, start_worker, tmp_path
):
    with running_smtp_server(tmp_path) as smtp:
        workspace_id, sam_id = cold_clinic(worker_sessions, smtp)
        app = started_worker(redis_broker, worker_database_url, start_worker)
        with worker_sessions() as session:
            zone = zoneinfo.ZoneInfo(session.get_one(StaffMember, sam_id).timezone)
        app.send_task(RUN_REMINDERS, args=(workspace_id,)).get(timeout=60)
        # Keep clear of a quarter's end, so the worker's tick is in the same one.
        local = dt.datetime.now(zone)
        if local.minute % 15 == 14 and local.second > 30:
            time.sleep(61 - local.second)
            local = dt.datetime.now(zone)
        now_quarter = quarter_of(local)
        later_quarter = quarter_of(local + dt.timedelta(hours=2))

        def scheduled_at(digest_time: dt.time) -> int:
            with worker_sessions.begin() as session:
                workspace = session.get_one(Workspace, workspace_id)
                set_workspace_setting(
                    session, workspace, "digest_time", digest_time.strftime("%H:%M")
                )
            return app.send_task("warmline.schedule_digests").get(timeout=60)

        not_yet = scheduled_at(later_quarter)
        due = scheduled_at(now_quarter)
        deadline = time.monotonic() + 60
        while not smtp.inbox.messages() and time.monotonic() < deadline:
            time.sleep(0.2)
        received = smtp.inbox.messages()

    assert not_yet == 0
    assert due == 1
    assert [message["To"] for message in received] == [f"Sam Ortiz <{SAM}>"]
