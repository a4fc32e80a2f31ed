"""Builders for source records and activities in matcher tests."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Participant,
    ParticipantRole,
)
from matcher import Link, MatchResult, MatchSettings, SourceKind, SourceRecord

DATA = Path(__file__).parent.parent / "data"

NOW = dt.datetime(2026, 3, 3, 14, 15, tzinfo=dt.UTC)
STAFF = "sam.ortiz@brookside-pt.example"
OTHER_STAFF = "amy.chen@brookside-pt.example"
SETTINGS = MatchSettings(
    own_domains=frozenset({"brookside-pt.example"}),
    staff_addresses=frozenset({STAFF, OTHER_STAFF}),
)

_keys = itertools.count(1)


def practice(
    source_id: int,
    name: str,
    *,
    domains: tuple[str, ...] = (),
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    address: str | None = None,
) -> SourceRecord:
    return SourceRecord(
        source_id,
        SourceKind.PRACTICE,
        name,
        emails=emails,
        domains=domains,
        phones=phones,
        address=address,
    )


def provider(
    source_id: int,
    name: str,
    practice_id: int,
    *,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
) -> SourceRecord:
    return SourceRecord(
        source_id,
        SourceKind.PROVIDER,
        name,
        practice_id=practice_id,
        emails=emails,
        phones=phones,
    )


def contact(
    source_id: int,
    name: str,
    practice_id: int,
    *,
    title: str = "Office Manager",
    emails: tuple[str, ...] = (),
) -> SourceRecord:
    return SourceRecord(
        source_id,
        SourceKind.CONTACT,
        name,
        practice_id=practice_id,
        title=title,
        emails=emails,
    )


def sender(address: str, name: str | None = None, **fields: object) -> Participant:
    return Participant(address, ParticipantRole.FROM, name, **fields)  # type: ignore[arg-type]


def recipient(
    address: str, name: str | None = None, role: ParticipantRole = ParticipantRole.TO
) -> Participant:
    return Participant(address, role, name)


def attendee(
    address: str, name: str | None = None, response: str | None = None
) -> Participant:
    return Participant(address, ParticipantRole.ATTENDEE, name, response=response)


def organizer(address: str = STAFF, name: str | None = None) -> Participant:
    return Participant(address, ParticipantRole.ORGANIZER, name, response="accepted")


def email(
    *participants: Participant,
    subject: str | None = "Referral",
    flags: frozenset[Flag] = frozenset(),
) -> Activity:
    key = next(_keys)
    return Activity(
        ActivityKind.EMAIL,
        provider_key=f"m{key}",
        external_id=f"m{key}@test.example",
        occurred_at=NOW,
        participants=participants,
        subject=subject,
        flags=flags,
    )


def inbound(address: str, name: str | None = None, **fields: object) -> Activity:
    """An email from one outside address to the staff member."""
    return email(sender(address, name, **fields), recipient(STAFF))


def meeting(
    *participants: Participant,
    subject: str | None = None,
    location: str | None = None,
    flags: frozenset[Flag] = frozenset(),
) -> Activity:
    key = next(_keys)
    return Activity(
        ActivityKind.MEETING,
        provider_key=f"e{key}",
        external_id=f"e{key}@test.example",
        occurred_at=NOW,
        participants=participants,
        subject=subject,
        location=location,
        flags=flags,
    )


def link_for(result: MatchResult, practice_id: int) -> Link:
    """Return the result's link to a practice; fails the test if absent."""
    found = [link for link in result.links if link.practice_id == practice_id]
    assert found, f"no link to practice {practice_id} in {result}"
    return found[0]


def linked_practices(result: MatchResult) -> list[int]:
    return [link.practice_id for link in result.links]
