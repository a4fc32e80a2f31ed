"""The daily digest, sent through a real SMTP server and read back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from reminders.mailer import SmtpConfig, send_message
from tests.reminders.factories import World
from tests.reminders.smtp_server import running_smtp_server
from warmline import remind as service
from warmline.models import Account, AccountStatus, TouchpointStatus
from warmline.reminder_models import DigestSend
from warmline.secrets import Fernet, SecretBox, SecretKeyError
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

SAM = "sam.ortiz@brookside-pt.example"
AMY = "amy.chen@brookside-pt.example"
DEC_1 = dt.date(2026, 12, 1)
# 06:00 UTC on 1 December is midnight in Chicago, where Sam works.
MIDNIGHT_CHICAGO = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
NOW = MIDNIGHT_CHICAGO + dt.timedelta(hours=13)


def days_ago(days: float) -> dt.datetime:
    return MIDNIGHT_CHICAGO - dt.timedelta(days=days)


@pytest.fixture
def smtp(tmp_path):
    with running_smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def clinic(sessions):
    """Sam has something in every section of his digest; Amy has nothing."""
    with sessions.begin() as session:
        world = World(session)
        set_workspace_setting(
            session, world.workspace, "digest_sender", "digest@brookside-pt.example"
        )
        sam = world.staff(SAM, "Sam Ortiz")
        world.staff(AMY, "Amy Chen")
        summit = world.practice("Summit Sports Medicine", owner=sam, cadence=30)
        world.touch(summit, days_ago(77), sam)
        ridgeway = world.practice(
            "Ridgeway Orthopedic Associates", owner=sam, cadence=14
        )
        for month in range(3, 17):
            received = DEC_1 - dt.timedelta(days=30 * month + 5)
            old = world.referral(ridgeway, received, count=2)
            old.closed_at = days_ago(30 * month)
        world.referral(
            ridgeway, DEC_1 - dt.timedelta(days=20), count=1, external_ref="RW-9"
        )
        # Yesterday in Chicago: an inbound message, so the loop stays open.
        world.touch(
            ridgeway,
            days_ago(0.5),
            sam,
            direction="inbound",
            subject="Re: huddle notes",
        )
        world.touch(
            ridgeway,
            days_ago(0.4),
            sam,
            status=TouchpointStatus.NEEDS_REVIEW,
            direction="inbound",
        )
        session.add_all(
            [
                Account(
                    workspace_id=world.workspace.id,
                    staff_member_id=sam.id,
                    provider="gmail",
                    location="sam-mail",
                    status=AccountStatus.NEEDS_REAUTH,
                ),
                Account(
                    workspace_id=world.workspace.id,
                    staff_member_id=sam.id,
                    provider="imap",
                    location="imap://mail/sam",
                    last_sync_at=days_ago(3),
                ),
                Account(
                    workspace_id=world.workspace.id,
                    staff_member_id=sam.id,
                    provider="mbox",
                    location="/exports/sam.mbox",
                ),
            ]
        )
        service.run_reminders(session, world.workspace, MIDNIGHT_CHICAGO)
    return sessions


def send(sessions, smtp_config, local_date=DEC_1, sender=send_message, **options):
    request = service.DigestRequest(
        now=NOW, local_date=local_date, smtp=smtp_config, **options
    )
    return service.send_digests(sessions, "default", request, sender)


def claims(sessions):
    with sessions() as session:
        return [(c.local_date, c.status) for c in session.scalars(select(DigestSend))]


def test_digest_sent_and_read_back(clinic, smtp):
    outcomes = send(clinic, smtp.config())

    assert [(o.staff_email, o.status) for o in outcomes] == [
        (AMY, "nothing to report"),
        (SAM, "sent"),
    ]
    (message,) = smtp.inbox.messages()
    assert message["To"] == f"Sam Ortiz <{SAM}>"
    assert message["From"] == "Warmline <digest@brookside-pt.example>"
    assert message["Subject"].startswith("Warmline digest for Tue 01 Dec 2026: ")
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for expected in (
        "== Follow-ups due (2)",
        "Summit Sports Medicine",
        "77 days since the last touch; cadence 30 days (own)",
        "== Going cold (1)",
        "== Open loops (1)",
        "== Referral drift (1)",
        "referrals falling despite touches",
        "== Yesterday's touchpoints (2)",
        "Re: huddle notes",
        "needs_review",
        "== Accounts to fix (2)",
        "needs reconnecting",
        "stopped syncing: last sync",
        "1 match(es) wait for review",
    ):
        assert expected in text, expected
    assert "/exports/sam.mbox" not in text
    assert "<h3>Referral drift (1)</h3>" in html
    assert claims(clinic) == [(DEC_1, "sent")]


def test_same_day_sent_once_next_day_again(clinic, smtp):
    send(clinic, smtp.config())

    again = send(clinic, smtp.config())
    next_day = send(clinic, smtp.config(), local_date=DEC_1 + dt.timedelta(days=1))

    assert [o.status for o in again] == ["nothing to report", "already sent"]
    assert [o.status for o in next_day] == ["nothing to report", "sent"]
    assert len(smtp.inbox.received) == 2


def test_crash_before_send_never_duplicates(clinic, smtp):
    def crash(config: SmtpConfig, message) -> None:
        raise KeyboardInterrupt  # the process dies after the claim committed

    with pytest.raises(KeyboardInterrupt):
        send(clinic, smtp.config(), sender=crash)
    after = send(clinic, smtp.config())

    assert claims(clinic) == [(DEC_1, "sending")]
    assert after[1].status == "not sent again: an earlier attempt may have delivered it"
    assert smtp.inbox.received == []


def test_crash_after_send_never_duplicates(clinic, smtp):
    def send_then_crash(config: SmtpConfig, message) -> None:
        send_message(config, message)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        send(clinic, smtp.config(), sender=send_then_crash)
    send(clinic, smtp.config())
    send(clinic, smtp.config())

    assert len(smtp.inbox.received) == 1


def test_rejected_digest_can_be_retried(clinic, smtp):
    smtp.inbox.rejected.add(SAM)

    rejected = send(clinic, smtp.config())
    smtp.inbox.rejected.clear()
    retried = send(clinic, smtp.config())

    assert rejected[1].status == "failed"
    assert "550" in rejected[1].detail
    assert retried[1].status == "sent"
    assert len(smtp.inbox.received) == 1


def test_dry_run_sends_and_records_nothing(clinic, smtp):
    outcomes = send(clinic, None, dry_run=True, staff_email=SAM)

    (outcome,) = outcomes
    assert outcome.status == "dry run"
    assert outcome.message is not None
    assert "1 going cold" in outcome.message["Subject"]
    assert smtp.inbox.received == []
    assert claims(clinic) == []


def test_missing_settings_named(clinic):
    with pytest.raises(service.ReminderError, match="smtp_host is not set"):
        send(clinic, None)
    with pytest.raises(
        service.ReminderError, match="no staff member with address 'bo@x.example'"
    ):
        send(clinic, SmtpConfig("127.0.0.1"), staff_email="bo@x.example")


def test_smtp_password_stored_encrypted(sessions):
    box = SecretBox([Fernet.generate_key()])
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        service.store_smtp_password(session, workspace, box, "s3cret")
        service.store_smtp_password(session, workspace, box, "n3w")

    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        assert service.stored_smtp_password(session, workspace, box) == "n3w"
        other = SecretBox([Fernet.generate_key()])
        with pytest.raises(SecretKeyError, match="cannot be decrypted"):
            service.stored_smtp_password(session, workspace, other)
