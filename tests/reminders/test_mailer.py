"""SMTP delivery through a real aiosmtpd server on loopback."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage

import pytest

from reminders.mailer import DeliveryRejected, send_message
from tests.reminders.smtp_server import running_smtp_server

TO = "sam.ortiz@brookside-pt.example"


def message(to: str = TO) -> EmailMessage:
    built = EmailMessage()
    built["From"] = "digest@brookside-pt.example"
    built["To"] = to
    built["Subject"] = "Warmline digest"
    built.set_content("Follow-ups due: 1\n")
    return built


@pytest.fixture
def smtp(tmp_path):
    with running_smtp_server(tmp_path) as server:
        yield server


def test_sends_over_starttls_with_login(smtp):
    send_message(smtp.config(), message())

    (received,) = smtp.inbox.messages()
    assert received["To"] == TO
    assert received.get_content().splitlines() == ["Follow-ups due: 1"]
    assert smtp.inbox.received[0][0] == [TO]


def test_wrong_password_rejected(smtp):
    with pytest.raises(DeliveryRejected, match="rejected the login of 'digest-sender'"):
        send_message(smtp.config(password="wrong"), message())

    assert smtp.inbox.received == []


def test_untrusted_certificate_rejected(smtp):
    untrusted = dataclasses.replace(smtp.config(), ca_file=None)

    with pytest.raises(DeliveryRejected, match="CERTIFICATE_VERIFY_FAILED"):
        send_message(untrusted, message())

    assert smtp.inbox.received == []


def test_unknown_recipient_rejected(smtp):
    smtp.inbox.rejected.add(TO)

    with pytest.raises(DeliveryRejected, match="rejected the message"):
        send_message(smtp.config(), message())

    assert smtp.inbox.received == []


def test_server_without_starttls_rejected(tmp_path):
    with running_smtp_server(tmp_path, starttls=False) as server:
        with pytest.raises(DeliveryRejected, match="does not offer STARTTLS"):
            send_message(server.config(), message())

        assert server.inbox.received == []


def test_closed_port_rejected(tmp_path):
    with running_smtp_server(tmp_path) as server:
        config = server.config()
    # The server is stopped now, so its port refuses connections.

    with pytest.raises(DeliveryRejected, match="cannot connect to SMTP server"):
        send_message(config, message())
