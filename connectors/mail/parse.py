"""An e-mail activity built from the header block of a raw message.

Only the header block is read; a message body never reaches the activity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from connectors.errors import MalformedData
from connectors.mail.addresses import Mailbox, parse_address_list
from connectors.mail.dates import parse_header_date
from connectors.mail.encoded_words import decode_encoded_words
from connectors.mail.flags import message_flags
from connectors.mail.headers import MAX_ADDRESS_HEADER_BYTES, HeaderBlock, decode_field
from connectors.mail.ids import parse_message_id, parse_message_ids, synthetic_id
from connectors.records import Activity, ActivityKind, Participant, ParticipantRole

_ADDRESS_FIELDS = (
    ("from", "From", ParticipantRole.FROM),
    ("sender", "Sender", ParticipantRole.SENDER),
    ("reply-to", "Reply-To", ParticipantRole.REPLY_TO),
    ("to", "To", ParticipantRole.TO),
    ("cc", "Cc", ParticipantRole.CC),
    ("bcc", "Bcc", ParticipantRole.BCC),
)
# Mail archives hold old messages, so only a date in the future is
# implausible; a day of slack covers clock skew between sender and server.
_MAX_DATE_AHEAD = dt.timedelta(days=1)
_EXCERPT_CHARACTERS = 80


def parse_message(
    raw: bytes,
    *,
    provider_key: str,
    server_time: dt.datetime | None = None,
    labels: Sequence[str] = (),
) -> Activity:
    """Read the header block of a raw RFC 5322 message as an e-mail activity.

    `server_time` is when the provider received the message (IMAP
    INTERNALDATE, Gmail internalDate, the mbox "From " line).  It replaces a
    Date header that is missing, invalid, without a zone, or more than a day
    after it.  When it is None, the topmost Received header's date serves.  `labels`
    are the provider's labels or folders, and a Sent label sets Flag.SENT.

    Raises MalformedData when the message cannot be read: an address header
    over MAX_ADDRESS_HEADER_BYTES, no valid address in any address header, or
    no usable date at all.
    """
    return parse_headers(
        HeaderBlock.from_bytes(raw),
        provider_key=provider_key,
        server_time=server_time,
        labels=labels,
    )


def parse_headers(
    headers: HeaderBlock,
    *,
    provider_key: str,
    server_time: dt.datetime | None = None,
    labels: Sequence[str] = (),
) -> Activity:
    """Build the activity from a split header block, as `parse_message` does."""
    _check_address_sizes(headers)
    defects = list(headers.defects)
    participants = _participants(headers, defects)
    occurred_at = _occurred_at(headers, server_time, defects)
    external_id = _external_id(headers, defects)
    subject = _subject(headers, defects)
    reply_ids = parse_message_ids(headers.first("in-reply-to") or b"")
    in_reply_to = reply_ids[0] if reply_ids else None
    references = tuple(parse_message_ids(b" ".join(headers.all("references"))))
    label_tuple = tuple(labels)
    return Activity(
        kind=ActivityKind.EMAIL,
        provider_key=provider_key,
        external_id=external_id,
        occurred_at=occurred_at,
        participants=participants,
        subject=subject,
        thread_id=_thread_id(headers, references, in_reply_to) or external_id,
        in_reply_to=in_reply_to,
        references=references,
        labels=label_tuple,
        flags=message_flags(headers, subject, label_tuple),
        defects=tuple(defects),
    )


def _check_address_sizes(headers: HeaderBlock) -> None:
    for field, title, _ in _ADDRESS_FIELDS:
        values = headers.all(field)
        size = sum(map(len, values)) if values else 0
        if size > MAX_ADDRESS_HEADER_BYTES:
            raise MalformedData(
                f"address header {title} is {size:,} bytes, "
                f"limit {MAX_ADDRESS_HEADER_BYTES:,}"
            )


def _participants(headers: HeaderBlock, defects: list[str]) -> tuple[Participant, ...]:
    participants: list[Participant] = []
    from_addresses: set[str] = set()
    for field, title, role in _ADDRESS_FIELDS:
        values = headers.all(field)
        if not values:
            if role is ParticipantRole.FROM:
                defects.append("From header is missing")
            continue
        mailboxes: list[Mailbox] = []
        for value in values:
            text = decode_field(value, field, defects)
            mailboxes.extend(parse_address_list(text, title, defects))
        if role is ParticipantRole.FROM:
            from_addresses = {mailbox.address for mailbox in mailboxes}
        elif role is ParticipantRole.SENDER:
            mailboxes = [m for m in mailboxes if m.address not in from_addresses]
        participants.extend(_unique_participants(mailboxes, role))
    if not participants:
        reason = "no valid address in From, Sender, Reply-To, To, Cc or Bcc"
        notes = "; ".join(defects[:3])
        raise MalformedData(f"{reason} ({notes})" if notes else reason)
    return tuple(participants)


def _unique_participants(
    mailboxes: list[Mailbox], role: ParticipantRole
) -> list[Participant]:
    """Keep one participant per address, with the first name found for it."""
    chosen: dict[str, Mailbox] = {}
    for mailbox in mailboxes:
        known = chosen.get(mailbox.address)
        if known is None or (known.name is None and mailbox.name is not None):
            chosen[mailbox.address] = mailbox
    return [
        Participant(m.address, role, m.name, name_from_comment=m.name_from_comment)
        for m in chosen.values()
    ]


def _occurred_at(
    headers: HeaderBlock, server_time: dt.datetime | None, defects: list[str]
) -> dt.datetime:
    reference, source = _reference_time(headers, server_time, defects)
    text = headers.text("date", defects)
    if text is None:
        return _fallback_time(reference, source, "Date header is missing", defects)
    excerpt = repr(text[:_EXCERPT_CHARACTERS])
    reading = parse_header_date(text)
    if reading is None:
        return _fallback_time(reference, source, f"Date {excerpt} is invalid", defects)
    if not reading.zone_known:
        # RFC 5322 section 3.3 reads a time of unknown zone as UTC, which can
        # be hours off, so a server timestamp is the better instant.
        if reference is not None:
            defects.append(f"Date {excerpt} has no known time zone; used the {source}")
            return reference
        defects.append(f"Date {excerpt} has no known time zone; read as UTC")
        return reading.value
    latest = (reference or dt.datetime.now(dt.UTC)) + _MAX_DATE_AHEAD
    if reading.value > latest:
        problem = (
            f"Date {excerpt} is more than a day after the {source or 'current time'}"
        )
        return _fallback_time(reference, source, problem, defects)
    return reading.value


def _reference_time(
    headers: HeaderBlock, server_time: dt.datetime | None, defects: list[str]
) -> tuple[dt.datetime | None, str | None]:
    """Return the server timestamp to check the Date against, and its name."""
    if server_time is not None:
        if server_time.utcoffset() is None:
            raise ValueError(f"server_time {server_time!r} must be an aware datetime")
        return server_time.astimezone(dt.UTC), "server timestamp"
    received = headers.first("received")
    if received is None or b";" not in received:
        return None, None
    text = decode_field(received.rsplit(b";", 1)[1], "received", defects)
    reading = parse_header_date(text)
    return (reading.value, "Received date") if reading is not None else (None, None)


def _fallback_time(
    reference: dt.datetime | None,
    source: str | None,
    problem: str,
    defects: list[str],
) -> dt.datetime:
    if reference is None:
        raise MalformedData(f"{problem}, and there is no server timestamp to use")
    defects.append(f"{problem}; used the {source}")
    return reference


def _external_id(headers: HeaderBlock, defects: list[str]) -> str:
    value = headers.first("message-id")
    if value is None:
        defects.append("Message-ID is missing; used an id made from the headers")
        return synthetic_id(headers)
    message_id = parse_message_id(value)
    if message_id is None:
        excerpt = value[:_EXCERPT_CHARACTERS].decode("utf-8", "replace")
        defects.append(
            f"Message-ID {excerpt!r} is unusable; used an id made from the headers"
        )
        return synthetic_id(headers)
    return message_id


def _subject(headers: HeaderBlock, defects: list[str]) -> str | None:
    text = headers.text("subject", defects)
    if text is None:
        return None
    return " ".join(decode_encoded_words(text, "Subject", defects).split())


def _thread_id(
    headers: HeaderBlock, references: tuple[str, ...], in_reply_to: str | None
) -> str | None:
    gmail_thread = (headers.first("x-gm-thrid") or b"").strip()
    if gmail_thread:
        return gmail_thread.decode("ascii", "replace")
    if references:
        return references[0]
    return in_reply_to
