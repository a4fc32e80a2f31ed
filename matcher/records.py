"""Plain records the matcher reads and writes; no database involved."""

from __future__ import annotations

import dataclasses
import enum


class SourceKind(enum.StrEnum):
    PRACTICE = "practice"
    PROVIDER = "provider"
    CONTACT = "contact"


@dataclasses.dataclass(frozen=True, slots=True)
class SourceRecord:
    """A referral source as the matcher sees it.

    `practice_id` is None for a practice and names the practice of a provider
    or contact.  Addresses and domains are lower case; phones are E.164.
    """

    id: int
    kind: SourceKind
    name: str
    practice_id: int | None = None
    title: str | None = None
    emails: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    address: str | None = None
    aliases: tuple[str, ...] = ()
    """Other names of the source: "LSO" for a practice, "Bob Smith" for a person."""


class Signal(enum.StrEnum):
    ADDRESS = "address"
    DOMAIN = "domain"
    NAME = "name"
    PHONE = "phone"
    TITLE = "title"
    LOCATION = "location"
    THREAD = "thread"


class Status(enum.StrEnum):
    CONFIRMED = "confirmed"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"


class DropReason(enum.StrEnum):
    """Why an activity produces no touchpoint at all."""

    INTERNAL = "internal"
    BULK = "bulk"
    AUTO_REPLY = "auto_reply"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    NO_MATCH = "no_match"


@dataclasses.dataclass(frozen=True, slots=True)
class Reason:
    """One signal behind a link, in words, with the score it contributed.

    `observed` is the value found in the activity (an address, a display
    name, a title) and `known` the source's value it was compared with.
    """

    signal: Signal
    detail: str
    score: float
    observed: str = ""
    known: str = ""

    def __str__(self) -> str:
        return f"{self.signal}: {self.detail} ({self.score:.2f})"


@dataclasses.dataclass(frozen=True, slots=True)
class Link:
    """An activity's link to one practice and, where known, people there.

    `person_id` is the provider or contact matched best; `also_person_ids`
    holds other people matched directly and the providers a matched contact
    works for.
    """

    practice_id: int
    confidence: float
    status: Status
    reasons: tuple[Reason, ...]
    person_id: int | None = None
    also_person_ids: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class MatchSettings:
    """Workspace facts and thresholds the matcher needs."""

    own_domains: frozenset[str] = frozenset()
    staff_addresses: frozenset[str] = frozenset()
    confirm_threshold: float = 0.85
    review_threshold: float = 0.5
    exclusions: frozenset[tuple[str, int]] = frozenset()
    """(key, practice id) pairs a person rejected; see `exclusion_key`."""


def exclusion_key(field: str, value: str) -> str:
    """Return the key under which a rejected correspondent is excluded.

    `field` is "address" for a participant's address, "title" or "location"
    for a meeting's text, and "event" for a meeting's UID, which excludes
    the evidence of its title and location in every occurrence.  Case and runs of
    white space do not count.
    """
    return f"{field}:{' '.join(value.casefold().split())}"


@dataclasses.dataclass(frozen=True, slots=True)
class MatchResult:
    links: tuple[Link, ...] = ()
    dropped: DropReason | None = None
