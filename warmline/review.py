"""Review decisions: confirm, reject or reassign touchpoints, and what they teach.

A decision sets Touchpoint.status and, when the decider is a staff member,
Touchpoint.decided_by, which the sync pipeline respects: it never changes a
touchpoint whose decided_by is set.  Every decision is also recorded in
touchpoint_decision, because a web user who is not a staff member, or a
command-line user, leaves decided_by empty, and in the audit log.

Decisions teach the matcher:

- A confirmation adds what the matcher found by name alone to the source.
  The correspondent's address goes to the person it named.  The address's
  domain goes to the practice when the domain spells the practice's name
  and no source lists it yet.  Other activities of a learned address
  that still wait for review are then matched again.
- A rejection records exclusions: each correspondent (address, meeting
  title or location) whose evidence pointed at the practice is not proposed
  for that practice again.  An address the practice lists itself is never
  excluded, because the rejection concerns this activity, not the address.

The site and the command line both call these functions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from connectors.records import ActivityKind
from matcher import (
    SourceIndex,
    compare_names,
    exclusion_key,
    is_automated_address,
    is_free_mail_domain,
    parse_person_name,
)
from matcher.evidence import Evidence
from matcher.filters import is_internal_address
from matcher.match import meeting_text_evidence
from matcher.records import MatchSettings, Signal
from matcher.signals import participant_evidence
from matcher.text import domain_of
from warmline import audit, last_touch, touch_counts
from warmline.matching import matcher_inputs, prepared_activity, rematch_in_session
from warmline.models import (
    Activity,
    ActivityParticipant,
    ReferralSource,
    SourceKind,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.review_models import MatchExclusion
from warmline.web_models import DecisionAction, TouchpointDecision

STATUS_FOR_ACTION = {
    DecisionAction.CONFIRM: TouchpointStatus.CONFIRMED,
    DecisionAction.REJECT: TouchpointStatus.REJECTED,
}
MAX_BULK = 500

# How much of a practice's name (letters only) the first label of a domain
# must spell before a confirmation adds the domain to the practice.
DOMAIN_NAME_SIMILARITY = 85.0
_NOT_LETTERS = re.compile(r"[^a-z]+")


@dataclasses.dataclass(frozen=True)
class Actor:
    """The decider: a web user or a command-line user, and their staff member.

    `label` is the audit log's actor: "web:<user id>" or "cli:<system user>".
    """

    workspace_id: int
    user_id: int | None
    staff_member_id: int | None
    label: str = ""

    @property
    def audit_label(self) -> str:
        if self.label:
            return self.label
        return f"web:{self.user_id}" if self.user_id is not None else audit.cli_actor()


class NotFoundError(LookupError):
    """An id names nothing in the actor's workspace."""


class DecisionError(ValueError):
    """A decision's target exists but cannot take this decision."""


@dataclasses.dataclass(frozen=True)
class Lesson:
    """One thing a decision taught the matcher, in words for the decider."""

    kind: str  # "address", "domain", "alias" or "exclusion"
    source_id: int
    source_name: str
    value: str

    def __str__(self) -> str:
        if self.kind == "exclusion":
            return f"{self.value} will not be linked to {self.source_name} again"
        return f"{self.kind} {self.value} added to {self.source_name}"


@dataclasses.dataclass(frozen=True)
class PersonChoice:
    id: int
    name: str
    title: str | None


@dataclasses.dataclass(frozen=True)
class PracticeChoice:
    id: int
    name: str
    people: list[PersonChoice]


@dataclasses.dataclass
class Outcome:
    """The touchpoints a call decided and what the matcher learned."""

    touchpoints: list[Touchpoint]
    lessons: list[Lesson] = dataclasses.field(default_factory=list)
    rematched: int = 0


def review_count(session: Session, workspace_id: int) -> int:
    # count(*) rather than count(id): PostgreSQL then counts from the index
    # on (workspace_id, status) alone, 2 ms instead of 20 on 22,000 rows.
    count = session.scalar(
        select(func.count())
        .select_from(Touchpoint)
        .where(
            Touchpoint.workspace_id == workspace_id,
            Touchpoint.status == TouchpointStatus.NEEDS_REVIEW,
        )
    )
    return count or 0


def _touchpoints(
    session: Session, actor: Actor, touchpoint_ids: Sequence[int]
) -> list[Touchpoint]:
    """Load the touchpoints, all of them in the actor's workspace, or raise.

    On PostgreSQL their activities are locked first, so the touchpoints are
    read as the last transaction to change them left them.
    """
    wanted = set(touchpoint_ids)
    in_workspace = (
        Touchpoint.workspace_id == actor.workspace_id,
        Touchpoint.id.in_(wanted),
    )
    # Activities before their touchpoints, the order a sync locks them in.
    activities = session.scalars(select(Touchpoint.activity_id).where(*in_workspace))
    touch_counts.lock_activities(session, activities)
    found = list(
        session.scalars(
            select(Touchpoint)
            .where(*in_workspace)
            .execution_options(populate_existing=True)
        )
    )
    if len(found) != len(wanted):
        missing = sorted(wanted - {touchpoint.id for touchpoint in found})
        raise NotFoundError(f"no touchpoint with id {missing[0]}")
    return sorted(found, key=lambda touchpoint: touchpoint.id)


def _record(
    session: Session,
    actor: Actor,
    touchpoint: Touchpoint,
    action: DecisionAction,
    previous: TouchpointStatus | None,
    now: dt.datetime,
    reassigned_to: Touchpoint | None = None,
) -> None:
    touchpoint.decided_by = actor.staff_member_id
    session.add(
        TouchpointDecision(
            workspace_id=actor.workspace_id,
            touchpoint_id=touchpoint.id,
            user_id=actor.user_id,
            staff_member_id=actor.staff_member_id,
            action=action,
            previous_status=previous,
            status=touchpoint.status,
            reassigned_to_id=reassigned_to.id if reassigned_to else None,
            decided_at=now,
        )
    )
    details: dict[str, object] = {
        "practice_id": touchpoint.practice_id,
        "status": touchpoint.status.value,
    }
    if reassigned_to is not None:
        details["reassigned_to"] = reassigned_to.id
    audit.record(
        session,
        actor.audit_label,
        f"review.{action.value}",
        f"touchpoint:{touchpoint.id}",
        details,
        workspace=session.get_one(Workspace, actor.workspace_id),
    )


def decide(
    session: Session,
    actor: Actor,
    touchpoint_ids: Sequence[int],
    action: DecisionAction,
    now: dt.datetime,
) -> Outcome:
    """Confirm or reject every touchpoint named; none changes if one is missing."""
    if action not in STATUS_FOR_ACTION:
        raise DecisionError(f"{action.value} is not confirm or reject")
    if len(set(touchpoint_ids)) > MAX_BULK:
        raise DecisionError(f"at most {MAX_BULK} touchpoints can be decided at once")
    touchpoints = _touchpoints(session, actor, touchpoint_ids)
    for touchpoint in touchpoints:
        previous = touchpoint.status
        touchpoint.status = STATUS_FOR_ACTION[action]
        _record(session, actor, touchpoint, action, previous, now)
    session.flush()
    last_touch.refresh_last_touches(session, last_touch.touchpoint_sources(touchpoints))
    touch_counts.refresh_touch_counts(session, [t.activity_id for t in touchpoints])
    teacher = _Teacher(session, actor)
    if action is DecisionAction.CONFIRM:
        lessons = teacher.learn_from_confirmations(touchpoints)
    else:
        lessons = teacher.exclude(touchpoints)
    # NOTE: the rematch of what was learned locks other activities after
    # this one's touchpoints and sources, against the order that
    # touch_counts.lock_activities describes.  So a sync of one of those
    # activities may still deadlock with it, and PostgreSQL aborts one.
    # The site and the command line run an aborted decision again
    # (warmline.db.retrying).
    return Outcome(touchpoints, lessons, teacher.rematch_learned(lessons))


def _source(
    session: Session, actor: Actor, source_id: int, what: str
) -> ReferralSource:
    source = session.scalar(
        select(ReferralSource).where(
            ReferralSource.workspace_id == actor.workspace_id,
            ReferralSource.id == source_id,
        )
    )
    if source is None:
        raise NotFoundError(f"no {what} with id {source_id}")
    return source


def _target(
    session: Session, actor: Actor, practice_id: int, person_id: int | None
) -> tuple[ReferralSource, ReferralSource | None]:
    practice = _source(session, actor, practice_id, "practice")
    if practice.kind is not SourceKind.PRACTICE:
        raise DecisionError(
            f"{practice.name} is a {practice.kind.value}; choose a practice"
        )
    if person_id is None:
        return practice, None
    person = _source(session, actor, person_id, "person")
    if person.practice_id != practice.id:
        raise DecisionError(f"{person.name} does not work at {practice.name}")
    return practice, person


def _set_person(touchpoint: Touchpoint, person: ReferralSource | None) -> None:
    touchpoint.person_id = person.id if person else None
    kept = [row for row in touchpoint.people if person and row.person_id == person.id]
    if person is not None and not kept:
        kept = [TouchpointPerson(person_id=person.id, direct=True)]
    for row in kept:
        row.direct = True
    touchpoint.people = kept


def reassign(
    session: Session,
    actor: Actor,
    touchpoint_id: int,
    practice_id: int,
    person_id: int | None,
    now: dt.datetime,
) -> Outcome:
    """Link the touchpoint's activity to another practice or person instead.

    Another practice: the original touchpoint is rejected and the activity's
    touchpoint for the new practice (created when missing) is confirmed, so
    that a later sync, which keeps both because both are decided, cannot
    bring the wrong link back.  The outcome's touchpoint is the confirmed one.
    """
    (original,) = _touchpoints(session, actor, [touchpoint_id])
    practice, person = _target(session, actor, practice_id, person_id)
    # The people the original counted for before the change lose its touch.
    touched = last_touch.touchpoint_sources([original])
    teacher = _Teacher(session, actor)
    if practice.id == original.practice_id:
        previous = original.status
        original.status = TouchpointStatus.CONFIRMED
        _set_person(original, person)
        _record(session, actor, original, DecisionAction.REASSIGN, previous, now)
        session.flush()
        touched |= last_touch.touchpoint_sources([original])
        last_touch.refresh_last_touches(session, touched)
        touch_counts.refresh_touch_counts(session, [original.activity_id])
        lessons = teacher.learn_from_confirmations([original], person is not None)
        return Outcome([original], lessons, teacher.rematch_learned(lessons))
    target = session.scalar(
        select(Touchpoint).where(
            Touchpoint.activity_id == original.activity_id,
            Touchpoint.practice_id == practice.id,
        )
    )
    target_previous = target.status if target is not None else None
    if target is not None:
        touched |= last_touch.touchpoint_sources([target])
    if target is None:
        # A person's link has no matcher reasons; touchpoint_decision records
        # who made it.
        target = Touchpoint(
            workspace_id=actor.workspace_id,
            activity_id=original.activity_id,
            practice_id=practice.id,
            confidence=1.0,
            reasons=[],
        )
        session.add(target)
    target.status = TouchpointStatus.CONFIRMED
    _set_person(target, person)
    session.flush()
    previous = original.status
    original.status = TouchpointStatus.REJECTED
    _record(session, actor, original, DecisionAction.REASSIGN, previous, now, target)
    _record(session, actor, target, DecisionAction.REASSIGN, target_previous, now)
    session.flush()
    touched |= last_touch.touchpoint_sources([original, target])
    last_touch.refresh_last_touches(session, touched)
    touch_counts.refresh_touch_counts(session, [original.activity_id])
    lessons = teacher.exclude([original])
    lessons += teacher.learn_from_confirmations([target], person is not None)
    return Outcome([target], lessons, teacher.rematch_learned(lessons))


def reassign_choices(session: Session, workspace_id: int) -> list[PracticeChoice]:
    """Return every practice with its providers and contacts, by name."""
    sources = session.scalars(
        select(ReferralSource)
        .where(ReferralSource.workspace_id == workspace_id)
        .order_by(ReferralSource.name, ReferralSource.id)
    ).all()
    people: dict[int, list[PersonChoice]] = {}
    for source in sources:
        if source.practice_id is not None:
            people.setdefault(source.practice_id, []).append(
                PersonChoice(source.id, source.name, source.title)
            )
    return [
        PracticeChoice(source.id, source.name, people.get(source.id, []))
        for source in sources
        if source.kind is SourceKind.PRACTICE
    ]


# (field, value, the evidence it gave for one practice) of one correspondent
Correspondent = tuple[str, str, list[Evidence]]


class _Teacher:
    """Teacher that turns decisions into source addresses, domains and exclusions.

    The index is built lazily, once per call, from the sources as they are
    before anything is learned, so that each touchpoint is judged on the
    evidence the matcher had.
    """

    def __init__(self, session: Session, actor: Actor) -> None:
        self._session = session
        self._actor = actor
        self._workspace = session.get_one(Workspace, actor.workspace_id)
        self._inputs: tuple[SourceIndex, MatchSettings] | None = None

    def _matcher(self) -> tuple[SourceIndex, MatchSettings]:
        if self._inputs is None:
            self._inputs = matcher_inputs(self._session, self._workspace)
        return self._inputs

    def _evidence(
        self, touchpoint: Touchpoint
    ) -> list[tuple[str, str, list[Evidence]]]:
        """Return (field, value, evidence for this practice) per correspondent.

        Fields are "address" for each external participant, "title" and
        "location" for a meeting's text, and "event" for a meeting whose
        reasons name its title or location.
        """
        index, settings = self._matcher()
        activity = self._session.get_one(Activity, touchpoint.activity_id)
        record = prepared_activity(activity).record
        found: list[Correspondent] = []
        seen: set[str] = set()
        for participant in record.participants:
            address = participant.address
            if address in seen or is_internal_address(address, settings):
                continue
            seen.add(address)
            evidence = participant_evidence(participant, index)
            found.append(("address", address, _for(evidence, touchpoint.practice_id)))
        if record.kind is ActivityKind.MEETING:
            for field, text in (
                ("title", record.subject),
                ("location", record.location),
            ):
                if text:
                    evidence = meeting_text_evidence(field, text, index)
                    found.append((field, text, _for(evidence, touchpoint.practice_id)))
            # Without a stored subject (subject_mode metadata), only the
            # reasons record the title's words, so the event's UID is the key.
            if _has_meeting_text_reason(touchpoint):
                found.append(("event", record.external_id, [_MEETING_TEXT]))
        return found

    def learn_from_confirmations(
        self, touchpoints: Iterable[Touchpoint], person_chosen: bool = False
    ) -> list[Lesson]:
        """Learn addresses and domains from confirmed touchpoints.

        With `person_chosen` (a reassignment that named the person), the
        activity's one external address goes to that person even when the
        matcher had no evidence for them.
        """
        lessons: list[Lesson] = []
        for touchpoint in touchpoints:
            found = self._evidence(touchpoint)
            addresses = [value for field, value, _ in found if field == "address"]
            for field, value, evidence in found:
                if field != "address":
                    continue
                person_id = _named_person(touchpoint, evidence)
                if person_chosen and len(addresses) == 1:
                    person_id = touchpoint.person_id
                if person_id is not None:
                    lessons.extend(self._learn_address(touchpoint, value, person_id))
                    lessons.extend(self._learn_alias(person_id, evidence))
            # The latest decision wins over an earlier rejection of the pair.
            keys = [exclusion_key(field, value) for field, value, _ in found]
            self._session.execute(
                delete(MatchExclusion).where(
                    MatchExclusion.workspace_id == self._actor.workspace_id,
                    MatchExclusion.practice_id == touchpoint.practice_id,
                    MatchExclusion.key.in_(keys),
                )
            )
        self._session.flush()
        return lessons

    def _learn_address(
        self, touchpoint: Touchpoint, address: str, person_id: int
    ) -> list[Lesson]:
        """Add an unknown address to a person, and maybe its domain to the practice."""
        index, _ = self._matcher()
        if index.sources_with_address(address) or is_automated_address(address):
            return []

        lessons: list[Lesson] = []
        person = self._session.get_one(ReferralSource, person_id)
        if person.learn("emails", address):
            lessons.append(Lesson("address", person.id, person.name, address))

        domain = domain_of(address)
        practice = self._session.get_one(ReferralSource, touchpoint.practice_id)
        if (
            domain
            and not is_free_mail_domain(domain)
            and index.practices_with_domain(domain) is None
            and domain not in practice.known("domains")
            and _domain_spells(domain, practice.name)
        ):
            practice.learn("domains", domain)
            lessons.append(Lesson("domain", practice.id, practice.name, domain))
        return lessons

    def _learn_alias(self, person_id: int, evidence: list[Evidence]) -> list[Lesson]:
        """Add the display name a person was matched by, if it is another name.

        "Bob Smith" for Robert Smith, or a maiden name, then matches exactly
        next time, from any address.  A name that parses to the person's own
        name ("Priya Raman" for "Priya Raman, MD") adds nothing.
        """
        person = self._session.get_one(ReferralSource, person_id)
        own = parse_person_name(person.name)
        for item in evidence:
            shown = item.observed
            if item.person_id != person_id or item.signal is not Signal.NAME:
                continue
            if not shown or "@" in shown:
                continue
            parsed = parse_person_name(shown)
            if parsed is None or own is None or compare_names(parsed, own) >= 1.0:
                continue
            if person.learn("aliases", shown):
                return [Lesson("alias", person.id, person.name, shown)]
        return []

    def exclude(self, touchpoints: Iterable[Touchpoint]) -> list[Lesson]:
        lessons: list[Lesson] = []
        for touchpoint in touchpoints:
            listed = self._listed_addresses(touchpoint.practice_id)
            for field, value, evidence in self._evidence(touchpoint):
                if not evidence or (field == "address" and value in listed):
                    continue
                lesson = self._add_exclusion(touchpoint.practice_id, field, value)
                if lesson is not None:
                    lessons.append(lesson)
        self._session.flush()
        return lessons

    def _listed_addresses(self, practice_id: int) -> set[str]:
        rows = self._session.scalars(
            select(ReferralSource).where(
                (ReferralSource.id == practice_id)
                | (ReferralSource.practice_id == practice_id)
            )
        )
        return {address for source in rows for address in source.known("emails")}

    def _add_exclusion(self, practice_id: int, field: str, value: str) -> Lesson | None:
        key = exclusion_key(field, value)
        exists = self._session.scalar(
            select(MatchExclusion.id).where(
                MatchExclusion.workspace_id == self._actor.workspace_id,
                MatchExclusion.practice_id == practice_id,
                MatchExclusion.key == key,
            )
        )
        if exists is not None:
            return None
        self._session.add(
            MatchExclusion(
                workspace_id=self._actor.workspace_id,
                practice_id=practice_id,
                key=key,
                created_by=self._actor.audit_label,
            )
        )
        practice = self._session.get_one(ReferralSource, practice_id)
        return Lesson("exclusion", practice_id, practice.name, f"{field} {value}")

    def rematch_learned(self, lessons: Sequence[Lesson]) -> int:
        """Match again the activities of learned addresses that await review.

        Returns how many activities were matched again.  Decided touchpoints
        are kept as they are.
        """
        addresses = {lesson.value for lesson in lessons if lesson.kind == "address"}
        if not addresses:
            return 0
        activity_ids = list(
            self._session.scalars(
                select(Touchpoint.activity_id)
                .join(
                    ActivityParticipant,
                    ActivityParticipant.activity_id == Touchpoint.activity_id,
                )
                .where(
                    Touchpoint.workspace_id == self._actor.workspace_id,
                    Touchpoint.status == TouchpointStatus.NEEDS_REVIEW,
                    ActivityParticipant.address.in_(addresses),
                )
                .distinct()
            )
        )
        if not activity_ids:
            return 0
        self._session.flush()
        report = rematch_in_session(self._session, self._workspace, activity_ids)
        return report.activities


# Stands for the title or location evidence a meeting's stored reasons name.
_MEETING_TEXT = Evidence(0, Signal.TITLE, 0.0, "")


def _has_meeting_text_reason(touchpoint: Touchpoint) -> bool:
    text_signals = {Signal.TITLE.value, Signal.LOCATION.value}
    return any(reason["signal"] in text_signals for reason in touchpoint.reasons)


def _named_person(touchpoint: Touchpoint, evidence: list[Evidence]) -> int | None:
    """Return the person a correspondent's name pointed at, preferring the link's."""
    named = [
        item.person_id
        for item in evidence
        if item.signal is Signal.NAME and item.person_id is not None
    ]
    if not named:
        return None
    return touchpoint.person_id if touchpoint.person_id in named else named[0]


def _for(evidence: list[Evidence], practice_id: int) -> list[Evidence]:
    return [item for item in evidence if item.practice_id == practice_id]


def _domain_spells(domain: str, practice_name: str) -> bool:
    """Tell whether a domain's first label spells much of a practice's name.

    "lakesideortho.example" spells "Lakeside Orthopedics"; a hospital
    system's or a vendor's domain does not, and is not learned.
    """
    label = _NOT_LETTERS.sub("", domain.split(".")[0].lower())
    name = _NOT_LETTERS.sub("", practice_name.lower())
    if len(label) < 4 or not name:
        return False
    return fuzz.partial_ratio(label, name) >= DOMAIN_NAME_SIMILARITY


@dataclasses.dataclass(frozen=True)
class PendingItem:
    """A touchpoint that waits for review, as the command line lists it."""

    touchpoint_id: int
    occurred_at: dt.datetime
    kind: str
    subject: str | None
    practice: str
    person: str | None
    confidence: float
    reasons: list[str]
    correspondents: list[str]


def pending(session: Session, workspace_id: int, limit: int) -> list[PendingItem]:
    """Return the touchpoints waiting for review, most confident first."""
    touchpoints = session.scalars(
        select(Touchpoint)
        .where(
            Touchpoint.workspace_id == workspace_id,
            Touchpoint.status == TouchpointStatus.NEEDS_REVIEW,
        )
        .order_by(Touchpoint.confidence.desc(), Touchpoint.id)
        .limit(limit)
    ).all()
    items = []
    for touchpoint in touchpoints:
        activity = touchpoint.activity
        items.append(
            PendingItem(
                touchpoint_id=touchpoint.id,
                occurred_at=activity.occurred_at,
                kind=activity.kind,
                subject=activity.subject,
                practice=touchpoint.practice.name,
                person=touchpoint.person.name if touchpoint.person else None,
                confidence=touchpoint.confidence,
                reasons=[reason["detail"] for reason in touchpoint.reasons],
                correspondents=_correspondents(session, activity.id),
            )
        )
    return items


def _correspondents(session: Session, activity_id: int) -> list[str]:
    rows = session.execute(
        select(ActivityParticipant.name, ActivityParticipant.address)
        .where(ActivityParticipant.activity_id == activity_id)
        .order_by(ActivityParticipant.id)
    )
    shown: dict[str, None] = {}
    for name, address in rows:
        shown[f"{name} <{address}>" if name else address] = None
    return list(shown)


def find_source(
    session: Session,
    workspace_id: int,
    text: str,
    kind: SourceKind | None = None,
    practice_id: int | None = None,
) -> ReferralSource:
    """Return the source with this id or exact name (any case), or raise.

    With `practice_id`, only that practice's providers and contacts count.
    Raises NotFoundError when nothing or more than one source fits.
    """
    query = select(ReferralSource).where(ReferralSource.workspace_id == workspace_id)
    if kind is not None:
        query = query.where(ReferralSource.kind == kind)
    if practice_id is not None:
        query = query.where(ReferralSource.practice_id == practice_id)
    if text.isdigit():
        found = session.scalars(query.where(ReferralSource.id == int(text))).all()
    else:
        found = session.scalars(
            query.where(func.lower(ReferralSource.name) == text.strip().lower())
        ).all()
    what = kind.value if kind else "source"
    if practice_id is not None:
        what = "provider or contact of that practice"
    if not found:
        raise NotFoundError(
            f"no {what} with id or name {text!r}; `warmline sources list` "
            "shows every source with its id"
        )
    if len(found) > 1:
        ids = ", ".join(str(source.id) for source in found)
        raise NotFoundError(
            f"{len(found)} {what}s are named {text!r}; give an id ({ids})"
        )
    return found[0]
