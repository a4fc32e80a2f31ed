"""Message-ID, In-Reply-To and References values, and the id of a message."""

from __future__ import annotations

import hashlib
import re

from connectors.mail.headers import HeaderBlock

SYNTHETIC_ID_DOMAIN = "warmline.invalid"
"""Domain of the ids made for messages without a usable Message-ID.

The .invalid top-level domain is reserved (RFC 2606), so a made-up id can
never equal a real one.
"""

# RFC 5322 section 2.1.1 limits a line, and so an id, to 998 characters.
_MAX_ID_CHARACTERS = 998
_BRACKETED = re.compile(rb"<([^<>]*)>")
_SYNTHETIC_FIELDS = ("from", "date", "subject", "to")


def parse_message_ids(value: bytes) -> list[str]:
    """Return the ids in an In-Reply-To or References value, without brackets.

    Ids are taken from angle brackets, with folding white space removed.  A
    value with no brackets at all, as some clients write, is split on white
    space and commas, keeping the words that contain "@".
    """
    found = _BRACKETED.findall(value)
    if not found:
        found = [word for word in re.split(rb"[\s,]+", value) if b"@" in word]
    ids = []
    for raw in found:
        message_id = _clean_id(raw)
        if message_id is not None:
            ids.append(message_id)
    return ids


def parse_message_id(value: bytes) -> str | None:
    """Return the id of a Message-ID value without brackets, or None if unusable.

    An id without brackets is accepted when it is one word.
    """
    match = _BRACKETED.search(value)
    if match is not None:
        return _clean_id(match.group(1))
    words = value.split()
    return _clean_id(words[0]) if len(words) == 1 else None


def message_external_id(headers: HeaderBlock) -> str:
    """Return the message's Message-ID, or a stable id made from its headers.

    The made-up id is a SHA-256 of the From, Date, Subject and To values as
    they are in the file, with folding and runs of white space reduced to one
    space.  So a message gets the same id in every file it is read from,
    such as the per-label files of a Takeout export.
    """
    value = headers.first("message-id")
    message_id = parse_message_id(value) if value is not None else None
    return message_id if message_id is not None else synthetic_id(headers)


def synthetic_id(headers: HeaderBlock) -> str:
    """Return the made-up id of a message that has no usable Message-ID."""
    digest = hashlib.sha256()
    for field in _SYNTHETIC_FIELDS:
        value = b" ".join(b" ".join(headers.all(field)).split())
        digest.update(value + b"\x00")
    return f"{digest.hexdigest()[:32]}@{SYNTHETIC_ID_DOMAIN}"


def _clean_id(raw: bytes) -> str | None:
    compact = b"".join(raw.split())
    if not compact or len(compact) > _MAX_ID_CHARACTERS:
        return None
    return compact.decode("utf-8", "replace")
