"""Sending a message over SMTP with STARTTLS, and what a failure means.

Errors fall in two classes, named for what the caller may do next:

    DeliveryError
    ├── DeliveryRejected     not delivered: sending again is safe
    └── DeliveryUncertain   the connection broke while the message was being
                            handed over, so the server may have taken it

The session always switches to TLS (RFC 3207) before it logs in or sends,
and the server's certificate is verified.  A server that does not offer
STARTTLS is rejected rather than used in plain text.
"""

from __future__ import annotations

import dataclasses
import smtplib
import ssl
from email.message import EmailMessage


@dataclasses.dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    ca_file: str | None = None
    timeout: float = 30.0
    """Seconds each network operation may take."""


class DeliveryError(Exception):
    """The message could not be handed to the SMTP server."""


class DeliveryRejected(DeliveryError):
    """The message was not delivered; sending it again is safe."""


class DeliveryUncertain(DeliveryError):
    """The connection failed during the hand-over; the message may have arrived."""


def send_message(config: SmtpConfig, message: EmailMessage) -> None:
    """Send `message` to its recipients through the server in `config`."""
    where = f"{config.host}:{config.port}"
    try:
        client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except OSError as error:
        raise DeliveryRejected(
            f"cannot connect to SMTP server {where}: {error}"
        ) from error
    try:
        _start_session(client, config, where)
        _hand_over(client, message, where)
    finally:
        _close(client)


def _start_session(client: smtplib.SMTP, config: SmtpConfig, where: str) -> None:
    try:
        client.ehlo()
        if not client.has_extn("starttls"):
            raise DeliveryRejected(
                f"SMTP server {where} does not offer STARTTLS; digests are sent "
                "over TLS only"
            )
        context = ssl.create_default_context(cafile=config.ca_file or None)
        client.starttls(context=context)
        client.ehlo()
        if config.username:
            client.login(config.username, config.password or "")
    except smtplib.SMTPAuthenticationError as error:
        raise DeliveryRejected(
            f"SMTP server {where} rejected the login of {config.username!r}: "
            f"{error.smtp_code} {error.smtp_error!r}"
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryRejected(f"SMTP session with {where} failed: {error}") from error


def _hand_over(client: smtplib.SMTP, message: EmailMessage, where: str) -> None:
    try:
        client.send_message(message)
    except (
        smtplib.SMTPRecipientsRefused,
        smtplib.SMTPSenderRefused,
        smtplib.SMTPDataError,
    ) as error:
        raise DeliveryRejected(
            f"SMTP server {where} rejected the message: {error}"
        ) from error
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryUncertain(
            f"connection to SMTP server {where} failed while sending: {error}"
        ) from error


def _close(client: smtplib.SMTP) -> None:
    # The server has accepted the message once it replied to DATA, so a
    # failing QUIT changes nothing about delivery.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()
