"""`warmline accounts connect microsoft` and the sync pipeline, against the emulator.

The connect command runs the real msal sign-in: the test's browser follows
the authorization URL and the emulator posts the code to the command's
loopback redirect URI.  Both accounts then sync through the pipeline into a
migrated database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from tests.emulators.microsoft import GraphEmulator, Mailbox, SystemClock, address
from tests.emulators.microsoft.harness import CLIENT_ID, LoopbackGuard, follow_sign_in
from warmline.cli import AppContext
from warmline.models import Account, AccountActivity, AccountStatus, Activity
from warmline.pipeline import sync_account
from warmline.providers import microsoft
from warmline.settings import load_settings
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace

BASE = dt.datetime(2026, 3, 4, 15, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-pipeline"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGuard]:
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture
def staff(request: pytest.FixtureRequest) -> str:
    """A staff address, and so a mailbox, of this test alone."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    return f"{name}@brookside-pt.example"


@pytest.fixture
def mailbox(emulator: GraphEmulator, staff: str) -> Iterator[Mailbox]:
    yield emulator.add_user(staff, "Sam Ortiz")
    emulator.faults.clear()


@pytest.fixture
def app(
    sessions, emulator: GraphEmulator, staff: str, monkeypatch: pytest.MonkeyPatch
) -> AppContext:  # type: ignore[no-untyped-def]
    environment = {
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": emulator.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": emulator.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(emulator.ca_file),
        "WARMLINE_MICROSOFT_PAGE_SIZE": "10",
        "WARMLINE_SECRET_KEYS": Fernet.generate_key().decode(),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        microsoft,
        "open_browser",
        lambda url: follow_sign_in(url, str(emulator.ca_file)),
    )
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(session, workspace, StaffInput(staff, "Sam Ortiz"))
    context = AppContext(sessions, "test", load_settings())
    microsoft.register_readers(context.secret_box)
    return context


def seed(mailbox: Mailbox, folder: str, count: int, first: int = 0) -> list[str]:
    upn = mailbox.user.upn
    ids = []
    for index in range(first, first + count):
        outside = address(f"Dr {index}", f"dr{index}@cedar-im.example")
        staff = address("Sam Ortiz", upn)
        sender, to = (staff, [outside]) if folder == "sentitems" else (outside, [staff])
        ids.append(
            mailbox.add_message(
                folder,
                subject=f"Referral {index}",
                sender=sender,
                to=to,
                sent=BASE + dt.timedelta(minutes=index),
                internet_message_id=f"<p{index}@cedar-im.example>",
            ).id
        )
    return ids


def connect(app: AppContext, staff: str) -> tuple[int, int]:
    result = CliRunner().invoke(microsoft.connect_command, ["--staff", staff], obj=app)
    assert result.exit_code == 0, result.output
    with app.sessions() as session:
        accounts = session.scalars(select(Account).order_by(Account.id)).all()
        return accounts[0].id, accounts[1].id


def external_ids(app: AppContext, kind: str) -> list[str]:
    with app.sessions() as session:
        return sorted(
            session.scalars(select(Activity.external_id).where(Activity.kind == kind))
        )


def test_connect_and_sync_through_pipeline(app, emulator, mailbox):
    inbox = seed(mailbox, "inbox", 23)
    seed(mailbox, "sentitems", 4, first=100)
    first = dt.datetime.now(dt.UTC).replace(
        hour=15, minute=0, second=0, microsecond=0
    ) + dt.timedelta(days=1)
    series = mailbox.calendars.add_event(
        subject="Weekly huddle",
        start=first,
        end=first + dt.timedelta(hours=1),
        organizer=address("Thao Nguyen", "thao.nguyen@cedar-im.example"),
        every=dt.timedelta(days=7),
        count=3,
    )

    mail_id, calendar_id = connect(app, mailbox.user.upn)

    with app.sessions() as session:
        mail, calendar = (
            session.get_one(Account, mail_id),
            session.get_one(Account, calendar_id),
        )
        assert (mail.provider, calendar.provider) == (
            "outlook_mail",
            "outlook_calendar",
        )
        assert mail.secret is not None and "rt-" not in mail.secret
        assert calendar.secret is None
        assert calendar.options["credential_account_id"] == mail_id

    emulator.faults.add("unavailable", "messages/delta", retry_after=1)
    emulator.faults.add("drop", "$skiptoken")
    emulator.faults.add("expired_token", "calendarView")
    mail_report = sync_account(app.sessions, mail_id, batch_size=7)
    calendar_report = sync_account(app.sessions, calendar_id, batch_size=7)

    assert mail_report.error is None
    assert calendar_report.error is None
    assert len(external_ids(app, "email")) == 27
    assert external_ids(app, "meeting") == [series.ical_uid] * 3

    mailbox.delete_message(inbox[0])
    mailbox.move_message(inbox[1], "sentitems")
    seed(mailbox, "inbox", 2, first=50)
    mailbox.calendars.delete_occurrence(series.id, first + dt.timedelta(days=7))
    emulator.graph.expire_delta_tokens(mailbox, mailbox.folder("inbox").id)
    emulator.faults.add("sync_state_not_found", "$skiptoken")

    assert sync_account(app.sessions, mail_id, batch_size=7).error is None
    assert sync_account(app.sessions, calendar_id, batch_size=7).error is None

    emails = external_ids(app, "email")
    assert len(emails) == 28
    assert len(set(emails)) == 28
    assert "p0@cedar-im.example" not in emails
    assert external_ids(app, "meeting") == [series.ical_uid] * 2
    with app.sessions() as session:
        sightings = session.scalar(
            select(func.count())
            .select_from(AccountActivity)
            .where(AccountActivity.account_id == mail_id)
        )
        assert sightings == 28


def test_revoked_consent_marks_both_accounts(app, emulator, mailbox):
    mail_id, calendar_id = connect(app, mailbox.user.upn)
    emulator.identity.revoked_consent.add(mailbox.user.upn)

    reports = [
        sync_account(app.sessions, account_id, batch_size=50)
        for account_id in (mail_id, calendar_id)
    ]

    assert all("AADSTS65001" in (report.error or "") for report in reports)
    with app.sessions() as session:
        statuses = {session.get_one(Account, i).status for i in (mail_id, calendar_id)}
    assert statuses == {AccountStatus.NEEDS_REAUTH}
