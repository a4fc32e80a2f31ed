"""Gmail message resources (format=metadata) to e-mail activities.

The headers of a metadata response are written back into a raw header block
and read by `connectors.mail.parse_message`, so that every quirk of real
headers is handled in one place for every mail connector.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.errors import MalformedData
from connectors.mail import HEADER_FIELDS, parse_message
from connectors.records import Activity

# Fields the parser reads that Gmail does not store as headers (X-GM-THRID is
# an IMAP extension, X-Gmail-Labels a Takeout header), and Received, whose
# date the parser needs only when there is no internalDate.
_NOT_REQUESTED = frozenset({"x-gm-thrid", "x-gmail-labels", "received"})

METADATA_HEADERS = sorted(HEADER_FIELDS - _NOT_REQUESTED)
"""Header names to request with format=metadata; Gmail returns only these."""

SKIPPED_LABEL_IDS = frozenset({"SPAM", "TRASH", "DRAFT", "CHAT"})
"""System label ids whose messages are not correspondence."""


def skipped_reason(label_ids: Sequence[str]) -> str | None:
    """Return the label id that keeps a message out, or None if it counts."""
    return next((label for label in label_ids if label in SKIPPED_LABEL_IDS), None)


def header_block(headers: Sequence[Mapping[str, Any]], thread_id: str | None) -> bytes:
    """Write a metadata response's `payload.headers` as a raw header block.

    Encoded words stay for the parser to decode.  A line break inside a
    value (a folded header) becomes a space, so one value can never turn
    into a second header field.  The thread id becomes
    X-GM-THRID in decimal, the form that Gmail's IMAP extension and Takeout
    exports use, so a thread has one id whichever way it was read.
    """
    lines = []
    for header in headers:
        name = str(header.get("name", "")).strip()
        if not name or ":" in name:
            continue
        value = " ".join(str(header.get("value", "")).splitlines())
        lines.append(f"{name}: {value}")
    if thread_id:
        lines.append(f"X-GM-THRID: {_decimal_thread_id(thread_id)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")


def message_activity(resource: Mapping[str, Any]) -> Activity:
    """Build the activity of one message resource.

    Raises MalformedData when the message has no id, or when its headers
    cannot be read (see `parse_message`).
    """
    message_id = resource.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise MalformedData("a Gmail message resource has no id")
    payload = resource.get("payload") or {}
    headers = payload.get("headers") or []
    label_ids = [str(label) for label in resource.get("labelIds") or []]
    thread_id = resource.get("threadId")
    return parse_message(
        header_block(headers, thread_id if isinstance(thread_id, str) else None),
        provider_key=message_id,
        server_time=internal_date(resource),
        labels=label_ids,
    )


def internal_date(resource: Mapping[str, Any]) -> dt.datetime | None:
    """Return when Gmail received the message (internalDate, epoch ms), or None."""
    value = resource.get("internalDate")
    try:
        milliseconds = int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    if milliseconds is None or milliseconds <= 0:
        return None
    return dt.datetime.fromtimestamp(milliseconds / 1000, dt.UTC)


def _decimal_thread_id(thread_id: str) -> str:
    try:
        return str(int(thread_id, 16))
    except ValueError:
        return thread_id
