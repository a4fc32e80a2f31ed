"""The daily digest sent from the staff member's own Outlook mailbox through
Graph's sendMail, against the Microsoft Graph emulator.

Accounts are connected with `warmline accounts connect microsoft` and the
real msal sign-in, so the tests also show that the sign-in requests
Mail.Send when digest_transport is connector, and not with
--no-send-digests.  SQLite only: the claim logic runs on PostgreSQL in the
Gmail tests.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests.emulators.microsoft import GraphEmulator, SystemClock
from tests.emulators.microsoft.harness import CLIENT_ID, LoopbackGuard, follow_sign_in
from tests.reminders.factories import World
from tests.reminders.placement_support import (  # noqa: F401  (fixtures)
    sqlite_engine,
    sqlite_sessions,
)
from warmline import digest_senders, placement_writers, readers
from warmline import remind as service
from warmline.cli import AppContext
from warmline.models import Account
from warmline.providers import microsoft
from warmline.readers import ReaderServices
from warmline.reminder_models import DigestSend
from warmline.settings import load_settings
from warmline.workspaces import set_workspace_setting

SAM = "sam.ortiz@brookside-pt.example"
WORKSPACE = "test"
DEC_1 = dt.date(2026, 12, 1)
MIDNIGHT_CHICAGO = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
NOW = MIDNIGHT_CHICAGO + dt.timedelta(hours=13)
KEYS = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-digest"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    emulator.add_user(SAM, "Sam Ortiz")
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    yield
    assert guard.refused == []


@pytest.fixture
def app(sessions, emulator, monkeypatch) -> AppContext:
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
    monkeypatch.setattr(digest_senders, "SENDERS", dict(digest_senders.SENDERS))
    context = AppContext(sessions, WORKSPACE, load_settings())
    microsoft.register_readers(context.secret_box)
    emulator.mailboxes[SAM].sent.clear()
    return context


def make_clinic(app: AppContext, *connect_options: str) -> Account:
    """Sam owns a cold practice and connects his Outlook mailbox."""
    with app.sessions.begin() as session:
        world = World(session, WORKSPACE)
        set_workspace_setting(session, world.workspace, "digest_transport", "connector")
        sam = world.staff(SAM, "Sam Ortiz")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        world.touch(summit, MIDNIGHT_CHICAGO - dt.timedelta(days=77), sam)
        service.run_reminders(session, world.workspace, MIDNIGHT_CHICAGO)
    result = CliRunner().invoke(
        microsoft.connect_command, ["--staff", SAM, *connect_options], obj=app
    )
    assert result.exit_code == 0, result.output
    with app.sessions() as session:
        return session.scalars(
            select(Account).where(Account.provider == "outlook_mail")
        ).one()


def send(app: AppContext):
    request = service.DigestRequest(
        now=NOW,
        local_date=DEC_1,
        services=ReaderServices(app.sessions, app.secret_box),
    )
    return service.send_digests(app.sessions, WORKSPACE, request)


def claims(app: AppContext):
    with app.sessions() as session:
        return [(c.local_date, c.status) for c in session.scalars(select(DigestSend))]


def test_digest_sent_through_graph(app, emulator):
    account = make_clinic(app)

    outcomes = send(app)

    assert "Mail.Send" in account.options["scopes"]
    assert [(o.staff_email, o.status) for o in outcomes] == [(SAM, "sent")]
    (raw,) = emulator.mailboxes[SAM].sent
    assert isinstance(raw, bytes)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == f"Sam Ortiz <{SAM}>"
    assert message["From"] == f"Warmline <{SAM}>"
    assert message["Subject"].startswith("Warmline digest for Tue 01 Dec 2026")
    assert "Summit Sports Medicine" in message.get_body(("plain",)).get_content()
    assert message.get_body(("html",)) is not None
    assert claims(app) == [(DEC_1, "sent")]


def test_claim_prevents_second_send(app, emulator):
    make_clinic(app)
    send(app)

    again = send(app)

    assert [o.status for o in again] == ["already sent"]
    assert len(emulator.mailboxes[SAM].sent) == 1


def test_missing_scope_names_command(app, emulator):
    account = make_clinic(app, "--no-send-digests")

    (outcome,) = send(app)

    assert "Mail.Send" not in account.options["scopes"]
    assert outcome.status == "failed"
    assert f"outlook_mail account {account.id}" in outcome.detail
    assert (
        f"'warmline accounts connect microsoft --staff {SAM} --send-digests'"
        in outcome.detail
    )
    assert claims(app) == []
    assert emulator.mailboxes[SAM].sent == []
