"""Evidence that fits several practices: same names, shared domains."""

from __future__ import annotations

from matcher import DropReason, SourceIndex, Status, match_activity
from tests.matcher import workspace as ws
from tests.matcher.factories import (
    SETTINGS,
    inbound,
    link_for,
    linked_practices,
    practice,
    provider,
)


def test_same_name_reviews_both_practices() -> None:
    result = match_activity(
        inbound("anilp@gmail.com", "Anil Patel"), ws.index(), SETTINGS
    )

    assert sorted(linked_practices(result)) == [ws.CEDAR, ws.LAKESIDE_ORTHO]
    for link in result.links:
        assert link.status is Status.NEEDS_REVIEW
        assert "one of 2 practices" in link.reasons[0].detail
    assert link_for(result, ws.CEDAR).person_id == ws.PATEL_CEDAR
    assert link_for(result, ws.LAKESIDE_ORTHO).person_id == ws.PATEL_LAKESIDE


def test_same_name_credential_reviews_both() -> None:
    result = match_activity(
        inbound("anilp@gmail.com", "Dr. Anil Patel, MD"), ws.index(), SETTINGS
    )

    assert len(result.links) == 2
    assert all(link.status is Status.NEEDS_REVIEW for link in result.links)


def test_same_name_domain_decides() -> None:
    result = match_activity(
        inbound("apatel@cedar-im.example", "Anil Patel"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.practice_id == ws.CEDAR
    assert link.person_id == ws.PATEL_CEDAR
    assert link.status is Status.CONFIRMED


def test_same_name_address_decides() -> None:
    records = [r for r in ws.records() if r.id != ws.PATEL_LAKESIDE]
    records.append(
        provider(
            99, "Anil Patel, MD", ws.LAKESIDE_ORTHO, emails=("anil.patel@gmail.com",)
        )
    )
    index = SourceIndex(records)

    result = match_activity(
        inbound("anil.patel@gmail.com", "Anil Patel"), index, SETTINGS
    )

    assert linked_practices(result) == [ws.LAKESIDE_ORTHO]
    assert result.links[0].status is Status.CONFIRMED
    assert result.links[0].person_id == 99


def test_shared_domain_alone_confirms_none() -> None:
    result = match_activity(
        inbound("billing@lakeside-health.example", "Billing Office"),
        ws.index(),
        SETTINGS,
    )

    assert sorted(linked_practices(result)) == [ws.LAKESIDE_ORTHO, ws.LAKESIDE_FM]
    for link in result.links:
        assert link.status is Status.NEEDS_REVIEW
        assert link.confidence < SETTINGS.confirm_threshold


def test_shared_domain_person_decides() -> None:
    result = match_activity(
        inbound("skim@lakeside-health.example", "Sarah Kim"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.practice_id == ws.LAKESIDE_FM
    assert link.person_id == ws.KIM
    assert link.status is Status.CONFIRMED


def test_shared_subdomain_alone_confirms_none() -> None:
    result = match_activity(
        inbound("scheduling@ortho.lakeside-health.example"), ws.index(), SETTINGS
    )

    assert all(link.status is Status.NEEDS_REVIEW for link in result.links)


def test_domain_of_many_practices_says_nothing() -> None:
    index = SourceIndex(
        [
            practice(
                i, f"Metro Health Clinic {name}", domains=("metro-health.example",)
            )
            for i, name in enumerate(["North", "South", "East", "West"], start=1)
        ]
    )

    result = match_activity(inbound("billing@metro-health.example"), index, SETTINGS)

    assert result.dropped is DropReason.NO_MATCH


def test_address_listed_on_two_practices() -> None:
    shared = "referrals@central-fax.example"
    index = SourceIndex(
        [
            practice(1, "Hilltop Pediatrics", emails=(shared,)),
            practice(2, "Valley Cardiology", emails=(shared,)),
        ]
    )

    result = match_activity(inbound(shared), index, SETTINGS)

    assert sorted(linked_practices(result)) == [1, 2]
    assert all(link.status is Status.NEEDS_REVIEW for link in result.links)


def test_same_name_at_one_practice_names_no_person() -> None:
    index = SourceIndex(
        [
            practice(1, "Hilltop Pediatrics", domains=("hilltop-peds.example",)),
            provider(2, "James Carter, MD", 1),
            provider(3, "Jane Carter, MD", 1),
        ]
    )

    result = match_activity(
        inbound("carter@hilltop-peds.example", "Dr. Carter"), index, SETTINGS
    )

    (link,) = result.links
    assert link.status is Status.CONFIRMED
    assert link.person_id is None
