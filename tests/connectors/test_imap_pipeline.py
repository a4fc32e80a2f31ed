"""ImapReader through the sync pipeline: Dovecot in, database rows out.

The reader is registered for the provider "imap" only inside each test.
The tests run on SQLite and on PostgreSQL, like the other pipeline tests.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.imap import ImapConfig, ImapReader
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot import dovecot as dovecot  # noqa: F401
from warmline.models import Account, AccountActivity, AccountStatus, Activity
from warmline.pipeline import sync_account
from warmline.readers import READERS
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace

SAM = "sam.ortiz@brookside-pt.example"


def message(number: int) -> bytes:
    return (
        f"From: Maria Lopez <maria.lopez@riverside-fm.example>\r\n"
        f"To: Sam Ortiz <{SAM}>\r\n"
        f"Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
        f"Subject: Referral {number}\r\n"
        f"Message-ID: <m{number}@riverside-fm.example>\r\n"
        f"\r\n"
        f"Patient letter {number}.\r\n"
    ).encode()


def add_imap_account(
    sessions: sessionmaker[Session],
    config: ImapConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    monkeypatch.setitem(READERS, "imap", lambda account, services: ImapReader(config))
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        member = upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
        account = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider="imap",
            location=config.account_label,
        )
        session.add(account)
        session.flush()
        return account.id


def external_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Activity.external_id)))


def sighting_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(AccountActivity)) or 0


def sync(sessions: sessionmaker[Session], account_id: int) -> None:
    report = sync_account(sessions, account_id, batch_size=2)
    assert report.error is None
    with sessions() as session:
        account = session.get_one(Account, account_id)
        assert account.status is AccountStatus.ACTIVE


def test_pipeline_copies_expunge_and_uidvalidity(
    dovecot: DovecotServer,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = dovecot.add_user()
    with dovecot.client(*user) as client:
        client.append("INBOX", message(1))
        client.create_folder("Referrals")
        client.append("Referrals", message(1))
        client.append("Referrals", message(2))
    config = dovecot.config(*user, folders=("INBOX", "Referrals"), chunk_size=1)
    account_id = add_imap_account(sessions, config, monkeypatch)

    sync(sessions, account_id)
    first_ids, first_sightings = external_ids(sessions), sighting_count(sessions)
    sync(sessions, account_id)
    again_ids, again_sightings = external_ids(sessions), sighting_count(sessions)
    with dovecot.client(*user) as client:
        client.select_folder("INBOX")
        client.delete_messages([1])
        client.expunge()
    sync(sessions, account_id)
    expunged_ids, expunged_sightings = external_ids(sessions), sighting_count(sessions)
    with dovecot.client(*user) as client:
        client.delete_folder("Referrals")
        client.create_folder("Referrals")
        client.append("Referrals", message(1))
    sync(sessions, account_id)

    both = ["m1@riverside-fm.example", "m2@riverside-fm.example"]
    assert first_ids == both
    assert first_sightings == 3
    assert again_ids == both
    assert again_sightings == 3
    assert expunged_ids == both, "Referrals still holds m1"
    assert expunged_sightings == 2
    assert external_ids(sessions) == ["m1@riverside-fm.example"]
    assert sighting_count(sessions) == 1
