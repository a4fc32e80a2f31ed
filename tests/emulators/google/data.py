"""Messages and events to fill the emulator with, built from a seed."""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from typing import Any

from tests.emulators.google.state import Calendar, Mailbox, Message

PRACTICES = (
    ("riverside-fm.example", "Riverside Family Medicine"),
    ("cedar-im.example", "Cedar Internal Medicine"),
    ("lakeside-fm.example", "Lakeside Family Medicine"),
    ("ridgeway-ortho.example", "Ridgeway Orthopedics"),
)
FIRST_NAMES = ("Maria", "Thao", "Janet", "Ana", "Omar", "Grace", "Luis", "Priya")
LAST_NAMES = ("Lopez", "Nguyen", "Ortiz", "Diaz", "Haddad", "Kim", "Reyes", "Shah")


def message_headers(
    sender: str,
    to: str,
    subject: str,
    date: dt.datetime,
    message_id: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> list[tuple[str, str]]:
    """Return a plausible header list, with fields Warmline does not ask for."""
    return [
        (
            "Received",
            f"from mail.example by mx.google.com; {email.utils.format_datetime(date)}",
        ),
        ("DKIM-Signature", "v=1; a=rsa-sha256; d=example; s=s1; b=abc123"),
        ("MIME-Version", "1.0"),
        ("From", sender),
        ("To", to),
        ("Subject", subject),
        ("Date", email.utils.format_datetime(date)),
        ("Message-ID", f"<{message_id}>"),
        ("Content-Type", 'text/plain; charset="UTF-8"'),
        *extra,
    ]


def fill_mailbox(
    mailbox: Mailbox,
    count: int,
    seed: int = 1,
    newest: dt.datetime | None = None,
    record_history: bool = False,
) -> list[Message]:
    """Add `count` messages between the staff member and referral sources.

    About one in ten is sent mail, one in fifty a draft and one in fifty
    spam, so the labels that change what counts are all present.
    """
    rng = random.Random(seed)
    newest = newest or dt.datetime(2026, 11, 30, 18, 0, tzinfo=dt.UTC)
    added = []
    for number in range(count):
        domain, practice = rng.choice(PRACTICES)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contact = f"{first} {last} <{first.lower()}.{last.lower()}@{domain}>"
        when = newest - dt.timedelta(minutes=17 * number + rng.randrange(10))
        roll = rng.random()
        labels = ["INBOX", "CATEGORY_PERSONAL"]
        sender, recipient = contact, mailbox.email
        if roll < 0.1:
            labels, sender, recipient = ["SENT"], mailbox.email, contact
        elif roll < 0.12:
            labels = ["DRAFT"]
        elif roll < 0.14:
            labels = ["SPAM"]
        headers = message_headers(
            sender,
            recipient,
            f"Referral follow-up {number} for {practice}",
            when,
            f"m{seed}-{number}@{domain}",
        )
        added.append(
            mailbox.add_message(headers, labels, when, record_history=record_history)
        )
    return added


def fill_calendar(
    calendar: Calendar,
    count: int,
    seed: int = 1,
    first: dt.datetime | None = None,
    spacing: dt.timedelta = dt.timedelta(hours=3),
) -> list[dict[str, Any]]:
    """Add `count` single meetings with referral sources, `spacing` apart."""
    rng = random.Random(seed)
    first = first or dt.datetime.now(dt.UTC) - dt.timedelta(days=150)
    events = []
    for number in range(count):
        domain, practice = rng.choice(PRACTICES)
        start = first + spacing * number
        event = {
            "id": f"evt{seed}x{number:06d}",
            "iCalUID": f"evt{seed}x{number:06d}@google.com",
            "status": "confirmed",
            "summary": f"Lunch and learn at {practice}",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()},
            "organizer": {"email": calendar.id, "self": True},
            "attendees": [
                {"email": calendar.id, "self": True, "responseStatus": "accepted"},
                {"email": f"frontdesk@{domain}", "responseStatus": "accepted"},
            ],
        }
        calendar.put(event)
        events.append(event)
    return events
