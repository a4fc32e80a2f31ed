"""The daily digest sent from the staff member's own Gmail mailbox, against
the Google emulator, with digest_transport set to connector."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from connectors.google import requested_scopes
from connectors.google.send import GMAIL_SEND_SCOPE
from tests.emulators.google import GoogleEmulator
from tests.emulators.google.harness import LoopbackOnly, settings_for
from tests.reminders.factories import World
from warmline import digest_senders, placement_writers, readers
from warmline import remind as service
from warmline.models import Account
from warmline.providers import google
from warmline.readers import ReaderServices
from warmline.reminder_models import DigestSend
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.workspaces import set_workspace_setting

SAM = "sam.ortiz@brookside-pt.example"
DEC_1 = dt.date(2026, 12, 1)
MIDNIGHT_CHICAGO = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
NOW = MIDNIGHT_CHICAGO + dt.timedelta(hours=13)
BOX = SecretBox([Fernet.generate_key()])
SEND_SCOPES = [*requested_scopes(), GMAIL_SEND_SCOPE]


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(users=(SAM,), time_zone="America/Chicago") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield
    assert guard.refused == []


@pytest.fixture(autouse=True)
def registered(server, monkeypatch):
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    monkeypatch.setattr(placement_writers, "WRITERS", dict(placement_writers.WRITERS))
    monkeypatch.setattr(digest_senders, "SENDERS", dict(digest_senders.SENDERS))
    google.register_readers(lambda: BOX, connector=settings_for(server))
    server.user(SAM).mailbox.sent.clear()


def make_clinic(sessions, server, recorded_scopes, granted_scopes) -> int:
    """Sam owns a cold practice and has a Gmail account with the given grant."""
    with sessions.begin() as session:
        world = World(session)
        set_workspace_setting(session, world.workspace, "digest_transport", "connector")
        sam = world.staff(SAM, "Sam Ortiz")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        world.touch(summit, MIDNIGHT_CHICAGO - dt.timedelta(days=77), sam)
        service.run_reminders(session, world.workspace, MIDNIGHT_CHICAGO)
        account = Account(
            workspace_id=world.workspace.id,
            staff_member_id=sam.id,
            provider="gmail",
            location=SAM,
            options={"mode": "user", "scopes": recorded_scopes},
        )
        session.add(account)
        session.flush()
        account_id = account.id
    grant = server.authorized_user_info(SAM, granted_scopes)
    DatabaseCredentialStore(sessions, account_id, BOX).save(json.dumps(grant))
    return account_id


def send(sessions):
    request = service.DigestRequest(
        now=NOW, local_date=DEC_1, services=ReaderServices(sessions, lambda: BOX)
    )
    return service.send_digests(sessions, "default", request)


def claims(sessions):
    with sessions() as session:
        return [(c.local_date, c.status) for c in session.scalars(select(DigestSend))]


def test_digest_sent_through_gmail(sessions, server):
    make_clinic(sessions, server, SEND_SCOPES, SEND_SCOPES)

    outcomes = send(sessions)

    assert [(o.staff_email, o.status) for o in outcomes] == [(SAM, "sent")]
    (raw,) = server.user(SAM).mailbox.sent
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == f"Sam Ortiz <{SAM}>"
    assert message["From"] == f"Warmline <{SAM}>"
    assert message["Subject"].startswith("Warmline digest for Tue 01 Dec 2026")
    text = message.get_body(("plain",)).get_content()
    assert "Summit Sports Medicine" in text
    assert message.get_body(("html",)) is not None
    assert claims(sessions) == [(DEC_1, "sent")]


def test_claim_prevents_second_send(sessions, server):
    make_clinic(sessions, server, SEND_SCOPES, SEND_SCOPES)
    send(sessions)

    again = send(sessions)

    assert [o.status for o in again] == ["already sent"]
    assert len(server.user(SAM).mailbox.sent) == 1


def test_missing_scope_names_command(sessions, server):
    account_id = make_clinic(sessions, server, requested_scopes(), requested_scopes())

    outcomes = send(sessions)

    (outcome,) = outcomes
    assert outcome.status == "failed"
    assert f"gmail account {account_id}" in outcome.detail
    assert GMAIL_SEND_SCOPE in outcome.detail
    assert (
        f"'warmline accounts connect google --staff {SAM} --send-digests'"
        in outcome.detail
    )
    assert claims(sessions) == []
    assert server.user(SAM).mailbox.sent == []


def test_grant_without_scope_rejected(sessions, server):
    # The account row records gmail.send, but the grant that Google stores lacks it.
    make_clinic(sessions, server, SEND_SCOPES, requested_scopes())

    (outcome,) = send(sessions)

    assert outcome.status == "failed"
    assert "--send-digests" in outcome.detail
    assert "insufficient" in outcome.detail.lower()
    assert claims(sessions) == []
    assert server.user(SAM).mailbox.sent == []


def test_no_mailbox_is_clear_error(sessions, server):
    with sessions.begin() as session:
        world = World(session)
        set_workspace_setting(session, world.workspace, "digest_transport", "connector")
        sam = world.staff(SAM, "Sam Ortiz")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        world.touch(summit, MIDNIGHT_CHICAGO - dt.timedelta(days=77), sam)
        service.run_reminders(session, world.workspace, MIDNIGHT_CHICAGO)

    (outcome,) = send(sessions)

    assert outcome.status == "failed"
    assert "no connected Gmail or Outlook mailbox" in outcome.detail
    assert claims(sessions) == []
