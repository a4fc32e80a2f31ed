"""Assemble example messages: headers, threading, labels and times."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

from clinic import CLINIC_FAX, CLINIC_PHONE, PRACTICE_BY_KEY, SAM, Person, StaffMember
from mbox_format import (
    CHICAGO,
    Address,
    GmailIds,
    HeaderValue,
    Message,
    MessageIds,
    encode_subject,
    format_address,
    format_address_list,
    format_date,
    reply_subject,
)

OWN_ADDRESSES = frozenset((SAM.email, *SAM.aliases))
"""Addresses of the mailbox owner.  Mail from them is filed as Sent."""

INBOX_LABELS = (
    ("Inbox", "Opened"),
    ("Inbox", "Important", "Opened"),
    ("Archived", "Opened"),
    ("Referrals", "Opened"),
    ("Inbox", "Unread"),
    ("Archived", "Category Updates", "Opened"),
)
SENT_LABELS = (("Sent",), ("Sent", "Important"), ("Sent", "Referrals"))
NEWSLETTER_LABELS = (
    ("Archived", "Category Updates", "Unread"),
    ("Inbox", "Category Promotions", "Opened"),
)

# Senders whose mail servers run on Exchange Online, so their Message-IDs
# have Exchange's shape.
EXCHANGE_DOMAINS = frozenset(
    {
        "riverside-fm.example",
        "fm.lakeside-health.example",
        "ortho.lakeside-health.example",
        "northgate-clinic.example",
        "northgatemed.example",
    }
)


def at_local(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """Return the UTC time of `hour`:`minute` on `day` in Chicago."""
    local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CHICAGO)
    return local.astimezone(dt.UTC)


def staff_address(staff: StaffMember, alias: bool = False) -> Address:
    """Return a staff member's name and main address, or first alias."""
    return (staff.name, staff.aliases[0] if alias else staff.email)


def person_address(person: Person) -> Address:
    """Return a provider's or contact's display name and first address."""
    return (person.display_name, person.email)


def signature(person: Person) -> str:
    """Return a signature block with the person's practice and phone."""
    practice = PRACTICE_BY_KEY[person.practice]
    phone = person.phones[0] if person.phones else practice.phones[0]
    return f"{person.display_name}\n{person.title}, {practice.name}\n{phone}\n"


def sam_signature() -> str:
    return (
        "Sam Ortiz\nCommunity Liaison | Brookside Physical Therapy\n"
        f"{CLINIC_PHONE} | fax {CLINIC_FAX}\n"
    )


class MailBuilder:
    """Collects messages, giving each its ids, thread, labels and headers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.messages: list[Message] = []
        self.message_ids = MessageIds(rng)
        self._gmail_ids = GmailIds(rng)

    # Times

    def business_time(self, day: dt.date) -> dt.datetime:
        """Return a random time between 8:00 and 17:30 on `day`, or the next
        weekday when `day` falls on a weekend."""
        while day.weekday() >= 5:
            day += dt.timedelta(days=1)
        return at_local(day, self.rng.randrange(8, 17), self.rng.randrange(60))

    def later(self, moment: dt.datetime, rng: random.Random) -> dt.datetime:
        """Return a reply time 20 minutes to 28 hours after `moment`,
        moved to the next business morning when it falls outside 7:00-19:00."""
        result = moment + dt.timedelta(minutes=rng.randrange(20, 28 * 60))
        local = result.astimezone(CHICAGO)
        if 7 <= local.hour < 19 and local.weekday() < 5:
            return result
        return self.business_time(local.date() + dt.timedelta(days=1))

    # Messages

    def add(
        self,
        *,
        at: dt.datetime,
        sender: Address,
        subject: str,
        body: str,
        to: Sequence[Address] = (),
        cc: Sequence[Address] = (),
        bcc: Sequence[Address] = (),
        labels: Sequence[str] | None = None,
        extra: Sequence[tuple[str, HeaderValue]] = (),
        parent: Message | None = None,
        message_id: str | None = None,
        case: str | None = None,
    ) -> Message:
        """Add a plain-text message and return it.

        Labels default to a Sent set for mail from Sam and an inbox set
        otherwise.  A `parent` makes the message a reply in its thread.
        """
        outbound = sender[1] in OWN_ADDRESSES
        if message_id is None:
            message_id = self._new_message_id(sender[1], at)
        else:
            message_id = self.message_ids.fixed(message_id)
        headers: list[tuple[str, HeaderValue]] = []
        if not outbound:
            headers.append(("Delivered-To", SAM.email))
        headers += [
            ("MIME-Version", "1.0"),
            ("Date", format_date(at)),
            ("Message-ID", f"<{message_id}>"),
        ]
        headers += _threading_headers(parent)
        headers += [
            ("Subject", encode_subject(subject)),
            ("From", format_address(sender)),
        ]
        for name, addresses in (("To", to), ("Cc", cc)):
            if addresses:
                headers.append((name, format_address_list(addresses)))
        if bcc and outbound:
            headers.append(("Bcc", format_address_list(bcc)))
        headers += list(extra)
        headers += _text_content_headers(body)
        if labels is None:
            labels = self.rng.choice(SENT_LABELS if outbound else INBOX_LABELS)
        return self.add_raw(
            at=at,
            headers=headers,
            body=body,
            labels=labels,
            message_id=message_id,
            subject=subject,
            parent=parent,
            case=case,
            sender=sender,
            recipients=tuple(to),
        )

    def reply(
        self,
        parent: Message,
        *,
        at: dt.datetime,
        sender: Address,
        body: str,
        to: Sequence[Address] | None = None,
        cc: Sequence[Address] = (),
        subject: str | None = None,
        extra: Sequence[tuple[str, HeaderValue]] = (),
        limit: dt.datetime | None = None,
        case: str | None = None,
    ) -> Message | None:
        """Add a reply to `parent`, or nothing when `at` is after `limit`.

        The reply goes to the parent's sender, or to the parent's recipients
        when the same person replies to their own message.
        """
        if limit is not None and at > limit:
            return None
        if to is None:
            to = [parent.sender] if parent.sender else []
            if parent.sender and parent.sender[1] == sender[1]:
                to = list(parent.recipients)
        return self.add(
            at=at,
            sender=sender,
            to=to,
            cc=cc,
            subject=subject or reply_subject(parent.subject or ""),
            body=body,
            extra=extra,
            parent=parent,
            case=case,
        )

    def newsletter(
        self,
        *,
        at: dt.datetime,
        sender: Address,
        subject: str,
        list_id: str | None,
        unsubscribe: str,
        reply_to: Address | None = None,
        precedence: str | None = None,
    ) -> Message:
        """Add a bulk message with List-Unsubscribe and an HTML alternative."""
        message_id = self.message_ids.local(sender[1].split("@")[1], at)
        headers: list[tuple[str, HeaderValue]] = [
            ("Delivered-To", SAM.email),
            ("MIME-Version", "1.0"),
            ("Date", format_date(at, dt.UTC)),
            ("Message-ID", f"<{message_id}>"),
            ("Subject", subject),
            ("From", format_address(sender)),
            ("To", SAM.email),
        ]

        if reply_to is not None:
            headers.append(("Reply-To", format_address(reply_to)))
        if list_id is not None:
            headers.append(("List-Id", f"<{list_id}>"))
        headers.append(("List-Unsubscribe", unsubscribe))
        if unsubscribe.startswith("<https"):
            headers.append(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        if precedence is not None:
            headers.append(("Precedence", precedence))

        boundary = f"00000000{self.rng.getrandbits(64):016x}"
        headers.append(
            ("Content-Type", f'multipart/alternative; boundary="{boundary}"')
        )
        body = _alternative_body(boundary, subject)
        return self.add_raw(
            at=at,
            headers=headers,
            body=body,
            labels=self.rng.choice(NEWSLETTER_LABELS),
            message_id=message_id,
            subject=subject,
            sender=sender,
        )

    def add_raw(
        self,
        *,
        at: dt.datetime,
        headers: list[tuple[str, HeaderValue]],
        body: str | bytes,
        labels: Sequence[str],
        message_id: str | None,
        subject: str | None,
        parent: Message | None = None,
        case: str | None = None,
        sender: Address | None = None,
        recipients: tuple[Address, ...] = (),
    ) -> Message:
        """Add a message whose headers are given exactly as they must be written."""
        gmail_id = self._gmail_ids.new(at)
        message = Message(
            gmail_id=gmail_id,
            thread_id=parent.thread_id if parent is not None else gmail_id,
            received_at=at,
            labels=tuple(labels),
            headers=headers,
            body=body,
            message_id=message_id,
            subject=subject,
            case=case,
            sender=sender,
            recipients=recipients,
            references=_references(parent),
        )
        self.messages.append(message)
        return message

    def _new_message_id(self, address: str, at: dt.datetime) -> str:
        domain = address.rsplit("@", 1)[1].lower()
        if domain in EXCHANGE_DOMAINS:
            return self.message_ids.exchange()
        if domain in ("brookside-pt.example", "gmail.example"):
            return self.message_ids.gmail()
        return self.message_ids.local(domain, at)


def _references(parent: Message | None) -> tuple[str, ...]:
    if parent is None or parent.message_id is None:
        return ()
    return (*parent.references, parent.message_id)


def _threading_headers(parent: Message | None) -> list[tuple[str, HeaderValue]]:
    if parent is None or parent.message_id is None:
        return []
    references = " ".join(f"<{value}>" for value in _references(parent))
    return [
        ("In-Reply-To", f"<{parent.message_id}>"),
        ("References", references),
    ]


def _text_content_headers(body: str) -> list[tuple[str, HeaderValue]]:
    encoding = "7bit" if body.isascii() else "8bit"
    return [
        ("Content-Type", 'text/plain; charset="UTF-8"'),
        ("Content-Transfer-Encoding", encoding),
    ]


def _alternative_body(boundary: str, title: str) -> str:
    return (
        f"--{boundary}\n"
        'Content-Type: text/plain; charset="UTF-8"\n\n'
        f"{title}\n\nRead this issue online. Unsubscribe at any time.\n\n"
        f"--{boundary}\n"
        'Content-Type: text/html; charset="UTF-8"\n\n'
        f"<html><body><h1>{title}</h1><p>Read this issue online.</p>"
        '<p><a href="#">Unsubscribe</a></p></body></html>\n\n'
        f"--{boundary}--\n"
    )
