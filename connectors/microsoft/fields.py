"""Graph JSON values read into record values: recipients, times and ids.

Graph gives a recipient as {"emailAddress": {"name": ..., "address": ...}},
but the address field does not always hold an address.  Exchange puts a
plain name there, a whole "Name <address>" mailbox, or a legacy DN such as
"/o=ExchangeLabs/ou=.../cn=Recipients/cn=...".  The address text is parsed
with the e-mail header parser, and only one real address gives a
participant.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from connectors.calendar import TimezoneResolver, is_person_address
from connectors.mail import looks_like_address, parse_address_list
from connectors.records import Participant, ParticipantRole

_MAX_ID_CHARACTERS = 998
_SHOWN_CHARACTERS = 60

# Graph's attendee responses as iCalendar PARTSTAT values, in lower case.
_RESPONSES = {
    "accepted": "accepted",
    "declined": "declined",
    "tentativelyaccepted": "tentative",
    "notresponded": "needs-action",
    "none": "needs-action",
}


def recipient(
    value: Any, role: ParticipantRole, field: str, defects: list[str]
) -> Participant | None:
    """Return the participant a Graph recipient names, or None without an address."""
    email = value.get("emailAddress") if isinstance(value, dict) else None
    if not isinstance(email, dict):
        return None
    text = str(email.get("address") or "").strip()
    if not text:
        return None
    scratch: list[str] = []
    mailboxes = parse_address_list(text, field, scratch)
    if len(mailboxes) != 1 or not is_person_address(mailboxes[0].address):
        defects.append(f"{field}: no e-mail address in {text[:_SHOWN_CHARACTERS]!r}")
        return None
    mailbox = mailboxes[0]
    name = clean_name(email.get("name")) or mailbox.name
    if name is not None and (
        name.lower() == mailbox.address or looks_like_address(name)
    ):
        name = None
    response = None
    status = value.get("status")
    if role is ParticipantRole.ATTENDEE and isinstance(status, dict):
        response = _RESPONSES.get(str(status.get("response") or "").lower())
    return Participant(address=mailbox.address, role=role, name=name, response=response)


def recipients(
    values: Any, role: ParticipantRole, field: str, defects: list[str]
) -> list[Participant]:
    """Return the participants of a recipient list, one per address."""
    if isinstance(values, dict):
        values = [values]
    if not isinstance(values, list):
        return []
    found: dict[str, Participant] = {}
    for value in values:
        participant = recipient(value, role, field, defects)
        if participant is None:
            continue
        known = found.get(participant.address)
        if known is None or (known.name is None and participant.name is not None):
            found[participant.address] = participant
    return list(found.values())


def clean_name(value: Any) -> str | None:
    """Return a display name with runs of white space and quotes removed."""
    if not isinstance(value, str):
        return None
    name = " ".join(value.split()).strip("\"'")
    return name or None


def message_id(value: Any) -> str | None:
    """Return an internetMessageId without angle brackets, or None if unusable."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("<") and ">" in text:
        text = text[1 : text.index(">")]
    text = "".join(text.split())
    if not text or len(text) > _MAX_ID_CHARACTERS:
        return None
    return text


def timestamp(value: Any) -> dt.datetime | None:
    """Read a Graph DateTimeOffset ("2026-03-04T15:02:11Z") as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def local_date_time(value: Any) -> tuple[dt.datetime, str] | None:
    """Return the naive wall time and zone name of a dateTimeTimeZone value.

    Graph writes seven fractional digits ("2026-03-10T17:00:00.0000000"),
    one more than Python reads, so the seventh is dropped.
    """
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        return None
    text = value["dateTime"].rstrip("Z")
    if "." in text:
        whole, _, fraction = text.partition(".")
        text = f"{whole}.{fraction[:6]}"
    naive = dt.datetime.fromisoformat(text).replace(tzinfo=None)
    return naive, str(value.get("timeZone") or "UTC")


def zoned_time(
    value: Any, resolver: TimezoneResolver, defects: list[str]
) -> dt.datetime | None:
    """Read a dateTimeTimeZone value as aware UTC.

    The zone may be an IANA name or a Windows name such as "Pacific Standard
    Time".  An unknown zone is read as UTC, with a defect note.
    """
    local = local_date_time(value)
    if local is None:
        return None
    naive, zone_name = local
    zone = resolver.resolve(zone_name)
    if zone is None:
        defects.append(f"unknown time zone {zone_name!r}; read as UTC")
        zone = dt.UTC
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)
