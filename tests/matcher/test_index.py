"""SourceIndex lookups."""

from __future__ import annotations

import logging

import pytest

from matcher import SourceIndex, parse_person_name
from tests.matcher.factories import contact, practice, provider


def build() -> SourceIndex:
    return SourceIndex(
        [
            practice(
                1,
                "Riverside Family Medicine",
                domains=("riverside-fm.example", "gmail.com"),
                emails=("referrals@riverside-fm.example",),
                phones=("+13125550101", "(404) 778-5234"),
                address="12 River St, Suite 4, Springfield",
            ),
            provider(
                2, "Maria L. Lopez, MD", 1, emails=("Maria.Lopez@Riverside-FM.example",)
            ),
            contact(3, "Janet Ortiz", 1, emails=("janet@riverside-fm.example",)),
            practice(10, "Lakeside Orthopedics", domains=("lakeside-health.example",)),
            practice(
                11, "Lakeside Family Medicine", domains=("lakeside-health.example",)
            ),
            practice(12, "Lakeside Spine", domains=("spine.lakeside-health.example",)),
            provider(13, "Anil Patel, MD", 10),
            provider(14, "Anil Patel, MD", 11),
        ]
    )


def test_index_size() -> None:
    index = build()

    assert len(index) == 8
    assert 13 in index
    assert 99 not in index


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ValueError, match="source id 1 appears twice"):
        SourceIndex([practice(1, "A Clinic"), practice(1, "B Clinic")])


def test_person_without_practice_skipped(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="matcher.index"):
        index = SourceIndex([practice(1, "A Clinic"), provider(2, "Ann Lee", 99)])

    assert 2 not in index
    assert "skipped sources whose practice is not in the index (1)" in caplog.text
    assert "2 (practice 99)" in caplog.text


def test_address_lookup_is_case_folded() -> None:
    index = build()

    (source,) = index.sources_with_address("maria.lopez@riverside-fm.example")

    assert source.id == 2
    assert index.sources_with_address("maria.lopez@elsewhere.example") == ()


def test_practice_address_lookup() -> None:
    (source,) = build().sources_with_address("referrals@riverside-fm.example")

    assert source.id == 1


def test_domain_lookup() -> None:
    found = build().practices_with_domain("riverside-fm.example")

    assert found is not None
    assert found.domain == "riverside-fm.example"
    assert [p.id for p in found.practices] == [1]


def test_subdomain_finds_parent_domain() -> None:
    found = build().practices_with_domain("ortho.lakeside-health.example")

    assert found is not None
    assert found.domain == "lakeside-health.example"
    assert [p.id for p in found.practices] == [10, 11]


def test_most_specific_domain_wins() -> None:
    found = build().practices_with_domain("mail.spine.lakeside-health.example")

    assert found is not None
    assert [p.id for p in found.practices] == [12]


@pytest.mark.parametrize(
    "domain",
    ["notriverside-fm.example", "riverside-fm.example.net", "example", "gmail.com"],
)
def test_domain_lookup_misses(domain: str) -> None:
    assert build().practices_with_domain(domain) is None


def test_phone_lookup_in_e164() -> None:
    index = build()

    assert [s.id for s in index.sources_with_phone("+14047785234")] == [1]
    assert [s.id for s in index.sources_with_phone("+13125550101")] == [1]


def test_people_of_practice() -> None:
    index = build()

    assert [p.id for p in index.people_at(1)] == [2, 3]
    assert [p.id for p in index.providers_at(1)] == [2]
    assert index.practice_of(index.get(3)).id == 1


def test_people_named_by_blocking() -> None:
    name = parse_person_name("Maria Lopes")
    assert name is not None

    matches = build().people_named(name, min_similarity=0.7)

    assert [m.person.id for m in matches] == [2]


def test_people_named_within_practices() -> None:
    name = parse_person_name("Anil Patel")
    assert name is not None
    index = build()

    everywhere = index.people_named(name, min_similarity=0.9)
    at_ortho = index.people_named(name, min_similarity=0.9, practice_ids=[10])

    assert sorted(m.person.id for m in everywhere) == [13, 14]
    assert [m.person.id for m in at_ortho] == [13]


def test_name_prefilter() -> None:
    index = build()

    assert index.may_name_someone("Patel, Anil")
    assert index.may_name_someone("Maria Lopes")
    assert not index.may_name_someone("Jordan Whitfield")


def test_people_with_surname() -> None:
    assert sorted(p.id for p in build().people_with_surname("patel")) == [13, 14]


def test_practices_named_in_text() -> None:
    mentions = build().practices_named_in("Lunch at Lakeside Ortho", min_coverage=0.75)

    assert [m.practice.id for m in mentions] == [10]
    assert mentions[0].coverage == 1.0


def test_sources_at_street_address() -> None:
    matches = build().sources_at_street_address("12 River Street, Ste 4")

    assert [(m.source.id, m.score) for m in matches] == [(1, 1.0)]
