"""Build the messages of sam-ortiz-takeout.mbox, Sam Ortiz's Gmail export.

The mailbox holds, in time order, threads with the touched practices
(source_mail.py), internal mail, bulk mail, notifications, other
organisations and skipped items (other_mail.py), and one message per messy
header case (header_cases.py).
"""

from __future__ import annotations

import random

from header_cases import add_header_cases
from mail_builder import MailBuilder
from mbox_format import Message
from other_mail import add_other_mail
from source_mail import add_source_mail


def build_messages(rng: random.Random) -> list[Message]:
    """Build every message of the example mailbox, sorted by arrival time."""
    builder = MailBuilder(rng)
    add_source_mail(builder)
    add_other_mail(builder)
    add_header_cases(builder)
    return sorted(builder.messages, key=lambda message: message.received_at)
