"""Follow-up placement on Outlook calendars, against the Microsoft Graph emulator.

Accounts are connected with `warmline accounts connect microsoft` and the
real msal sign-in, so these tests also show which permission the sign-in
requests: Calendars.ReadWrite once the workspace places follow-ups.  Each
address signs in once per module; later tests store the same account
options and token cache again, which saves a sign-in per test.  The tests
run on SQLite only, because the database work is the same as on Google,
whose tests also run on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from connectors.microsoft.placement import KEY_PROPERTY_ID
from connectors.placement import EventDraft
from tests.emulators.microsoft import GraphEmulator, Mailbox, SystemClock, address
from tests.emulators.microsoft.calendars import CalendarStore
from tests.emulators.microsoft.harness import CLIENT_ID, LoopbackGuard, follow_sign_in
from tests.reminders import placement_support as scenarios
from tests.reminders.placement_support import (  # noqa: F401  (fixtures)
    NINE_LOCAL,
    Clinic,
    sqlite_engine,
    sqlite_sessions,
)
from warmline import placement_writers, readers
from warmline.cli import AppContext
from warmline.models import Account, StaffMember
from warmline.placement_writers import open_writer
from warmline.providers import microsoft
from warmline.readers import ReaderServices
from warmline.secrets import DatabaseCredentialStore
from warmline.settings import load_settings
from warmline.workspaces import get_or_create_workspace

WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
SAM = "sam.ortiz@brookside-pt.example"
ANA = "ana.reyes@brookside-pt.example"
READER = "reader@brookside-pt.example"
NAMES = {SAM: "Sam Ortiz", ANA: "Ana Reyes", READER: "Rae Dern"}
SIGNED_IN: dict[str, tuple[dict[str, Any], str]] = {}
"""Account options and token cache of each address's first sign-in."""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-placement"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    for email, name in NAMES.items():
        emulator.add_user(email, name)
    SIGNED_IN.clear()
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    yield
    assert guard.refused == []


@pytest.fixture
def emails() -> tuple[str, str]:
    return SAM, ANA


class GraphSide:
    """The emulator's mailboxes as a person views and changes them."""

    def __init__(self, emulator: GraphEmulator, app: AppContext) -> None:
        self.emulator = emulator
        self.app = app
        self.mailboxes = {email: emulator.mailboxes[email] for email in NAMES}
        for mailbox in self.mailboxes.values():
            mailbox.calendars = CalendarStore(mailbox)
        self.connect_options: tuple[str, ...] = ()
        self.writes_before = self._all_writes()

    def connect(self, sessions: sessionmaker[Session], email: str) -> int:
        if email not in SIGNED_IN or self.connect_options:
            return self._sign_in(sessions, email)
        options, token_cache = SIGNED_IN[email]
        with sessions.begin() as session:
            workspace = get_or_create_workspace(session, scenarios.WORKSPACE)
            member = session.scalars(
                select(StaffMember).where(StaffMember.email == email)
            ).one()
            account = Account(
                workspace_id=workspace.id,
                staff_member_id=member.id,
                provider="outlook_calendar",
                location=email,
                options=options,
            )
            session.add(account)
            session.flush()
            account_id = account.id
        store = DatabaseCredentialStore(sessions, account_id, self.app.secret_box())
        store.save(token_cache)
        return account_id

    def _sign_in(self, sessions: sessionmaker[Session], email: str) -> int:
        result = CliRunner().invoke(
            microsoft.connect_command,
            ["--staff", email, *self.connect_options],
            obj=self.app,
        )
        assert result.exit_code == 0, result.output
        with sessions() as session:
            calendar, mail = session.scalars(
                select(Account)
                .where(Account.location == email)
                .order_by(Account.provider)
            ).all()
            assert calendar.provider == "outlook_calendar"
            box = self.app.secret_box()
            token_cache = DatabaseCredentialStore(sessions, mail.id, box).load()
            assert token_cache is not None
            options = {
                k: v
                for k, v in calendar.options.items()
                if k != "credential_account_id"
            }
            if not self.connect_options:
                SIGNED_IN[email] = (options, token_cache)
            return calendar.id

    def mailbox(self, email: str) -> Mailbox:
        return self.mailboxes[email]

    def times(
        self, email: str, event_id: str
    ) -> tuple[dt.datetime, dt.datetime] | None:
        event = self.mailbox(email).calendars.events.get(event_id)
        if event is None:
            return None
        return event.start.astimezone(dt.UTC), event.end.astimezone(dt.UTC)

    def summary(self, email: str, event_id: str) -> str:
        return str(self.mailbox(email).calendars.events[event_id].subject)

    def move(self, email: str, event_id: str, start: dt.datetime) -> None:
        store = self.mailbox(email).calendars
        event = store.events[event_id]
        store.update_event(event_id, start=start, end=start + (event.end - event.start))

    def delete(self, email: str, event_id: str) -> None:
        self.mailbox(email).calendars.delete_event(event_id)

    def block(self, email: str, start: dt.datetime, end: dt.datetime) -> None:
        self.mailbox(email).calendars.add_event(
            subject="Clinic meeting",
            start=start,
            end=end,
            organizer=address("Thao Nguyen", "thao.nguyen@cedar-im.example"),
        )

    def writes(self) -> int:
        return self._all_writes() - self.writes_before

    def _all_writes(self) -> int:
        return sum(
            1
            for record in list(self.emulator.log)
            if record.method in WRITE_METHODS and "/events" in record.target
        )


KEYS = Fernet.generate_key().decode()


@pytest.fixture
def app(
    sessions: sessionmaker[Session],
    emulator: GraphEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> AppContext:
    environment = {
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": emulator.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": emulator.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(emulator.ca_file),
        "WARMLINE_SECRET_KEYS": KEYS,
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        microsoft,
        "open_browser",
        lambda url: follow_sign_in(url, str(emulator.ca_file)),
    )
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    monkeypatch.setattr(placement_writers, "WRITERS", dict(placement_writers.WRITERS))
    context = AppContext(sessions, scenarios.WORKSPACE, load_settings())
    microsoft.register_readers(context.secret_box)
    return context


@pytest.fixture
def side(emulator: GraphEmulator, app: AppContext) -> Iterator[GraphSide]:
    yield GraphSide(emulator, app)
    emulator.faults.clear()


@pytest.fixture
def clinic(sessions: sessionmaker[Session], app: AppContext, side: GraphSide) -> Clinic:
    return Clinic(sessions, ReaderServices(sessions, app.secret_box), side)


def test_create_then_rerun(clinic, side, emails):
    scenarios.check_create_then_rerun(clinic, emails[0])

    store = side.mailbox(emails[0]).calendars
    event = next(iter(store.events.values()))
    assert event.properties[KEY_PROPERTY_ID].startswith("warmline-")
    assert event.transaction_id == event.properties[KEY_PROPERTY_ID]


def test_busy_time_avoided(clinic, emails):
    scenarios.check_busy_time_avoided(clinic, emails[0])


def test_text_update_keeps_time(clinic, emails):
    scenarios.check_text_update_keeps_time(clinic, emails[0])


def test_moved_by_staff_stays(clinic, emails):
    scenarios.check_moved_by_staff_stays(clinic, emails[0])


def test_snooze_moves_unmoved_event(clinic, emails):
    scenarios.check_snooze_moves_unmoved_event(clinic, emails[0])


def test_closed_removes(clinic, emails):
    scenarios.check_closed_removes(clinic, emails[0])


def test_closed_after_staff_deleted(clinic, emails):
    scenarios.check_closed_after_staff_deleted(clinic, emails[0])


def test_deleted_by_staff_not_recreated(clinic, emails):
    scenarios.check_deleted_by_staff_not_recreated(clinic, emails[0])


def test_handover_moves_event(clinic, emails):
    scenarios.check_handover_moves_event(clinic, *emails)


def test_no_free_slot_reported(clinic, emails):
    scenarios.check_no_free_slot_reported(clinic, emails[0])


def test_lost_row_adopts_event(clinic, emails):
    scenarios.check_lost_row_adopts_event(clinic, emails[0])


def test_read_only_sign_in_not_written(clinic, side):
    side.connect_options = ("--no-follow-ups",)
    reader = clinic.staff(READER, "Rae Dern")
    first = clinic.follow_up(reader, "Riverside Family Medicine")

    outcomes = clinic.place()

    assert outcomes[first].action == "not placed"
    assert "may only read the calendar" in outcomes[first].detail
    assert f"connect microsoft --staff {READER} --follow-ups" in (
        outcomes[first].detail
    )
    assert side.writes() == 0


def test_sign_in_requests_write_access(clinic, side):
    """With placement on, connecting without --follow-ups requests write access."""
    side.connect_options = ()
    SIGNED_IN.pop(SAM, None)
    clinic.staff(SAM, "Sam Ortiz")

    with clinic.sessions() as session:
        account = session.scalars(
            select(Account).where(Account.provider == "outlook_calendar")
        ).one()
    assert "Calendars.ReadWrite" in account.options["scopes"]


def test_repeated_create_makes_one_event(clinic, side, emails):
    """A create sent twice with one transactionId, as after a lost reply."""
    clinic.staff(emails[0], "Sam Ortiz")
    draft = EventDraft(
        key="warmline-1-follow-up-1",
        summary="Touch base with Riverside Family Medicine",
        description="",
        start=NINE_LOCAL,
        end=NINE_LOCAL + dt.timedelta(minutes=30),
        time_zone="America/Chicago",
    )
    with clinic.sessions() as session:
        account = session.scalars(
            select(Account).where(Account.provider == "outlook_calendar")
        ).one()
        writer = open_writer(account, clinic.services)
    try:
        first = writer.create(draft)
        second = writer.create(draft)
        found = writer.find(draft.key)
    finally:
        writer.close()

    assert second.event_id == first.event_id
    assert found == first
    assert len(side.mailbox(emails[0]).calendars.events) == 1
