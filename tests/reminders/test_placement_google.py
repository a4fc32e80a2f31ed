"""Follow-up placement on Google Calendar, against the Google emulator."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.google import requested_scopes
from connectors.placement import KEY_PROPERTY
from tests.emulators.google import GoogleEmulator
from tests.emulators.google.harness import LoopbackOnly, settings_for
from tests.emulators.google.state import Calendar
from tests.reminders import placement_support as scenarios
from tests.reminders.placement_support import NINE_LOCAL, Clinic
from warmline import placement_writers, readers
from warmline.cli import main
from warmline.models import Account, AccountStatus, StaffMember
from warmline.placement_models import FollowUpPlacement
from warmline.providers import google
from warmline.readers import ReaderServices
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.workspaces import get_or_create_workspace

SAM = "sam.ortiz@brookside-pt.example"
ANA = "ana.reyes@brookside-pt.example"
WRITES = ("events.insert", "events.patch", "events.delete")
KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(users=(SAM, ANA), time_zone="America/Chicago") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield
    assert guard.refused == []


class GoogleSide:
    """The emulator's calendars as a person views and changes them."""

    def __init__(self, emulator: GoogleEmulator, box: SecretBox) -> None:
        self.emulator = emulator
        self.box = box
        self.scopes = requested_scopes(True)
        self.writes_before = self._all_writes()

    def connect(self, sessions: sessionmaker[Session], email: str) -> int:
        grant = self.emulator.authorized_user_info(email, self.scopes)
        with sessions.begin() as session:
            workspace = get_or_create_workspace(session, scenarios.WORKSPACE)
            member = session.scalars(
                select(StaffMember).where(StaffMember.email == email)
            ).one()
            account = Account(
                workspace_id=workspace.id,
                staff_member_id=member.id,
                provider="google_calendar",
                location=email,
                options={
                    "mode": "user",
                    "scopes": self.scopes,
                    "calendars": ["primary"],
                },
            )
            session.add(account)
            session.flush()
            account_id = account.id
        DatabaseCredentialStore(sessions, account_id, self.box).save(json.dumps(grant))
        return account_id

    def calendar(self, email: str) -> Calendar:
        found = self.emulator.user(email).calendar("primary")
        assert found is not None
        return found

    def event(self, email: str, event_id: str) -> dict[str, Any]:
        return self.calendar(email).events[event_id]

    def times(
        self, email: str, event_id: str
    ) -> tuple[dt.datetime, dt.datetime] | None:
        event = self.calendar(email).events.get(event_id)
        if event is None or event.get("status") == "cancelled":
            return None
        return _moment(event["start"]), _moment(event["end"])

    def summary(self, email: str, event_id: str) -> str:
        return str(self.event(email, event_id)["summary"])

    def move(self, email: str, event_id: str, start: dt.datetime) -> None:
        event = dict(self.event(email, event_id))
        length = _moment(event["end"]) - _moment(event["start"])
        event["start"] = {"dateTime": start.isoformat(), "timeZone": "America/Chicago"}
        event["end"] = {
            "dateTime": (start + length).isoformat(),
            "timeZone": "America/Chicago",
        }
        self.calendar(email).put(event)

    def delete(self, email: str, event_id: str) -> None:
        self.calendar(email).cancel(event_id)

    def block(self, email: str, start: dt.datetime, end: dt.datetime) -> None:
        self.calendar(email).put(
            {
                "id": f"busy{len(self.calendar(email).events)}x",
                "summary": "Clinic meeting",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": end.isoformat()},
            }
        )

    def writes(self) -> int:
        return self._all_writes() - self.writes_before

    def _all_writes(self) -> int:
        return sum(len(self.emulator.calls_to(method)) for method in WRITES)


def _moment(value: dict[str, str]) -> dt.datetime:
    return dt.datetime.fromisoformat(
        value["dateTime"].replace("Z", "+00:00")
    ).astimezone(dt.UTC)


@pytest.fixture
def side(server: GoogleEmulator) -> Iterator[GoogleSide]:
    for email in (SAM, ANA):
        server.user(email).calendars = {"primary": Calendar(email, "America/Chicago")}
    server.faults.clear()
    yield GoogleSide(server, SecretBox([KEY.encode()]))


@pytest.fixture
def clinic(
    sessions: sessionmaker[Session],
    side: GoogleSide,
    server: GoogleEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Clinic:
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    monkeypatch.setattr(placement_writers, "WRITERS", dict(placement_writers.WRITERS))
    google.register_readers(lambda: side.box, connector=settings_for(server))
    services = ReaderServices(sessions, lambda: side.box)
    return Clinic(sessions, services, side)


def test_create_then_rerun(clinic, side):
    scenarios.check_create_then_rerun(clinic, SAM)

    event = next(iter(side.calendar(SAM).events.values()))
    assert event["extendedProperties"]["private"][KEY_PROPERTY].startswith("warmline-")
    assert event["start"]["timeZone"] == "America/Chicago"


def test_busy_time_avoided(clinic):
    scenarios.check_busy_time_avoided(clinic, SAM)


def test_text_update_keeps_time(clinic):
    scenarios.check_text_update_keeps_time(clinic, SAM)


def test_moved_by_staff_stays(clinic):
    scenarios.check_moved_by_staff_stays(clinic, SAM)


def test_snooze_moves_unmoved_event(clinic):
    scenarios.check_snooze_moves_unmoved_event(clinic, SAM)


def test_closed_removes(clinic):
    scenarios.check_closed_removes(clinic, SAM)


def test_closed_after_staff_deleted(clinic):
    scenarios.check_closed_after_staff_deleted(clinic, SAM)


def test_deleted_by_staff_not_recreated(clinic):
    scenarios.check_deleted_by_staff_not_recreated(clinic, SAM)


def test_handover_moves_event(clinic):
    scenarios.check_handover_moves_event(clinic, SAM, ANA)


def test_no_free_slot_reported(clinic):
    scenarios.check_no_free_slot_reported(clinic, SAM)


def test_lost_row_adopts_event(clinic):
    scenarios.check_lost_row_adopts_event(clinic, SAM)


def test_read_only_grant_not_written(clinic, side):
    side.scopes = requested_scopes(False)
    sam = clinic.staff(SAM, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")

    outcomes = clinic.place()

    assert outcomes[first].action == "not placed"
    assert outcomes[first].detail.endswith(
        f"may only read the calendar; run 'warmline accounts connect google "
        f"--staff {SAM} --follow-ups'"
    )
    assert side.writes() == 0
    assert side.calendar(SAM).events == {}


def test_slot_in_staff_time_zone(clinic, side):
    clinic.setting("working_hours", "mon-fri 13:00-17:00")
    sam = clinic.staff(SAM, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")

    outcomes = clinic.place()

    # 13:00 in Chicago is 19:00 UTC in December.
    assert outcomes[first].starts_at == NINE_LOCAL + dt.timedelta(hours=4)


def test_staff_member_own_working_hours(clinic, side):
    clinic.setting("working_hours", "mon-fri 13:00-17:00")
    sam = clinic.staff(SAM, "Sam Ortiz")
    with clinic.sessions.begin() as session:
        session.get_one(StaffMember, sam).working_hours = "mon-fri 07:00-11:00"
    first = clinic.follow_up(sam, "Riverside Family Medicine")

    outcomes = clinic.place()

    # Within Sam's morning hours in Chicago, not the workspace's afternoon.
    start = outcomes[first].starts_at
    assert start is not None
    local = start.astimezone(ZoneInfo("America/Chicago"))
    assert dt.time(7) <= local.time() < dt.time(11)


def test_command_places_and_reports(clinic, server, database_url, monkeypatch):
    monkeypatch.setenv("WARMLINE_GOOGLE_API_ROOT", server.url)
    monkeypatch.setenv("WARMLINE_SECRET_KEYS", KEY)
    sam = clinic.staff(SAM, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine", due=dt.date(2099, 1, 5))
    arguments = ["--database", database_url, "--workspace", "test"]

    placed = CliRunner().invoke(main, [*arguments, "followups", "place"])
    clinic.setting("place_follow_ups", "false")
    off = CliRunner().invoke(main, [*arguments, "followups", "place"])

    assert placed.exit_code == 0, placed.output
    assert f"{first}  {SAM}" in placed.output
    assert "created" in placed.output
    assert "2099-01-05 09:00 CST" in placed.output
    assert off.exit_code == 1
    assert "follow-up placement is off; turn it on with 'warmline config set " in (
        off.output
    )


def test_event_kept_while_account_needs_reconnect(clinic, side):
    sam = clinic.staff(SAM, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    event_id = clinic.event_id(first)
    with clinic.sessions.begin() as session:
        account = session.scalars(select(Account)).one()
        account.status = AccountStatus.NEEDS_REAUTH
        account_id = account.id
    writes = side.writes()

    outcomes = clinic.place()

    assert outcomes[first].action == "unchanged"
    assert outcomes[first].detail == f"account {account_id} is needs_reauth"
    assert side.writes() == writes
    assert side.times(SAM, event_id) == (
        NINE_LOCAL,
        NINE_LOCAL + dt.timedelta(minutes=30),
    )
    assert clinic.event_id(first) == event_id


def test_fresh_claim_left_to_its_pass(clinic, side):
    """A follow-up another pass claimed a moment ago is not placed twice."""
    sam = clinic.staff(SAM, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    with clinic.sessions.begin() as session:
        row = session.scalars(select(FollowUpPlacement)).one()
        row.status = "placing"
        row.event_id = None
        row.updated_at = scenarios.NOW - dt.timedelta(minutes=1)
    writes = side.writes()

    outcomes = clinic.place()

    assert outcomes[first].action == "unchanged"
    assert outcomes[first].detail == "another pass is placing it"
    assert side.writes() == writes
    assert len(side.calendar(SAM).events) == 1
