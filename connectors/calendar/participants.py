"""ORGANIZER and ATTENDEE properties as participants.

Only values that contain a person's e-mail address become participants.
The address comes from the EMAIL parameter when there is one (RFC 7986
section 6), because iCloud writes an iMIP relay address such as
"mailto:2_...@imip.me.com" as its organizer's value.  Otherwise it comes
from the mailto: value.  No participant comes from:

- values without an address: a bare name, or an Exchange legacy DN such as
  "/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=...";
- addresses Google generates for calendars rather than people, such as
  "unknownorganizer@calendar.google.com" (the organizer of a private copy)
  and "...@group.calendar.google.com" or "...@resource.calendar.google.com";
- attendees with CUTYPE=ROOM or CUTYPE=RESOURCE, which are not people.
"""

from __future__ import annotations

import email.utils
import urllib.parse

import icalendar

from connectors.records import Participant, ParticipantRole

# Google Calendar's own domain and its subdomains name calendars: group,
# resource, holiday and imported calendars, and placeholder organizers.
_GENERATED_DOMAIN = "calendar.google.com"

_NON_PERSON_TYPES = frozenset({"ROOM", "RESOURCE"})

_ROLE_PROPERTIES = (
    ("ORGANIZER", ParticipantRole.ORGANIZER),
    ("ATTENDEE", ParticipantRole.ATTENDEE),
)
"""Each property that names participants, with the role it gives them."""


def participants_of(component: icalendar.Component) -> tuple[Participant, ...]:
    """Return the organizer, then the attendees, each address and role once."""
    found: list[Participant] = []
    seen: set[tuple[str, ParticipantRole]] = set()
    for name, role in _ROLE_PROPERTIES:
        for prop in _as_list(component.get(name)):
            participant = participant_from(prop, role)
            if participant is None or (participant.address, role) in seen:
                continue
            seen.add((participant.address, role))
            found.append(participant)
    return tuple(found)


def participant_from(prop: object, role: ParticipantRole) -> Participant | None:
    """Return the participant an ORGANIZER or ATTENDEE value names, if any."""
    if not isinstance(prop, icalendar.vCalAddress):
        return None
    params = prop.params
    if str(params.get("CUTYPE", "")).upper() in _NON_PERSON_TYPES:
        return None
    name_in_value, value_address = _split_value(str(prop))
    address = _clean_address(str(params.get("EMAIL", ""))) or value_address
    if address is None or not is_person_address(address):
        return None
    name = _clean_name(str(params.get("CN", ""))) or name_in_value
    if name is not None and name.lower() == address:
        name = None
    response = None
    if role is ParticipantRole.ATTENDEE and params.get("PARTSTAT"):
        response = str(params["PARTSTAT"]).strip().lower()
    return Participant(address=address, role=role, name=name, response=response)


def is_person_address(address: str) -> bool:
    """Tell whether a lower-cased address can belong to a person."""
    domain = address.rpartition("@")[2]
    generated = domain == _GENERATED_DOMAIN or domain.endswith("." + _GENERATED_DOMAIN)
    return not generated


def _split_value(value: str) -> tuple[str | None, str | None]:
    """Return the display name and address in a mailto: or bare value.

    Besides "mailto:dana@x.example", producers write "MAILTO:" in upper case,
    percent-encode the address (RFC 6068), or put a whole
    "Front Desk <frontdesk@x.example>" mailbox in the value.
    """
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    text = urllib.parse.unquote(text).strip()
    if "<" in text:
        name, address = email.utils.parseaddr(text)
        return _clean_name(name), _clean_address(address)
    return None, _clean_address(text)


def _clean_address(text: str) -> str | None:
    """Return `text` as a lower-cased addr-spec, or None if it is no address.

    Spaces are dropped: a line folded with a two-space indent, as in the
    examples of RFC 5545, leaves one inside the address after unfolding.
    """
    address = "".join(text.split()).strip('"')
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:") :]
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain:
        return None
    if any(char in '/<>(),;:"' for char in address):
        # A legacy DN or a list of addresses, not one address.
        return None
    return address.lower()


def _clean_name(text: str) -> str | None:
    """Return a display name with quotes and runs of spaces removed."""
    name = " ".join(text.strip().strip('"').split())
    return name or None


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]
