"""Referral file rows: patient-data headers, values and finding the source."""

from __future__ import annotations

import datetime as dt

import pytest

from reminders.referral_rows import (
    DirectoryEntry,
    SourceDirectory,
    SourceQuery,
    parse_count,
    parse_date,
    patient_column,
    person_key,
)

TODAY = dt.date(2026, 12, 4)


@pytest.mark.parametrize(
    "header",
    [
        "Patient",
        "Patient Name",
        "patient_id",
        "Pt Name",
        "DOB",
        "Date of Birth",
        "BirthDate",
        "MRN",
        "Medical Record #",
        "SSN",
        "Social Security Number",
        "Diagnosis",
        "Dx Code",
        "ICD10",
        "Insurance Member ID",
        "Member ID",
        "Name",
        "Last Name",
        "Sex",
    ],
)
def test_patient_headers_recognised(header):
    assert patient_column(header) is not None


@pytest.mark.parametrize(
    "header",
    [
        "date",
        "Date Received",
        "practice",
        "Referring Provider",
        "provider_name",
        "NPI",
        "address",
        "count",
        "referral_id",
        "Referral Number",
    ],
)
def test_referral_headers_accepted(header):
    assert patient_column(header) is None


def test_patient_column_says_what_it_holds():
    assert patient_column("D.O.B.") == "a date of birth"
    assert patient_column("Insurance Member ID") == "insurance details"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Maria L. Lopez, MD", ("maria", "lopez")),
        ("Dr. Maria Lopez", ("maria", "lopez")),
        ("Lopez, Maria", ("maria", "lopez")),
        ("Lopez, Maria, MD", ("maria", "lopez")),
        ("Elizabeth Park, PA-C", ("elizabeth", "park")),
        ("Tomás Álvarez, CPNP", ("tomas", "alvarez")),
        ("Grace Kim-Whitfield, MD", ("grace", "whitfield")),
        ("Madonna", None),
    ],
)
def test_person_key(name, key):
    assert person_key(name) == key


def test_dates_iso_and_us():
    assert parse_date("2026-11-03", TODAY) == dt.date(2026, 11, 3)
    assert parse_date("11/3/2026", TODAY) == dt.date(2026, 11, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3 Nov 2026", "is not a date; write it as YYYY-MM-DD or M/D/YYYY"),
        ("2026-02-30", "is not a date"),
        ("13/1/2026", "is not a date"),
        ("2026-12-05", "is in the future"),
    ],
)
def test_bad_dates_rejected(text, message):
    with pytest.raises(ValueError, match=message):
        parse_date(text, TODAY)


def test_count_defaults_to_one():
    assert parse_count("") == 1
    assert parse_count("4") == 4
    for bad in ("0", "-1", "2.5", "many"):
        with pytest.raises(ValueError, match="is not a positive whole number"):
            parse_count(bad)


DIRECTORY = SourceDirectory(
    [
        DirectoryEntry(
            1,
            "practice",
            "Cedar Internal Medicine",
            None,
            None,
            None,
            "88 Cedar Bend Rd, Cedar Bend, IL 60593",
        ),
        DirectoryEntry(
            2,
            "provider",
            "David Kim, MD",
            1,
            "Cedar Internal Medicine",
            "1332724818",
            None,
        ),
        DirectoryEntry(
            3,
            "practice",
            "Ridgeway Orthopedic Associates",
            None,
            None,
            None,
            "2550 Ridgeway Ave, Suite 110, Millbrook Falls, IL 60591",
        ),
        DirectoryEntry(
            4,
            "provider",
            "David Kim, MD",
            3,
            "Ridgeway Orthopedic Associates",
            "1648905960",
            None,
        ),
        DirectoryEntry(
            5, "contact", "Melissa Grant", 1, "Cedar Internal Medicine", None, None
        ),
        DirectoryEntry(
            6,
            "provider",
            "Maria Elena Ruiz Soto, MD",
            1,
            "Cedar Internal Medicine",
            None,
            None,
        ),
    ]
)


@pytest.mark.parametrize(
    ("query", "source_id"),
    [
        (SourceQuery(npi="1648905960"), 4),
        (SourceQuery(provider="Dr. David Kim", practice="Cedar Internal Medicine"), 2),
        (SourceQuery(provider="Maria Ruiz Soto"), 6),
        (SourceQuery(practice="cedar internal medicine"), 1),
        (SourceQuery(source="Ridgeway Orthopedic Associates"), 3),
        (SourceQuery(source="Maria Elena Ruiz Soto, MD"), 6),
        (SourceQuery(address="2550 Ridgeway Avenue Suite 110"), 3),
        (SourceQuery(address="88 Cedar Bend Road, Cedar Bend, IL 60593"), 1),
    ],
)
def test_directory_resolves(query, source_id):
    assert DIRECTORY.resolve(query) == source_id


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            SourceQuery(),
            "names no referring source; fill in practice, provider, npi or address",
        ),
        (
            SourceQuery(provider="David Kim, MD"),
            r"matches 2 sources \(Cedar Internal Medicine, Ridgeway Orthopedic Associates\); add a practice or npi column",
        ),
        (
            SourceQuery(provider="Anil Patel"),
            "provider 'Anil Patel' matches no provider",
        ),
        (
            SourceQuery(provider="David Kim", practice="Nowhere Clinic"),
            "practice 'Nowhere Clinic' matches no practice",
        ),
        (SourceQuery(npi="1234567893"), "npi '1234567893' matches no referral source"),
        (
            SourceQuery(provider="Melissa Grant"),
            "a contact at Cedar Internal Medicine; name the referring provider or the practice",
        ),
        (
            SourceQuery(address="1 Main St"),
            "address '1 Main St' matches no practice's address",
        ),
    ],
)
def test_directory_errors_name_the_column(query, message):
    with pytest.raises(ValueError, match=message):
        DIRECTORY.resolve(query)
