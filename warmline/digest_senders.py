"""Send a staff member's digest through their own Gmail or Outlook mailbox.

Sender factories are registered per provider like calendar writers
(warmline.placement_writers), by `warmline.providers.*.register_readers`.
A mailbox can send when its stored grant includes a send scope: Gmail's
gmail.send, Graph's Mail.Send.  Connector errors become the SMTP mailer's
DeliveryRejected (not sent, safe to try again) and DeliveryUncertain (may
have arrived), so the once-a-day claim in warmline.remind.digest_send
works the same for both transports.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP
from typing import Protocol

from sqlalchemy import select

from connectors.errors import ConnectorError
from connectors.mail_send import MissingSendScope, SendUncertain
from reminders import DeliveryRejected, DeliveryUncertain
from warmline.models import Account, AccountStatus
from warmline.readers import MissingCredentialError, ReaderServices


class MailSender(Protocol):
    def send_message(self, raw: bytes) -> str:
        """Send one RFC 822 message and return the provider's id for it."""


SenderFactory = Callable[[Account, ReaderServices], MailSender]

SENDERS: dict[str, SenderFactory] = {}
SEND_SCOPES = {"gmail": "gmail.send", "outlook_mail": "Mail.Send"}
CONNECT_COMMANDS = {
    "gmail": "warmline accounts connect google --staff {email} --send-digests",
    "outlook_mail": "warmline accounts connect microsoft --staff {email} "
    "--send-digests",
}


def register_sender(provider: str, factory: SenderFactory) -> None:
    SENDERS[provider] = factory


def missing_scope(account: Account, scope: str) -> MissingSendScope:
    """Return the error for a mailbox whose grant lacks `scope`."""
    return MissingSendScope(_missing_scope_message(account, scope))


def _missing_scope_message(account: Account, scope: str) -> str:
    command = CONNECT_COMMANDS[account.provider].format(
        email=account.staff_member.email
    )
    return (
        f"{account.provider} account {account.id} cannot send the digest: its "
        f"grant lacks the {scope} scope; run '{command}'"
    )


def connector_transport(
    services: ReaderServices, staff_member_id: int
) -> Callable[[EmailMessage], None]:
    """Return a function that sends a message from the staff member's mailbox.

    The mailbox is their first connected Gmail or Outlook mail account.
    Raises DeliveryRejected when they have none, and the returned function
    raises DeliveryRejected or DeliveryUncertain as the SMTP mailer does.
    """
    with services.sessions() as session:
        account = session.scalars(
            select(Account)
            .where(
                Account.staff_member_id == staff_member_id,
                Account.provider.in_(list(SENDERS)),
                Account.status != AccountStatus.DISABLED,
            )
            .order_by(Account.id)
        ).first()
        if account is None:
            raise DeliveryRejected(
                "no connected Gmail or Outlook mailbox to send the digest from; "
                "connect one with 'warmline accounts connect google --send-digests' "
                "or set digest_transport to smtp"
            )
        refused_scope = _missing_scope_message(account, SEND_SCOPES[account.provider])
        try:
            sender = SENDERS[account.provider](account, services)
        except (ConnectorError, MissingCredentialError) as error:
            raise DeliveryRejected(str(error)) from error

    def transmit(message: EmailMessage) -> None:
        raw = message.as_bytes(policy=SMTP)
        try:
            sender.send_message(raw)
        except SendUncertain as error:
            raise DeliveryUncertain(str(error)) from error
        except MissingSendScope as error:
            # The provider refused the stored grant although its recorded
            # scopes looked right, so the grant must be renewed.
            raise DeliveryRejected(f"{refused_scope} ({error})") from error
        except ConnectorError as error:
            raise DeliveryRejected(str(error)) from error

    return transmit
