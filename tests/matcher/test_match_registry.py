"""Matching against real provider and organisation names from the NPI Registry."""

from __future__ import annotations

import csv
import functools

import pytest

from matcher import SourceIndex, SourceKind, SourceRecord, Status, match_activity
from matcher.phones import normalize_phone_number
from tests.matcher.factories import (
    DATA,
    SETTINGS,
    inbound,
    linked_practices,
    meeting,
    organizer,
)


def _registry_records() -> list[SourceRecord]:
    """Make each organisation a practice, and each individual a provider.

    An individual's practice is a made-up one named after them and holding
    their registry phone number, as a CSV import of the list would.
    """
    path = DATA / "names" / "npi_registry_flat_subset.csv"
    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    records: list[SourceRecord] = []
    for row in rows:
        npi = int(row["npi"])
        phones = tuple(
            number
            for number in [normalize_phone_number(row["practice_phone"].lstrip("#"))]
            if number
        )
        if row["enumeration_type"] == "NPI-2":
            records.append(
                SourceRecord(
                    npi, SourceKind.PRACTICE, row["organization_name"], phones=phones
                )
            )
            continue
        name = " ".join(
            part
            for part in (row["first_name"], row["middle_name"], row["last_name"])
            if part
        )
        if row["credential"]:
            name = f"{name}, {row['credential']}"
        records.append(
            SourceRecord(
                npi + 1,
                SourceKind.PRACTICE,
                f"{row['last_name']} Clinic",
                phones=phones,
            )
        )
        records.append(
            SourceRecord(npi, SourceKind.PROVIDER, name, practice_id=npi + 1)
        )
    return records


@functools.cache
def registry_index() -> SourceIndex:
    return SourceIndex(_registry_records())


GREEN = 1316946544
HODGE_SPEARS = 1083762025
SMITH = 1508193921
EMORY_CLINIC = 1467486373
RANDELL_PC = 1992885586


@pytest.mark.parametrize(
    ("display", "person", "status"),
    [
        # A name alone from a consumer address goes to review, with or
        # without "Dr." or a credential.
        ("Dr. Bob Green", GREEN, Status.NEEDS_REVIEW),
        ("GREEN, BOB E", GREEN, Status.NEEDS_REVIEW),
        ("Robert Green, MD", GREEN, Status.NEEDS_REVIEW),
        ("Kimberly Hodge-Spears MD", HODGE_SPEARS, Status.NEEDS_REVIEW),
        ("Kimberly Spears", HODGE_SPEARS, Status.NEEDS_REVIEW),
        ("Sarah Smith, CPNP", SMITH, Status.NEEDS_REVIEW),
    ],
)
def test_registry_provider_by_name_only(
    display: str, person: int, status: Status
) -> None:
    result = match_activity(
        inbound("someone@gmail.com", display), registry_index(), SETTINGS
    )

    (link,) = result.links
    assert link.person_id == person
    assert link.status is status


@pytest.mark.parametrize("display", ["Bob", "Dr. Bob", "Bob Jones"])
def test_registry_common_first_name_alone(display: str) -> None:
    result = match_activity(
        inbound("someone@gmail.com", display), registry_index(), SETTINGS
    )

    assert result.links == ()


def test_registry_organisation_phone_in_location() -> None:
    activity = meeting(organizer(), subject="Call", location="(404) 778-5234")

    result = match_activity(activity, registry_index(), SETTINGS)

    assert linked_practices(result) == [EMORY_CLINIC]


@pytest.mark.parametrize(
    ("title", "practice_id"),
    [
        ("Lunch at The Emory Clinic", EMORY_CLINIC),
        ("Drop off brochures at Michael Randell's office", RANDELL_PC),
    ],
)
def test_registry_organisation_in_title(title: str, practice_id: int) -> None:
    result = match_activity(
        meeting(organizer(), subject=title), registry_index(), SETTINGS
    )

    assert linked_practices(result)[0] == practice_id
