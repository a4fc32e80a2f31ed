"""Replies inherit the links of their thread."""

from __future__ import annotations

from connectors.records import Flag, ParticipantRole
from matcher import DropReason, Link, Reason, Signal, Status, match_activity
from tests.matcher import workspace as ws
from tests.matcher.factories import (
    SETTINGS,
    STAFF,
    email,
    inbound,
    link_for,
    linked_practices,
    recipient,
    sender,
)

ADDRESS_REASON = Reason(
    Signal.ADDRESS, "from maria.lopez@riverside-fm.example is Maria L. Lopez, MD", 0.97
)
THREAD_LINK = Link(
    ws.RIVERSIDE, 0.97, Status.CONFIRMED, (ADDRESS_REASON,), person_id=ws.LOPEZ
)


def test_reply_without_evidence_inherits_link() -> None:
    activity = email(sender(STAFF), recipient("patient.family@gmail.com"))

    result = match_activity(activity, ws.index(), SETTINGS, [THREAD_LINK])

    (link,) = result.links
    assert link.practice_id == ws.RIVERSIDE
    assert link.confidence == 0.97
    assert link.status is Status.CONFIRMED
    assert link.person_id == ws.LOPEZ
    assert link.reasons[0] == ADDRESS_REASON
    assert link.reasons[1].signal is Signal.THREAD
    assert link.reasons[1].score == 0.97
    assert "Riverside Family Medicine" in link.reasons[1].detail


def test_reply_adds_another_practice() -> None:
    activity = email(
        sender(STAFF),
        recipient("maria.lopez@riverside-fm.example"),
        recipient("thao.nguyen@cedar-im.example", role=ParticipantRole.CC),
    )

    result = match_activity(activity, ws.index(), SETTINGS, [THREAD_LINK])

    assert sorted(linked_practices(result)) == [ws.RIVERSIDE, ws.CEDAR]
    assert link_for(result, ws.CEDAR).person_id == ws.NGUYEN


def test_reply_raises_review_link() -> None:
    review = Link(
        ws.RIVERSIDE,
        0.6,
        Status.NEEDS_REVIEW,
        (Reason(Signal.NAME, "from 'Maria Lopez' matches by name only", 0.6),),
    )
    activity = inbound("frontdesk@riverside-fm.example")

    result = match_activity(activity, ws.index(), SETTINGS, [review])

    link = link_for(result, ws.RIVERSIDE)
    assert link.confidence > 0.9
    assert link.status is Status.CONFIRMED
    assert {reason.signal for reason in link.reasons} == {
        Signal.THREAD,
        Signal.NAME,
        Signal.DOMAIN,
    }


def test_review_link_stays_in_review() -> None:
    review = Link(ws.CEDAR, 0.6, Status.NEEDS_REVIEW, ())

    result = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")), ws.index(), SETTINGS, [review]
    )

    (link,) = result.links
    assert link.confidence == 0.6
    assert link.status is Status.NEEDS_REVIEW


def test_link_a_person_confirmed_stays_confirmed() -> None:
    confirmed_by_hand = Link(ws.CEDAR, 0.6, Status.CONFIRMED, ())

    result = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")),
        ws.index(),
        SETTINGS,
        [confirmed_by_hand],
    )

    assert result.links[0].status is Status.CONFIRMED


def test_rejected_link_is_not_inherited() -> None:
    rejected = Link(ws.CEDAR, 0.9, Status.REJECTED, ())

    result = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")), ws.index(), SETTINGS, [rejected]
    )

    assert result.dropped is DropReason.NO_MATCH


def test_link_to_removed_practice_is_not_inherited() -> None:
    gone = Link(999, 0.97, Status.CONFIRMED, ())

    result = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")), ws.index(), SETTINGS, [gone]
    )

    assert result.dropped is DropReason.NO_MATCH


def test_thread_reasons_do_not_pile_up() -> None:
    first = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")),
        ws.index(),
        SETTINGS,
        [THREAD_LINK],
    )
    second = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")),
        ws.index(),
        SETTINGS,
        first.links,
    )

    reasons = second.links[0].reasons
    assert [reason.signal for reason in reasons].count(Signal.THREAD) == 1
    assert reasons == first.links[0].reasons


def test_strongest_thread_link_per_practice() -> None:
    weaker = Link(ws.RIVERSIDE, 0.6, Status.NEEDS_REVIEW, (), person_id=ws.CHEN)

    result = match_activity(
        email(sender(STAFF), recipient("x@gmail.com")),
        ws.index(),
        SETTINGS,
        [weaker, THREAD_LINK],
    )

    (link,) = result.links
    assert link.confidence == 0.97
    assert link.person_id == ws.LOPEZ


def test_new_person_beats_thread_person() -> None:
    activity = inbound("jortiz@riverside-fm.example", "Janet Ortiz")

    result = match_activity(activity, ws.index(), SETTINGS, [THREAD_LINK])

    assert result.links[0].person_id == ws.ORTIZ


def test_dropped_reply_does_not_inherit() -> None:
    activity = email(
        sender("maria.lopez@riverside-fm.example"),
        recipient(STAFF),
        flags=frozenset({Flag.AUTO_REPLY}),
    )

    result = match_activity(activity, ws.index(), SETTINGS, [THREAD_LINK])

    assert result.dropped is DropReason.AUTO_REPLY
    assert result.links == ()


def test_same_kind_evidence_does_not_confirm_review_link() -> None:
    # The thread was linked by a name alone; a reply under the same name
    # from another consumer address adds no independent evidence.
    review = Link(
        ws.RIVERSIDE,
        0.8,
        Status.NEEDS_REVIEW,
        (Reason(Signal.NAME, "from 'Maria Lopez' matches by name only", 0.8),),
        person_id=ws.LOPEZ,
    )
    activity = inbound("maria.l@yahoo.com", "Maria Lopez")

    result = match_activity(activity, ws.index(), SETTINGS, [review])

    link = link_for(result, ws.RIVERSIDE)
    assert link.status is Status.NEEDS_REVIEW
    assert link.confidence == 0.8
