"""Text folding, consumer mail domains, practice names, streets and phones."""

from __future__ import annotations

import pytest

from matcher import is_free_mail_domain
from matcher.cache import BoundedCache
from matcher.orgnames import (
    canonical_words,
    coverage_in_text,
    max_coverage,
    parse_org_name,
)
from matcher.phones import find_phone_numbers, normalize_phone_number
from matcher.streets import compare_street_addresses, find_street_addresses
from matcher.text import fold, is_same_or_subdomain


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Renée O’Brien", "renee obrien"),
        ("M.D., P.C.", "md pc"),
        ("Dr.Patel", "dr patel"),
        ("thao.nguyen", "thao nguyen"),
        ("  Lakeside   Ortho -- Conf. Rm ", "lakeside ortho conf rm"),
        ("Łukasz Żółć", "lukasz zolc"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("domain", "parent", "expected"),
    [
        ("lakeside-health.example", "lakeside-health.example", True),
        ("ortho.lakeside-health.example", "lakeside-health.example", True),
        ("notlakeside-health.example", "lakeside-health.example", False),
        ("lakeside-health.example.net", "lakeside-health.example", False),
    ],
)
def test_subdomain_check(domain: str, parent: str, expected: bool) -> None:
    assert is_same_or_subdomain(domain, parent) is expected


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "yahoo.com",
        "outlook.com",
        "hotmail.com",
        "icloud.com",
        "aol.com",
        "comcast.net",
        "nc.rr.com",
        "yahoo.co.uk",
        "hotmail.fr",
        "proton.me",
    ],
)
def test_free_mail_domains(domain: str) -> None:
    assert is_free_mail_domain(domain)


@pytest.mark.parametrize(
    "domain",
    ["riverside-fm.example", "lakeside-health.example", "outlook-health.example"],
)
def test_organisation_domains(domain: str) -> None:
    assert not is_free_mail_domain(domain)


def test_practice_name_canonical_words() -> None:
    assert canonical_words("Lakeside Orthopaedics, P.C.") == ("lakeside", "ortho")
    assert canonical_words("Riverside FM") == ("riverside", "family", "med")
    assert canonical_words("St. Mary's Pediatrics") == ("st", "mary", "peds")
    assert canonical_words("Saint Marys Peds") == ("st", "mary", "peds")


@pytest.mark.parametrize(
    ("name", "text", "low", "high"),
    [
        ("Lakeside Orthopedics", "Drop off brochures - Lakeside Ortho", 1.0, 1.0),
        ("Lakeside Orthopedic Associates", "Lunch - Lakeside Ortho", 0.9, 0.92),
        ("Lakeside Family Medicine", "Drop off brochures - Lakeside Ortho", 0.0, 0.5),
        ("Riverside Family Medicine", "Lunch at Riverside Family Dental", 0.7, 0.75),
        ("Riverside Family Medicine", "Riverside FM lunch", 1.0, 1.0),
        ("Lakeside Orthopedics", "Lakeside Grill near the Sports Ortho shop", 0.0, 0.0),
        ("Lakeside Orthopedics", "Lakesde Orthopedics visit", 1.0, 1.0),
        ("Family Medicine Associates", "Family medicine journal club", 0.0, 0.0),
        ("Family Medicine Associates", "Visit Family Medicine Associates", 1.0, 1.0),
        ("Michael D. Randell, M.D., P.C.", "Visit Michael Randell's office", 1.0, 1.0),
    ],
)
def test_practice_name_coverage(name: str, text: str, low: float, high: float) -> None:
    org = parse_org_name(name)
    assert org is not None

    coverage = coverage_in_text(org, canonical_words(text))

    assert low <= coverage <= high


KNOWN_STREET = "123 Main St. Ste 200, Springfield, IL 62701"


@pytest.mark.parametrize(
    ("written", "score"),
    [
        ("123 Main Street, Suite 200", 1.0),
        ("123 Main St #200", 1.0),
        ("Lakeside Ortho - 123 Main St - Suite 200", 1.0),
        ("123 MAIN STREET", 0.85),
        ("Lakeside Ortho, 123 Main", 0.95 * 0.85),
        ("123 Main Street Suite 310", 0.0),
        ("123 Main Avenue, Suite 200", 0.0),
        ("125 Main St", 0.0),
        ("Springfield IL 62701", None),
    ],
)
def test_street_address_comparison(written: str, score: float | None) -> None:
    (known,) = find_street_addresses(KNOWN_STREET)

    found = find_street_addresses(written)

    if score is None:
        assert found == ()
    else:
        assert len(found) == 1
        assert compare_street_addresses(found[0], known) == pytest.approx(score)


@pytest.mark.parametrize(
    ("written", "known"),
    [
        ("500 West Fifth Avenue NW", "500 W. 5th Ave. N.W."),
        ("12 Saint Mary's Road", "12 St Marys Rd"),
        ("44 First Street, 2nd Floor", "44 1st St"),
        ("9 North Medical Parkway Building 3", "9 N Medical Pkwy"),
    ],
)
def test_street_address_spellings(written: str, known: str) -> None:
    (written_address,) = find_street_addresses(written)
    (known_address,) = find_street_addresses(known)

    assert compare_street_addresses(written_address, known_address) >= 0.85


def test_phone_numbers_in_text() -> None:
    text = "Call (404) 778-5234 or 404.778.5235; zoom 987 6543 2101"

    assert find_phone_numbers(text) == ("+14047785234", "+14047785235")


@pytest.mark.parametrize("text", ["Lunch", "https://zoom.us/j/98765432101", "555-0100"])
def test_text_without_phone_numbers(text: str) -> None:
    assert find_phone_numbers(text) == ()


def test_phone_normalization() -> None:
    assert normalize_phone_number("404-778-5234") == "+14047785234"
    assert normalize_phone_number("+1 (404) 778 5234") == "+14047785234"
    assert normalize_phone_number("not a number") is None


@pytest.mark.parametrize(
    ("name", "text", "low", "high"),
    [
        ("Lakedale Neurology", "Lakedale Neuro in-service", 1.0, 1.0),
        ("Craneford Spine Center", "Drop off brochures - Craneford Spine", 0.85, 0.86),
        ("Sunvale Pain Management, LLC", "Visit Sunvale Pain", 0.9, 0.92),
        (
            "Lakeside Orthopedics",
            "Demo - Lakeside Orthopedics Medical Supply",
            0.0,
            0.0,
        ),
        ("Cedar Health Partners", "Call with Cedar Health Plan rep", 0.0, 0.0),
    ],
)
def test_practice_name_short_forms(
    name: str, text: str, low: float, high: float
) -> None:
    org = parse_org_name(name)
    assert org is not None

    coverage = coverage_in_text(org, canonical_words(text))

    assert low <= coverage <= high
    assert max_coverage(org, frozenset(canonical_words(text))) >= coverage


@pytest.mark.parametrize(
    "text", ["3228 Fifth Pkwy, Springfield, IL 62778", "Room 12, 5 Main St 60601"]
)
def test_address_digits_are_no_phone(text: str) -> None:
    assert find_phone_numbers(text) == ()


def test_bounded_cache_keeps_recent_entries() -> None:
    cache: BoundedCache[int, str] = BoundedCache(4)

    for key in range(10):
        cache.put(key, str(key))
    cache.get(8)

    assert len(cache) <= 4
    assert cache.get(9) == "9"
    assert cache.get(8) == "8"
    assert cache.get(0) is None


def test_bounded_cache_rejects_tiny_size() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        BoundedCache(1)
