"""Mail with referral sources in the example mailbox.

Each touched practice gets threads spread from FIRST_DAY to eight days
before its `last_touch` day, then one message on that day, so the last
touch of every practice is where clinic.py puts it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterator

from clinic import (
    AMY,
    BO,
    CLINIC_FAX,
    CLINIC_PHONE,
    FIRST_DAY,
    PERSON_BY_KEY,
    PRACTICE_BY_KEY,
    PRACTICES,
    SAM,
    Person,
    Practice,
    people_at,
)
from mail_builder import (
    MailBuilder,
    at_local,
    person_address,
    sam_signature,
    signature,
    staff_address,
)
from mbox_format import Address

THREADS_PER_PRACTICE = {
    "riverside": 14,
    "lakeside_fm": 12,
    "cedar": 12,
    "ridgeway": 10,
    "northgate": 10,
    "summit": 6,
    "lakeside_ortho": 5,
    "prairie": 4,
    "maplegrove": 4,
}
"""Threads per touched practice, before its last-touch message."""

PATIENT_SUBJECT_SHARE = 0.2
"""Share of referral and progress threads whose subject names a patient."""

# Invented patients: first name, surname, honorific, date of birth as written,
# medical record number.
PATIENTS = (
    ("Jane", "Doe", "Mrs.", "04/12/1961", "00482913"),
    ("John", "Roe", "Mr.", "11/30/1955", "00518274"),
    ("Edith", "Nakamura", "Mrs.", "Apr 3, 1949", "00391022"),
    ("Tom", "Becker", "Mr.", "7/2/58", "00622817"),
    ("Lena", "Haddad", "Ms.", "1972-09-18", "00710364"),
    ("Walt", "Lindqvist", "Mr.", "2-14-47", "00288150"),
    ("Janie", "Roe", "Miss", "03/02/2016", "00933471"),
)

CONDITIONS = (
    "chronic low back pain",
    "knee osteoarthritis",
    "rotator cuff repair, post-op week 2",
    "ankle sprain",
    "neck pain with radiating symptoms",
    "total knee replacement, post-op",
    "plantar fasciitis",
    "BPPV / dizziness",
    "ACL reconstruction, post-op week 3",
    "hip bursitis",
    "fall risk / balance",
    "tennis elbow",
)

REFERRAL_SUBJECTS = (
    "New referral - {condition}",
    "Referral: {condition}, please schedule",
    "PT referral - {condition}",
    "Referral faxed today",
    "Can you see a new patient this week?",
    "Referral - {condition}",
)
REFERRAL_PATIENT_SUBJECTS = (
    "Referral for {honorific} {last}",
    "New referral: {first} {last}, DOB {dob}",
    "Pt {initial}. {last} - eval request",
    "MRN {mrn} - referral attached",
)
PROGRESS_SUBJECTS = (
    "Progress note - initial evaluation",
    "Plan of care for signature",
    "Re-evaluation summary attached",
    "Discharge summary",
    "Visit update for your patient",
    "Progress note - re-evaluation",
)
PROGRESS_PATIENT_SUBJECTS = (
    "Plan of care for {first} {last} - signature needed",
    "MRN {mrn} follow-up",
    "Missed visits - {honorific} {last}",
    "Progress note, DOB {dob}",
)
OUTREACH_SUBJECTS = (
    "Lunch-and-learn next month?",
    "Brochure drop-off Thursday",
    "Updated referral pads",
    "New Saturday hours at Brookside PT",
    "Our new vestibular program",
    "Quick visit next week?",
    "Direct access and your patients",
    "Thanks for the referrals this month!",
)
QUESTION_SUBJECTS = (
    "Do you take Lakeside Mutual plans?",
    "Pool therapy availability?",
    "Wait time for new evals",
    "Referral form question",
    "Fax number for referrals?",
    "Do you offer dry needling?",
)


def add_source_mail(builder: MailBuilder) -> None:
    """Add the threads with every touched practice and their last touches."""
    subjects = SubjectPicker(builder.rng)
    for practice in PRACTICES:
        if practice.key in THREADS_PER_PRACTICE:
            _practice_threads(builder, subjects, practice)
    _last_touches(builder)


def _practice_threads(
    builder: MailBuilder, subjects: SubjectPicker, practice: Practice
) -> None:
    assert practice.last_touch is not None
    rng = builder.rng
    latest_start = practice.last_touch - dt.timedelta(days=8)
    span = (latest_start - FIRST_DAY).days
    kinds = ("referral", "progress", "outreach", "question")
    for _ in range(THREADS_PER_PRACTICE[practice.key]):
        start = builder.business_time(FIRST_DAY + dt.timedelta(rng.randrange(span)))
        kind = rng.choices(kinds, weights=(3, 3, 2, 1))[0]
        limit = at_local(practice.last_touch - dt.timedelta(days=2), 18)
        if kind == "referral":
            subject = subjects.pick(REFERRAL_SUBJECTS, REFERRAL_PATIENT_SUBJECTS)
            _referral_thread(builder, practice, subject, start, limit)
        elif kind == "progress":
            subject = subjects.pick(PROGRESS_SUBJECTS, PROGRESS_PATIENT_SUBJECTS)
            _progress_thread(builder, practice, subject, start, limit)
        elif kind == "outreach":
            _outreach_thread(builder, practice, start, limit)
        else:
            _question_thread(builder, practice, start, limit)


class SubjectPicker:
    """Thread subject chooser.  About PATIENT_SUBJECT_SHARE of subjects name a patient.

    Subjects that name a patient go through their templates and PATIENTS in
    turn, so every template appears in the mailbox.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._patients = itertools.cycle(PATIENTS)
        self._templates: dict[tuple[str, ...], Iterator[str]] = {}

    def pick(self, plain: tuple[str, ...], with_patient: tuple[str, ...]) -> str:
        condition = self._rng.choice(CONDITIONS)
        if self._rng.random() >= PATIENT_SUBJECT_SHARE:
            return self._rng.choice(plain).format(condition=condition)
        templates = self._templates.setdefault(
            with_patient, itertools.cycle(with_patient)
        )
        first, last, honorific, dob, mrn = next(self._patients)
        return next(templates).format(
            first=first,
            last=last,
            initial=first[0],
            honorific=honorific,
            dob=dob,
            mrn=mrn,
            condition=condition,
        )


def _referral_thread(
    builder: MailBuilder,
    practice: Practice,
    subject: str,
    start: dt.datetime,
    limit: dt.datetime,
) -> None:
    rng = builder.rng
    sender = rng.choice(people_at(practice.key))
    cc = _coordinator_cc(rng, practice, sender)
    condition = rng.choice(CONDITIONS)
    first = builder.add(
        at=start,
        sender=person_address(sender),
        to=[staff_address(SAM)],
        cc=cc,
        subject=subject,
        body=(
            f"Hi Sam,\n\nSending over a referral for a patient with {condition}. "
            "Orders and the last visit note went out by fax this morning.\n"
            "Please call the patient to schedule.\n\n"
            f"Thanks,\n{signature(sender)}"
        ),
    )
    reply = builder.reply(
        first,
        at=builder.later(start, rng),
        sender=staff_address(SAM),
        cc=[staff_address(AMY)] if rng.random() < 0.4 else [],
        body=(
            f"Thanks, {sender.first_name}! We have the fax and will call the "
            "patient today. I'll send the evaluation note once it's done.\n\n"
            f"{sam_signature()}"
        ),
        limit=limit,
    )
    if reply is not None and rng.random() < 0.3:
        builder.reply(
            reply,
            at=builder.later(reply.received_at, rng),
            sender=person_address(sender),
            body=f"Perfect, thank you.\n\n{sender.display_name}",
            limit=limit,
        )


def _progress_thread(
    builder: MailBuilder,
    practice: Practice,
    subject: str,
    start: dt.datetime,
    limit: dt.datetime,
) -> None:
    rng = builder.rng
    providers = people_at(practice.key, "provider")
    provider = rng.choice(providers)
    cc = [staff_address(AMY)] if rng.random() < 0.6 else []
    bcc = [staff_address(BO)] if rng.random() < 0.15 else []
    first = builder.add(
        at=start,
        sender=staff_address(SAM),
        to=[person_address(provider)],
        cc=cc,
        bcc=bcc,
        subject=subject,
        body=(
            f"Dr. {provider.display_name.split()[-1]},\n\n"
            "Attached is the note from this week's visit, with the plan of care "
            "for your signature. Amy Chen, PT is treating.\n"
            "Please sign and fax back to " + CLINIC_FAX + ".\n\n"
            f"{sam_signature()}"
        ),
    )
    if rng.random() < 0.7:
        contacts = people_at(practice.key, "contact")
        replier = rng.choice([provider, *contacts])
        builder.reply(
            first,
            at=builder.later(start, rng),
            sender=person_address(replier),
            body=f"Signed and faxed back.\n\n{signature(replier)}",
            limit=limit,
        )


def _outreach_thread(
    builder: MailBuilder, practice: Practice, start: dt.datetime, limit: dt.datetime
) -> None:
    rng = builder.rng
    recipient = rng.choice(people_at(practice.key))
    sender = staff_address(SAM, alias=rng.random() < 0.15)
    first = builder.add(
        at=start,
        sender=sender,
        to=[person_address(recipient)],
        subject=rng.choice(OUTREACH_SUBJECTS),
        body=(
            f"Hi {recipient.first_name},\n\n"
            "I'd love to stop by with lunch for your team and a short update "
            "on what we're seeing with shared patients. Would a Tuesday or "
            "Thursday work in the next few weeks?\n\n"
            f"{sam_signature()}"
        ),
    )
    if rng.random() >= 0.7:
        return
    answer = builder.reply(
        first,
        at=builder.later(start, rng),
        sender=person_address(recipient),
        body=(
            "Thursday works. We have about 12 people, and the break room is "
            f"on the 2nd floor.\n\n{signature(recipient)}"
        ),
        limit=limit,
    )
    if answer is not None and rng.random() < 0.4:
        builder.reply(
            answer,
            at=builder.later(answer.received_at, rng),
            sender=sender,
            body=f"Great, see you then!\n\n{sam_signature()}",
            limit=limit,
        )


def _question_thread(
    builder: MailBuilder, practice: Practice, start: dt.datetime, limit: dt.datetime
) -> None:
    rng = builder.rng
    contacts = people_at(practice.key, "contact") or people_at(practice.key)
    sender = rng.choice(contacts)
    first = builder.add(
        at=start,
        sender=person_address(sender),
        to=[staff_address(SAM)],
        subject=rng.choice(QUESTION_SUBJECTS),
        body=(
            "Hi Sam, quick question from our front office before we send a "
            f"patient your way. Can you call me back?\n\n{signature(sender)}"
        ),
    )
    builder.reply(
        first,
        at=builder.later(start, rng),
        sender=staff_address(SAM),
        body=(
            f"Hi {sender.first_name}, yes we do. Our front desk is at "
            f"{CLINIC_PHONE} if that's easier.\n\n{sam_signature()}"
        ),
        limit=limit,
    )


def _coordinator_cc(
    rng: random.Random, practice: Practice, sender: Person
) -> list[Address]:
    if sender.kind != "provider" or rng.random() < 0.5:
        return []
    contacts = people_at(practice.key, "contact")
    return [person_address(contacts[0])] if contacts else []


def _last_touches(builder: MailBuilder) -> None:
    """Add each touched practice's last message, on its `last_touch` day."""
    plan = (
        ("riverside", "doyle", False, "Two new referrals faxed today"),
        ("lakeside_fm", "obrien", True, "Thanks for the referrals this month!"),
        ("cedar", "grant", True, "Slides from today's lunch-and-learn"),
        ("ridgeway", "weiss", False, "December huddle schedule"),
        ("northgate", "foster", False, "Referral: vestibular eval"),
        ("summit", "bell", True, "Thanks for meeting with us"),
        ("lakeside_ortho", "banks", False, "Brochure restock"),
        ("prairie", "hollis", True, "Following up on our visit"),
        ("maplegrove", "jimenez", False, "Peds referral - toe walking"),
    )
    for practice_key, person_key, outbound, subject in plan:
        practice = PRACTICE_BY_KEY[practice_key]
        person = PERSON_BY_KEY[person_key]
        assert practice.last_touch is not None
        moment = builder.business_time(practice.last_touch)
        if outbound:
            # Sam writes to the person's last listed address, which for
            # Dr. Hollis is his personal one and for Dr. O'Brien the one at
            # the health system's parent domain.
            address = (person.display_name, person.emails[-1])
            builder.add(
                at=moment,
                sender=staff_address(SAM),
                to=[address],
                subject=subject,
                body=f"Hi {person.first_name},\n\nThank you!\n\n{sam_signature()}",
            )
        else:
            builder.add(
                at=moment,
                sender=person_address(person),
                to=[staff_address(SAM)],
                subject=subject,
                body=f"Hi Sam,\n\nDetails below.\n\n{signature(person)}",
            )
