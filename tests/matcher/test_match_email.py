"""match_activity on emails: address, domain and name signals."""

from __future__ import annotations

import dataclasses

from connectors.records import Flag, ParticipantRole
from matcher import DropReason, Signal, SourceIndex, Status, match_activity
from tests.matcher import workspace as ws
from tests.matcher.factories import (
    OTHER_STAFF,
    SETTINGS,
    STAFF,
    email,
    inbound,
    link_for,
    linked_practices,
    practice,
    recipient,
    sender,
)


def test_provider_address_confirms() -> None:
    result = match_activity(
        inbound("maria.lopez@riverside-fm.example", "Maria Lopez"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert result.dropped is None
    assert link.practice_id == ws.RIVERSIDE
    assert link.person_id == ws.LOPEZ
    assert link.status is Status.CONFIRMED
    assert link.confidence >= 0.95
    assert link.reasons[0].signal is Signal.ADDRESS
    assert link.reasons[0].detail == (
        "from maria.lopez@riverside-fm.example is Maria L. Lopez, MD"
    )


def test_practice_address_confirms_without_person() -> None:
    result = match_activity(
        inbound("referrals@riverside-fm.example"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.practice_id == ws.RIVERSIDE
    assert link.status is Status.CONFIRMED
    assert link.person_id is None


def test_contact_links_practice_and_providers() -> None:
    result = match_activity(
        inbound("jortiz@riverside-fm.example", "Janet Ortiz"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.practice_id == ws.RIVERSIDE
    assert link.person_id == ws.ORTIZ
    assert link.also_person_ids == (ws.LOPEZ, ws.CHEN, ws.OBRIEN)
    assert link.status is Status.CONFIRMED


def test_practice_domain_confirms_practice_only() -> None:
    result = match_activity(
        inbound("frontdesk@riverside-fm.example", "Front Desk"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.practice_id == ws.RIVERSIDE
    assert link.person_id is None
    assert link.status is Status.CONFIRMED
    assert [reason.signal for reason in link.reasons] == [Signal.DOMAIN]


def test_subdomain_of_practice_domain() -> None:
    result = match_activity(
        inbound("frontdesk@mail.riverside-fm.example"), ws.index(), SETTINGS
    )

    link = link_for(result, ws.RIVERSIDE)
    assert link.status is Status.CONFIRMED
    assert "a subdomain of riverside-fm.example" in link.reasons[0].detail


def test_name_at_practice_domain_picks_person() -> None:
    result = match_activity(
        inbound("bchen@riverside-fm.example", "Bob Chen"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.person_id == ws.CHEN
    assert link.status is Status.CONFIRMED
    assert {reason.signal for reason in link.reasons} == {Signal.DOMAIN, Signal.NAME}


def test_accented_name_matches_plain_spelling() -> None:
    result = match_activity(
        inbound("renee.obrien@riverside-fm.example", "Renée O’Brien"),
        ws.index(),
        SETTINGS,
    )

    assert link_for(result, ws.RIVERSIDE).person_id == ws.OBRIEN


def test_comment_name_at_domain_picks_person() -> None:
    activity = inbound(
        "dana.wu@northgate-clinic.example", "Dana Wu, MD", name_from_comment=True
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.practice_id == ws.NORTHGATE
    assert link.person_id == ws.WU
    assert "'Dana Wu, MD' (weak)" in link.reasons[1].detail


def test_group_tag_name_at_domain_picks_person() -> None:
    activity = inbound("apatel@cedar-im.example", "Patel, Anil:REFERRALS")

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.person_id == ws.PATEL_CEDAR


def test_dotted_local_part_picks_person() -> None:
    result = match_activity(
        inbound("robert.chen@riverside-fm.example"), ws.index(), SETTINGS
    )

    assert link_for(result, ws.RIVERSIDE).person_id == ws.CHEN


def test_name_of_another_practice_at_domain_is_ignored() -> None:
    result = match_activity(
        inbound("temp@riverside-fm.example", "Thao Nguyen"), ws.index(), SETTINGS
    )

    assert linked_practices(result) == [ws.RIVERSIDE]
    assert result.links[0].person_id is None


def test_free_mail_display_name_goes_to_review() -> None:
    result = match_activity(
        inbound("mlopez1970@gmail.com", "Maria Lopez"), ws.index(), SETTINGS
    )

    (link,) = result.links
    assert link.practice_id == ws.RIVERSIDE
    assert link.person_id == ws.LOPEZ
    assert link.status is Status.NEEDS_REVIEW
    assert link.reasons[0].signal is Signal.NAME
    assert "by name only" in link.reasons[0].detail


def test_clinician_display_name_from_free_mail_reviews() -> None:
    # Another clinician of the same name signs the same way, so a name alone
    # never confirms, even with "Dr." and a middle initial.
    result = match_activity(
        inbound("mlopez1970@gmail.com", "Dr. Maria L. Lopez"), ws.index(), SETTINGS
    )

    link = link_for(result, ws.RIVERSIDE)
    assert link.status is Status.NEEDS_REVIEW
    assert link.person_id == ws.LOPEZ


def test_comment_name_weighs_below_display_name() -> None:
    display = match_activity(
        inbound("mlopez1970@gmail.com", "Maria Lopez, MD"), ws.index(), SETTINGS
    )
    comment = match_activity(
        inbound("mlopez1970@gmail.com", "Maria Lopez, MD", name_from_comment=True),
        ws.index(),
        SETTINGS,
    )

    assert comment.links[0].confidence < display.links[0].confidence
    assert comment.links[0].status is Status.NEEDS_REVIEW
    assert "(weak)" in comment.links[0].reasons[0].detail


def test_nickname_from_free_mail_goes_to_review() -> None:
    result = match_activity(
        inbound("bob.c@yahoo.com", "Bob Chen"), ws.index(), SETTINGS
    )

    link = link_for(result, ws.RIVERSIDE)
    assert link.person_id == ws.CHEN
    assert link.status is Status.NEEDS_REVIEW


def test_surname_alone_from_free_mail_is_no_match() -> None:
    result = match_activity(inbound("x@gmail.com", "Dr. Lopez"), ws.index(), SETTINGS)

    assert result.links == ()
    assert result.dropped is DropReason.NO_MATCH


def test_listed_free_mail_domain_ignored() -> None:
    index = SourceIndex([practice(1, "Hilltop Pediatrics", domains=("gmail.com",))])

    result = match_activity(
        inbound("anyone@gmail.com", "Jordan Blake"), index, SETTINGS
    )

    assert result.dropped is DropReason.NO_MATCH


def test_unknown_sender_is_no_match() -> None:
    result = match_activity(
        inbound("jordan@unrelated.example", "Jordan Blake"), ws.index(), SETTINGS
    )

    assert result.dropped is DropReason.NO_MATCH


def test_look_alike_domains_do_not_match() -> None:
    for address in [
        "info@riverside-fm.example.net",
        "info@riversidefm.example",
        "info@notriverside-fm.example",
        "info@riverside-fm-billing.example",
    ]:
        result = match_activity(inbound(address), ws.index(), SETTINGS)

        assert result.dropped is DropReason.NO_MATCH, address


def test_look_alike_organisation_name_does_not_match() -> None:
    result = match_activity(
        inbound("frontdesk@riversidedental.example", "Riverside Family Dental"),
        ws.index(),
        SETTINGS,
    )

    assert result.dropped is DropReason.NO_MATCH


def test_staff_and_own_domain_are_not_evidence() -> None:
    index = SourceIndex(
        [
            *ws.records(),
            practice(
                90, "Brookside Physical Therapy", domains=("brookside-pt.example",)
            ),
        ]
    )
    activity = email(
        sender(STAFF, "Sam Ortiz"),
        recipient("maria.lopez@riverside-fm.example"),
        recipient(OTHER_STAFF, role=ParticipantRole.CC),
        recipient("billing@brookside-pt.example", role=ParticipantRole.CC),
    )

    result = match_activity(activity, index, SETTINGS)

    assert linked_practices(result) == [ws.RIVERSIDE]


def test_staff_name_is_not_evidence() -> None:
    # A staff address is never evidence, even under a contact's name.
    activity = email(sender(STAFF, "Janet Ortiz"), recipient("someone@gmail.com"))

    result = match_activity(activity, ws.index(), SETTINGS)

    assert result.dropped is DropReason.NO_MATCH


def test_one_email_two_practices() -> None:
    activity = email(
        sender(STAFF),
        recipient("maria.lopez@riverside-fm.example"),
        recipient("frontdesk@cedar-im.example", role=ParticipantRole.CC),
    )

    result = match_activity(activity, ws.index(), SETTINGS)

    assert linked_practices(result) == [ws.RIVERSIDE, ws.CEDAR]
    assert result.links[0].confidence > result.links[1].confidence
    assert all(link.status is Status.CONFIRMED for link in result.links)


def test_two_people_same_practice_one_link() -> None:
    activity = email(
        sender("jortiz@riverside-fm.example", "Janet Ortiz"),
        recipient(STAFF),
        recipient("maria.lopez@riverside-fm.example", role=ParticipantRole.CC),
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert link.person_id == ws.ORTIZ
    assert link.also_person_ids == (ws.LOPEZ, ws.CHEN, ws.OBRIEN)


def test_repeated_recipient_counts_once() -> None:
    activity = email(
        sender("maria.lopez@riverside-fm.example"),
        recipient(STAFF),
        recipient("maria.lopez@riverside-fm.example", role=ParticipantRole.REPLY_TO),
    )

    (link,) = match_activity(activity, ws.index(), SETTINGS).links

    assert len(link.reasons) == 1
    assert link.reasons[0].detail.startswith("from ")


def test_phone_number_in_subject() -> None:
    activity = email(
        sender("fax@efax-relay.example"),
        recipient(STAFF),
        subject="Fax from (404) 778-5234, 3 pages",
    )

    result = match_activity(activity, ws.index(), SETTINGS)

    link = link_for(result, ws.RIVERSIDE)
    assert link.status is Status.NEEDS_REVIEW
    assert link.reasons[0].signal is Signal.PHONE
    assert ws.RIVERSIDE_PHONE in link.reasons[0].detail


def test_dropped_email_has_no_links() -> None:
    activity = email(
        sender("maria.lopez@riverside-fm.example"),
        recipient(STAFF),
        flags=frozenset({Flag.AUTO_REPLY}),
    )

    result = match_activity(activity, ws.index(), SETTINGS)

    assert result.dropped is DropReason.AUTO_REPLY
    assert result.links == ()


def test_thresholds_come_from_settings() -> None:
    strict = dataclasses.replace(
        SETTINGS, confirm_threshold=0.99, review_threshold=0.95
    )

    result = match_activity(
        inbound("frontdesk@riverside-fm.example"), ws.index(), strict
    )

    assert result.dropped is DropReason.NO_MATCH


def test_typo_in_first_letters_at_domain_picks_person() -> None:
    result = match_activity(
        inbound("mlopez2@riverside-fm.example", "Maria Lpoez"), ws.index(), SETTINGS
    )

    assert link_for(result, ws.RIVERSIDE).person_id == ws.LOPEZ


def test_bar_organisation_in_name_at_domain() -> None:
    result = match_activity(
        inbound("dana@northgate-clinic.example", "Dana Wu | Northgate Clinic"),
        ws.index(),
        SETTINGS,
    )

    assert link_for(result, ws.NORTHGATE).person_id == ws.WU


def test_repeated_participant_gives_same_result() -> None:
    # The second match reads the index's cache.
    first = match_activity(
        inbound("bchen@riverside-fm.example", "Bob Chen"), ws.index(), SETTINGS
    )
    second = match_activity(
        inbound("bchen@riverside-fm.example", "Bob Chen"), ws.index(), SETTINGS
    )

    assert first == second
