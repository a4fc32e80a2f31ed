"""Drafted outreach emails for follow-ups, from templates and the relationship.

A draft is built from `DraftFacts`: names of the source and of staff
members, dates and counts.  Nothing read from a message (subject, body,
participants' addresses) and nothing about a patient is among them.  The
optional rewrite by a language model sends only the template draft, which
is made from those facts alone, so the prompt carries no patient details
(see warmline.remind.draft_rewrite).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from nameparser import HumanName
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from reminders import Reason
from warmline.models import (
    Activity,
    FollowUp,
    Referral,
    ReferralSource,
    SourceKind,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.remind.errors import ReminderError

DOCTOR_SUFFIXES = frozenset({"MD", "DO"})
RECENT_DAYS = 90
YEAR_DAYS = 365


@dataclasses.dataclass(frozen=True)
class LastTouch:
    """A confirmed touch with the source: when, how, and who took part."""

    on: dt.date
    kind: str
    staff_name: str
    person_name: str | None


@dataclasses.dataclass(frozen=True)
class DraftFacts:
    """Facts a draft may mention: names, dates and counts only."""

    follow_up_id: int
    reason: str
    source_name: str
    source_kind: str
    practice_name: str | None
    staff_name: str
    last_touch: LastTouch | None
    last_meeting: LastTouch | None
    referrals_recent: int
    referrals_year: int
    open_referrals: int
    earliest_open_referral: dt.date | None


@dataclasses.dataclass(frozen=True)
class Draft:
    """An outreach email ready to be copied into a mail program."""

    to_name: str
    to_address: str | None
    subject: str
    body: str
    rewritten_by: str | None = None
    notice: str = ""


def draft_facts(
    session: Session, workspace: Workspace, follow_up_id: int, as_of: dt.datetime
) -> tuple[DraftFacts, str | None]:
    """Gather a follow-up's facts and the source's first address, if any."""
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.workspace_id != workspace.id:
        raise ReminderError(
            f"no follow-up with id {follow_up_id}; see 'warmline followups list'"
        )
    source = session.get_one(ReferralSource, follow_up.source_id)
    staff = session.get_one(StaffMember, follow_up.staff_member_id)
    touches = _touches(session, workspace, source, as_of)
    meetings = [touch for touch in touches if touch.kind == "meeting"]
    referrals = _referrals(session, workspace, source)
    today = as_of.date()
    open_dates = [r.received_on for r in referrals if r.closed_at is None]
    facts = DraftFacts(
        follow_up_id=follow_up.id,
        reason=follow_up.reason,
        source_name=source.name,
        source_kind=source.kind.value,
        practice_name=source.practice.name if source.practice else None,
        staff_name=staff.name,
        last_touch=touches[0] if touches else None,
        last_meeting=meetings[0] if meetings else None,
        referrals_recent=_count_since(referrals, today, RECENT_DAYS),
        referrals_year=_count_since(referrals, today, YEAR_DAYS),
        open_referrals=sum(r.count for r in referrals if r.closed_at is None),
        earliest_open_referral=min(open_dates, default=None),
    )
    return facts, (source.emails[0] if source.emails else None)


def _touches(
    session: Session, workspace: Workspace, source: ReferralSource, as_of: dt.datetime
) -> list[LastTouch]:
    """Return the source's confirmed touches up to `as_of`, newest first."""
    person = aliased(ReferralSource)
    query = (
        select(Activity.occurred_at, Activity.kind, StaffMember.name, person.name)
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .join(StaffMember, StaffMember.id == Activity.staff_member_id)
        .outerjoin(person, person.id == Touchpoint.person_id)
        .where(
            Touchpoint.workspace_id == workspace.id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
            Activity.occurred_at <= as_of,
        )
        .order_by(Activity.occurred_at.desc())
        .limit(50)
    )
    if source.kind is SourceKind.PRACTICE:
        query = query.where(Touchpoint.practice_id == source.id)
    else:
        query = query.join(
            TouchpointPerson, TouchpointPerson.touchpoint_id == Touchpoint.id
        ).where(TouchpointPerson.person_id == source.id)
    return [
        LastTouch(occurred_at.date(), kind, staff_name, person_name)
        for occurred_at, kind, staff_name, person_name in session.execute(query)
    ]


def _referrals(
    session: Session, workspace: Workspace, source: ReferralSource
) -> list[Referral]:
    query = select(Referral).where(Referral.workspace_id == workspace.id)
    if source.kind is SourceKind.PRACTICE:
        people = select(ReferralSource.id).where(
            ReferralSource.practice_id == source.id
        )
        query = query.where(
            (Referral.source_id == source.id) | Referral.source_id.in_(people)
        )
    else:
        query = query.where(Referral.source_id == source.id)
    return list(session.scalars(query))


def _count_since(referrals: list[Referral], today: dt.date, days: int) -> int:
    start = today - dt.timedelta(days=days)
    return sum(r.count for r in referrals if start < r.received_on <= today)


# --- templates -------------------------------------------------------------------


def greeting(facts: DraftFacts) -> str:
    """Return how the email addresses the source: "Dr. Lopez", "Linda", a team."""
    if facts.source_kind == "practice":
        return f"{facts.source_name} team"
    name = HumanName(facts.source_name)
    suffixes = {part.strip(".").upper() for part in name.suffix.split(",")}
    if name.last and (
        name.title.lower().startswith("dr") or suffixes & DOCTOR_SUFFIXES
    ):
        return f"Dr. {name.last}"
    return name.first or facts.source_name


def template_draft(facts: DraftFacts, to_address: str | None) -> Draft:
    """Build the draft for the follow-up's reason from the templates below."""
    build = {
        Reason.THANK_YOU.value: _thank_you,
        Reason.CLOSE_LOOP.value: _close_loop,
    }.get(facts.reason, _check_in)
    subject, paragraphs = build(facts)
    body = "\n\n".join(
        [f"Dear {greeting(facts)},", *paragraphs, f"Best regards,\n{facts.staff_name}"]
    )
    return Draft(facts.source_name, to_address, subject, body + "\n")


def _thank_you(facts: DraftFacts) -> tuple[str, list[str]]:
    meeting = facts.last_meeting
    if meeting is None:
        opening = "Thank you for taking the time to meet with us recently."
    else:
        who = "me" if meeting.staff_name == facts.staff_name else meeting.staff_name
        opening = (
            f"Thank you for taking the time to meet with {who} on {_day(meeting.on)}."
        )
        if facts.source_kind == "practice" and meeting.person_name:
            opening += f" It was good to see {meeting.person_name}."
    return "Thank you for meeting with us", [
        opening,
        "If any questions came up afterwards, or there is anything we can do to "
        "make referring patients to us easier for your office, please let me know.",
    ]


def _close_loop(facts: DraftFacts) -> tuple[str, list[str]]:
    count = facts.open_referrals
    since = (
        f" since {_day(facts.earliest_open_referral)}"
        if facts.earliest_open_referral
        else ""
    )
    noun = "referral" if count == 1 else "referrals"
    return "An update on your recent referrals", [
        f"Thank you for the {count} {noun} you sent us{since}. Here is how your "
        "patients are doing:",
        "[Add each patient's progress here, through your secure channel if it "
        "names a patient.]",
        "Please let me know if you would like these updates in another form.",
    ]


def _check_in(facts: DraftFacts) -> tuple[str, list[str]]:
    touch = facts.last_touch
    if touch is None:
        opening = (
            f"I would like to introduce myself and our practice to {_them(facts)}."
        )
    else:
        verb = "met" if touch.kind == "meeting" else "were in touch"
        opening = (
            f"It has been a while since we last {verb}, on {_day(touch.on)}, and I "
            "wanted to check in."
        )
    paragraphs = [opening]
    if facts.referrals_year:
        noun = "patient" if facts.referrals_year == 1 else "patients"
        paragraphs.append(
            f"Thank you for the {facts.referrals_year} {noun} you referred to us "
            "over the past year."
        )
    paragraphs.append(
        "Would a short visit or a lunch in the next few weeks suit your office?"
    )
    return "Checking in", paragraphs


def _them(facts: DraftFacts) -> str:
    if facts.source_kind == "practice":
        return "your office"
    return f"you and {facts.practice_name}" if facts.practice_name else "you"


def _day(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"
