"""CaldavReader through the sync pipeline, from Radicale into a real database."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.caldav import CaldavReader
from tests.connectors.test_caldav_sync import (
    HUDDLE_CANCELLED,
    HUDDLE_MASTER,
    HUDDLE_MOVED,
    calendar,
    visit,
)
from tests.servers.radicale import RadicaleServer, Seeder
from tests.servers.radicale import radicale as radicale  # noqa: F401
from warmline.models import Account, AccountActivity, AccountStatus, Activity
from warmline.pipeline import sync_account
from warmline.readers import READERS, ReaderServices
from warmline.staff import StaffInput, find_staff, upsert_staff
from warmline.workspaces import get_or_create_workspace

SAM = "sam.ortiz@brookside-pt.example"
WINDOW = {
    "default_timezone": "America/Chicago",
    "window_start": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    "window_end": dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
}


class Setup:
    """A workspace with one CalDAV account on a fresh Radicale user."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        server: RadicaleServer,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        self.sessions = sessions
        self.user, self.password = server.add_user("sam")
        self.seeder: Seeder = server.seeder(self.user, self.password)
        self.work = self.seeder.make_calendar("work")
        self.config_fields: dict[str, Any] = dict(WINDOW)
        self.server = server
        monkeypatch.setitem(READERS, "caldav", self._reader)
        with sessions.begin() as session:
            workspace = get_or_create_workspace(session, "test")
            upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
            member = find_staff(session, workspace, SAM)
            assert member is not None
            account = Account(
                workspace_id=workspace.id,
                staff_member_id=member.id,
                provider="caldav",
                location=server.url,
                options={},
            )
            session.add(account)
            session.flush()
            self.account_id = account.id

    def _reader(self, account: Account, services: ReaderServices) -> CaldavReader:
        fields = dict(self.config_fields)
        password = fields.pop("password", self.password)
        return CaldavReader(self.server.config(self.user, password, **fields))

    def sync(self) -> Any:
        return sync_account(self.sessions, self.account_id, batch_size=2)

    def activities(self) -> list[tuple[str, dt.datetime | None, dt.datetime]]:
        with self.sessions() as session:
            rows = session.execute(
                select(Activity.external_id, Activity.occurrence, Activity.occurred_at)
            ).all()
        return sorted(
            (external_id, _utc(occurrence), _utc(occurred_at))
            for external_id, occurrence, occurred_at in rows
        )

    def sightings(self) -> int:
        with self.sessions() as session:
            query = select(func.count()).select_from(AccountActivity)
            return session.scalar(query) or 0

    def account(self) -> Account:
        with self.sessions() as session:
            return session.get_one(Account, self.account_id)


def _utc(value: dt.datetime | None) -> Any:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@pytest.fixture
def setup(
    sessions: sessionmaker[Session],
    radicale: RadicaleServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> Setup:
    return Setup(sessions, radicale, monkeypatch)


def utc(month: int, day: int, hour: int) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def test_second_sync_adds_nothing(setup: Setup) -> None:
    setup.seeder.put(f"{setup.work}huddle.ics", calendar(*HUDDLE_MASTER))
    setup.seeder.put(f"{setup.work}a.ics", visit("a@x", "20260302T150000Z"))

    first = setup.sync()
    second = setup.sync()

    assert first.error is None
    assert first.stored == 5
    assert second.fetched == 0
    assert len(setup.activities()) == 5
    assert setup.sightings() == 5


def test_moved_occurrence_updated_in_place(setup: Setup) -> None:
    setup.seeder.put(f"{setup.work}huddle.ics", calendar(*HUDDLE_MASTER))
    setup.sync()
    moved = calendar(*HUDDLE_MASTER, *HUDDLE_MOVED)
    setup.seeder.put(f"{setup.work}huddle.ics", moved)

    report = setup.sync()

    assert report.stored == 0
    activities = setup.activities()
    assert len(activities) == 4
    assert ("huddle-7f3a@google.com", utc(3, 16, 13), utc(3, 17, 14)) in activities


def test_cancelled_occurrence_and_deleted_event_leave(setup: Setup) -> None:
    setup.seeder.put(f"{setup.work}huddle.ics", calendar(*HUDDLE_MASTER))
    setup.seeder.put(f"{setup.work}a.ics", visit("a@x", "20260302T150000Z"))
    setup.sync()
    cancelled = calendar(*HUDDLE_MASTER, *HUDDLE_CANCELLED)
    setup.seeder.put(f"{setup.work}huddle.ics", cancelled)

    setup.sync()

    occurrences = [occurrence for _uid, occurrence, _at in setup.activities()]
    assert utc(3, 23, 13) not in occurrences
    assert len(occurrences) == 4
    setup.seeder.delete(f"{setup.work}huddle.ics")

    setup.sync()

    assert setup.activities() == [("a@x", None, utc(3, 2, 15))]
    assert setup.sightings() == 1


def test_rejected_token_resync_without_duplicates(setup: Setup) -> None:
    setup.seeder.put(f"{setup.work}huddle.ics", calendar(*HUDDLE_MASTER))
    setup.seeder.put(f"{setup.work}a.ics", visit("a@x", "20260302T150000Z"))
    setup.sync()
    setup.seeder.put(f"{setup.work}b.ics", visit("b@x", "20260303T150000Z"))
    setup.seeder.delete(f"{setup.work}a.ics")
    with setup.sessions.begin() as session:
        account = session.get_one(Account, setup.account_id)
        assert account.cursor is not None
        cursor = json.loads(account.cursor)
        # Radicale rejects an unknown token with 403 and DAV:valid-sync-token.
        unknown = "http://radicale.org/ns/sync/" + "0" * 64
        cursor["calendars"][setup.work]["sync_token"] = unknown
        account.cursor = json.dumps(cursor)

    report = setup.sync()

    assert report.error is None
    assert report.fetched == 1
    uids = [uid for uid, _occurrence, _at in setup.activities()]
    assert sorted(set(uids)) == ["b@x", "huddle-7f3a@google.com"]
    assert len(uids) == 5
    assert setup.sightings() == 5


def test_wrong_password_marks_account(setup: Setup) -> None:
    setup.config_fields["password"] = "not-the-password"

    report = setup.sync()

    account = setup.account()
    assert account.status == AccountStatus.NEEDS_REAUTH
    assert account.last_error is not None
    assert setup.user in account.last_error
    assert setup.server.url in account.last_error
    assert report.error == account.last_error
