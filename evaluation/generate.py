"""Generate the matcher's labelled evaluation set.

    python evaluation/generate.py [--out evaluation/data] [--seed 20260303]

writes sources.jsonl (the referral sources), activities.jsonl (emails and
meetings, each with its kind and its expected links) and workspace.json
(the clinic's own domain and staff addresses).  The same seed gives the
same bytes.

Each activity kind below is written from its own definition: what the
metadata of such an email or meeting looks like in a clinic's mailbox and
what a careful person would decide from that metadata alone.  An expected
link is a practice, the person there (or None) and the status a careful
person would give it:

- confirmed: the metadata identifies the practice (a listed address, the
  domain of one practice, a name that only one person at the domain's
  practices has, a title or location that only one practice fits);
- needs_review: the metadata narrows the activity to two or three
  practices, or rests on a name alone from a consumer address, which a
  patient or another clinician could share;
- no link: the activity is no touchpoint (bulk, automatic, cancelled,
  declined, internal, not a referral source), or the metadata fits more
  than three practices, so a reviewer could not pick one.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import sys
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository's packages importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.mail.addresses import parse_address_list
from evaluation import names as display
from evaluation.world import (
    FREE_MAIL_DOMAINS,
    NICKNAMES,
    STAFF_DOMAIN,
    LookAlike,
    Person,
    Practice,
    StreetAddress,
    World,
    WorldBuilder,
    _plain,
)

SEED = 20260303
DATA = Path(__file__).resolve().parent / "data"
START = dt.datetime(2025, 9, 1, 13, 0, tzinfo=dt.UTC)
DAYS = 180

# Activities of each kind per 4,000, chosen so that every kind has many
# instances.  Exact addresses, practice domains and meetings are the bulk of
# a clinic's mailbox, so they weigh most.
KIND_WEIGHTS = {
    "address_provider": 300,
    "address_contact": 180,
    "address_practice": 100,
    "staff_at_domain": 180,
    "several_domains": 120,
    "free_mail_listed": 100,
    "free_mail_name_only": 80,
    "name_doctor_prefix": 80,
    "name_credentials": 80,
    "name_last_first": 80,
    "name_middle_initial": 80,
    "name_nickname": 80,
    "name_encoded_words": 80,
    "name_typo": 80,
    "name_hyphenated": 60,
    "name_maiden": 60,
    "same_name": 100,
    "health_system_person": 100,
    "health_system_staff": 80,
    "sister_practice_staff": 50,
    "look_alike_org": 120,
    "namesake_free_mail": 60,
    "unrelated": 150,
    "bulk": 120,
    "auto_reply": 80,
    "meeting_declined": 60,
    "meeting_cancelled": 60,
    "internal_email": 100,
    "internal_meeting": 60,
    "meeting_attendee": 120,
    "meeting_title_practice": 120,
    "meeting_title_person": 120,
    "meeting_location": 120,
    "two_practices": 100,
    "cc_bcc": 120,
    "thread": 100,
}

SUBJECTS = (
    "Referral for shared patient",
    "PT plan of care to sign",
    "Re: progress note",
    "Fax confirmation",
    "Lunch next week?",
    "Question about a referral",
    "Updated referral form",
    "Scheduling",
)
PATIENT_SUBJECTS = (
    "Appointment question",
    "Re: my exercises",
    "Reschedule",
    "Billing question",
)
VENDOR_SUBJECTS = (
    "Your order has shipped",
    "Invoice 20931",
    "Claim status",
    "Records request",
)


@dataclasses.dataclass
class Expected:
    practice: int
    person: int | None
    status: str  # confirmed or needs_review


@dataclasses.dataclass
class Draft:
    """One activity as JSON-ready fields, with its kind and expected links."""

    kind: str  # email or meeting
    case: str
    participants: list[dict[str, object]]
    subject: str | None = None
    location: str | None = None
    flags: list[str] = dataclasses.field(default_factory=list)
    expected: list[Expected] = dataclasses.field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = dataclasses.field(default_factory=list)
    note: str | None = None
    offset_minutes: int = 0  # after the previous message of its thread


class Composer:
    """Writes activities of each kind about one `World`."""

    def __init__(self, world: World, rng: random.Random, patient_count: int) -> None:
        self.world = world
        self.rng = rng
        self.patient_count = patient_count
        self.providers = [p for p in world.people.values() if p.kind == "provider"]
        self.people = list(world.people.values())
        self.practices = world.practices
        self.own_domain_practices = [p for p in world.practices if p.system is None]
        self.system_practices = [
            p
            for p in world.practices
            if p.system and len(world.practices_by_domain[p.domains[0]]) > 3
        ]
        self.sister_practices = [
            p
            for p in world.practices
            if p.system and len(world.practices_by_domain[p.domains[0]]) <= 3
        ]
        self.pools = self._pools()
        self.practice_pools = {
            "with_email": [p for p in self.practices if p.emails],
            "several_domains": [
                p for p in self.own_domain_practices if len(p.domains) > 1
            ]
            + [p for p in self.practices if p.subdomain],
        }
        # A reader takes "Dr. Bradton" for Dr. Sullivan-Bradton too.
        self.by_surname_form: dict[str, list[Person]] = defaultdict(list)
        for person in self.people:
            for form in _surname_forms(person):
                self.by_surname_form[form].append(person)
        self.listed_addresses = {a for p in self.people for a in p.emails} | {
            a for p in world.practices for a in p.emails
        }
        self.surnames = {_plain(p.last).lower() for p in self.people} | {
            _plain(p.maiden).lower() for p in self.people if p.maiden
        }

    def _pools(self) -> dict[str, list[Person]]:
        """Sort the people once by what each kind needs of them."""
        people = self.people
        return {
            "listed": [p for p in people if _listed_at_practice(p)],
            "listed_providers": [p for p in self.providers if _listed_at_practice(p)],
            "with_email": [p for p in people if p.emails],
            "contacts_with_email": [
                p for p in people if p.kind == "contact" and p.emails
            ],
            "free_listed": [
                p for p in self.providers if any(_is_free(e) for e in p.emails)
            ],
            "doctors": [p for p in self.providers if p.is_doctor],
            "middle": [p for p in people if p.middle],
            "nickname": [p for p in people if p.first in NICKNAMES],
            "typo": [
                p
                for p in people
                if len(_plain(p.last)) >= 5 or len(_plain(p.first)) >= 5
            ],
            "hyphenated": [p for p in people if "-" in p.last],
            "single_surname": [p for p in people if not p.maiden and "-" not in p.last],
            "maiden": [p for p in people if p.maiden],
            "accented": [
                p
                for p in people
                if p.first != _plain(p.first) or p.last != _plain(p.last)
            ],
            "system": [
                p for practice in self.system_practices for p in practice.people
            ],
        }

    # -- helpers ---------------------------------------------------------------

    def staff(self) -> tuple[str, str]:
        return self.rng.choice(self.world.staff)

    def participant(
        self,
        role: str,
        address: str,
        name: str | None = None,
        header: str | None = None,
        response: str | None = None,
    ) -> dict[str, object]:
        """Return a participant as the connectors give it.

        Mail participants go through the mail parser, so a display name is
        decoded and unquoted exactly as a real header would be.
        """
        if role in ("organizer", "attendee"):
            return {
                "address": address,
                "role": role,
                "name": name,
                "response": response,
            }
        text = header or display.quoted_header(name, address)
        (mailbox,) = parse_address_list(text, role, [])
        return {
            "address": mailbox.address,
            "role": role,
            "name": mailbox.name,
            "name_from_comment": mailbox.name_from_comment,
        }

    def inbound(
        self,
        sender: dict[str, object],
        case: str,
        expected: list[Expected],
        subject: str | None = None,
        cc: list[dict[str, object]] | None = None,
    ) -> Draft:
        staff_name, staff_address = self.staff()
        participants = [sender, self.participant("to", staff_address, staff_name)]
        participants += cc or []
        return Draft(
            "email",
            case,
            participants,
            subject or self.rng.choice(SUBJECTS),
            expected=expected,
        )

    def outbound(
        self,
        recipients: list[dict[str, object]],
        case: str,
        expected: list[Expected],
        subject: str | None = None,
    ) -> Draft:
        staff_name, staff_address = self.staff()
        sender = self.participant("from", staff_address, staff_name)
        return Draft(
            "email",
            case,
            [sender, *recipients],
            subject or self.rng.choice(SUBJECTS),
            flags=["sent"],
            expected=expected,
        )

    def email_either_way(
        self, external: tuple[str, str | None], case: str, expected: list[Expected]
    ) -> Draft:
        address, name = external
        if self.rng.random() < 0.6:
            return self.inbound(self.participant("from", address, name), case, expected)
        return self.outbound([self.participant("to", address, name)], case, expected)

    def unlisted_address(self, person: Person, domain: str) -> str:
        first = _plain(person.first).lower()
        last = _plain(person.last).lower().replace("'", "").replace("-", "")
        while True:
            local = self.rng.choice(
                (
                    f"{first[0]}{last}{person.id % 7 + 2}",
                    f"dr{last}",
                    f"{first}{last[0]}",
                )
            )
            address = f"{local}@{domain}"
            if address not in self.listed_addresses:
                return address

    def practice_of(self, person: Person) -> Practice:
        return self.world.practice(person.practice_id)

    def pick(self, people: list[Person]) -> Person:
        return self.rng.choice(people)

    def name_at_domain_expected(
        self, person: Person, domain: str, written: str
    ) -> list[Expected]:
        """Decide as a careful person would, from a name at a practice domain.

        The candidates are the people of the practices listing `domain`
        whose surnames share the most words with the written name, less
        those whose given initial differs from a written given name.  A
        misspelt surname shares no word, and a reader takes it for the
        person's own.  One candidate decides the person; candidates at one
        practice decide only the practice; otherwise the practices of the
        candidates decide as for any ambiguous evidence.
        """
        words = _name_words(written)
        given = _given_initial(written)
        best: list[Person] = []
        best_shared = 0
        for practice in self.world.practices_by_domain[domain]:
            for other in practice.people:
                shared = len(words & _surname_forms(other))
                if not shared or (given and _plain(other.first)[0].lower() != given):
                    continue
                if shared > best_shared:
                    best, best_shared = [other], shared
                elif shared == best_shared:
                    best.append(other)
        if not best:
            best = [person]
        if len(best) == 1:
            return [Expected(best[0].practice_id, best[0].id, "confirmed")]
        practice_ids = {other.practice_id for other in best}
        if len(practice_ids) == 1:
            return [Expected(person.practice_id, None, "confirmed")]
        return narrowed(person.practice_id, None, len(practice_ids))

    # -- exact addresses, domains and consumer mail -------------------------------

    def address_provider(self) -> Draft:
        person = self.pick(self.pools["listed_providers"])
        address = _practice_email(person)
        name = self.rng.choice(
            (
                f"{display.plain_first(person)} {display.plain_last(person)}",
                None,
                person.source_name(),
            )
        )
        return self.email_either_way(
            (address, name),
            "address_provider",
            [Expected(person.practice_id, person.id, "confirmed")],
        )

    def address_contact(self) -> Draft:
        person = self.pick(self.pools["contacts_with_email"])
        name = f"{display.plain_first(person)} {display.plain_last(person)}"
        return self.email_either_way(
            (person.emails[0], name),
            "address_contact",
            [Expected(person.practice_id, person.id, "confirmed")],
        )

    def address_practice(self) -> Draft:
        practice = self.rng.choice(self.practice_pools["with_email"])
        name = self.rng.choice((practice.name, "Front Desk", None))
        return self.email_either_way(
            (practice.emails[0], name),
            "address_practice",
            [Expected(practice.id, None, "confirmed")],
        )

    def staff_at_domain(self) -> Draft:
        practice = self.rng.choice(self.own_domain_practices)
        address, name = self.unknown_staff(practice, practice.domains[0])
        return self.email_either_way(
            (address, name),
            "staff_at_domain",
            [Expected(practice.id, None, "confirmed")],
        )

    def unknown_staff(self, practice: Practice, domain: str) -> tuple[str, str | None]:
        """Return an address and name of someone at a practice who is no source."""
        rng = self.rng
        role = rng.choice(
            ("billing", "scheduling", "frontdesk", "records", "intake", "nurse")
        )
        if rng.random() < 0.5:
            return f"{role}{rng.choice(('', '2', '-team'))}@{domain}", rng.choice(
                (None, role.title(), f"{practice.place} {role.title()}")
            )
        surnames = {_plain(p.last).lower() for p in practice.people}
        while True:
            first, last = (
                rng.choice(("Kayla", "Tyler", "Brianna", "Devon", "Alexis", "Jordan")),
                rng.choice(
                    ("Hollis", "Marsh", "Tatum", "Lyle", "Pryor", "Quade", "Sorensen")
                ),
            )
            if last.lower() not in surnames:
                return f"{first.lower()}.{last.lower()}@{domain}", f"{first} {last}"

    def several_domains(self) -> Draft:
        """Mail from a practice's second domain, or from a subdomain of one."""
        rng = self.rng
        practice = rng.choice(self.practice_pools["several_domains"])
        if practice.subdomain and rng.random() < 0.8:
            domain = practice.subdomain
        elif len(practice.domains) > 1 and rng.random() < 0.6:
            domain = practice.domains[1]
        elif practice.system is None:
            host = rng.choice(("mail", "secure", "ehr"))
            domain = f"{host}.{rng.choice(practice.domains)}"
        else:
            domain = practice.subdomain or practice.domains[-1]
        address, name = self.unknown_staff(practice, domain)
        return self.email_either_way(
            (address, name),
            "several_domains",
            [Expected(practice.id, None, "confirmed")],
        )

    def free_mail_listed(self) -> Draft:
        person = self.pick(self.pools["free_listed"])
        address = next(e for e in person.emails if _is_free(e))
        name = f"{display.plain_first(person)} {display.plain_last(person)}"
        return self.email_either_way(
            (address, name),
            "free_mail_listed",
            [Expected(person.practice_id, person.id, "confirmed")],
        )

    def free_mail_name_only(self) -> Draft:
        """Write mail from a provider's unlisted consumer address, named only."""
        rng = self.rng
        person = self.pick(self.providers)
        shape = rng.choice(
            (display.doctor_prefix, display.with_credentials, display.last_first)
        )
        if shape is display.doctor_prefix and not person.is_doctor:
            shape = display.with_credentials
        name, _ = shape(person, rng)
        if name.startswith("Dr. ") and " " not in name[4:]:
            name = f"{display.plain_first(person)} {display.plain_last(person)}"
        address = personal_address(person)
        return self.email_either_way(
            (address, name),
            "free_mail_name_only",
            [Expected(person.practice_id, person.id, "needs_review")],
        )

    # -- name variants at a practice's domain ---------------------------------------

    def name_variant(
        self,
        case: str,
        people: list[Person],
        shape: Callable[[Person, random.Random], tuple[str, bool]],
    ) -> Draft:
        person = self.pick(people)
        practice = self.practice_of(person)
        domain = practice.mail_domain
        name, _ = shape(person, self.rng)
        address = self.unlisted_address(person, domain)
        expected = self.name_at_domain_expected(person, domain, name)
        return self.email_either_way((address, name), case, expected)

    def name_doctor_prefix(self) -> Draft:
        return self.name_variant(
            "name_doctor_prefix", self.pools["doctors"], display.doctor_prefix
        )

    def name_credentials(self) -> Draft:
        return self.name_variant(
            "name_credentials", self.providers, display.with_credentials
        )

    def name_last_first(self) -> Draft:
        return self.name_variant("name_last_first", self.people, display.last_first)

    def name_middle_initial(self) -> Draft:
        return self.name_variant(
            "name_middle_initial", self.pools["middle"], display.middle_initial
        )

    def name_nickname(self) -> Draft:
        return self.name_variant(
            "name_nickname", self.pools["nickname"], display.nickname
        )

    def name_typo(self) -> Draft:
        while True:
            draft = self.name_variant("name_typo", self.pools["typo"], display.typo)
            written = draft_external_name(draft)
            last = (written or "").split(" ")[-1].lower()
            # A slip that spells another person's surname is no typo to a reader.
            own = {
                _plain(self.world.people[e.person].last).lower()
                for e in draft.expected
                if e.person
            }
            if last not in self.surnames or last in own:
                return draft

    def name_hyphenated(self) -> Draft:
        if self.rng.random() < 0.3:
            # Someone who hyphenated a surname the list has alone.
            return self.name_variant(
                "name_hyphenated", self.pools["single_surname"], display.hyphenated
            )
        return self.name_variant(
            "name_hyphenated", self.pools["hyphenated"], display.hyphenated
        )

    def name_maiden(self) -> Draft:
        return self.name_variant("name_maiden", self.pools["maiden"], display.maiden)

    def name_encoded_words(self) -> Draft:
        """Write an accented name in encoded words, decoded by the mail parser."""
        rng = self.rng
        person = self.pick(self.pools["accented"])
        practice = self.practice_of(person)
        address = self.unlisted_address(person, practice.mail_domain)
        header = display.encoded_header(display.accented(person), address, rng)
        sender = self.participant("from", address, header=header)
        expected = self.name_at_domain_expected(
            person, practice.mail_domain, _plain(display.accented(person))
        )
        return self.inbound(sender, "name_encoded_words", expected)

    # -- same names and shared domains -------------------------------------------

    def same_name(self) -> Draft:
        """Write mail from one of two providers of the same name."""
        rng = self.rng
        person = rng.choice(rng.choice(self.world.twins))
        practice = self.practice_of(person)
        name = f"{display.plain_first(person)} {display.plain_last(person)}"
        if rng.random() < 0.6:
            address = (
                rng.choice(person.emails)
                if person.emails and rng.random() < 0.5
                else (self.unlisted_address(person, practice.mail_domain))
            )
            expected = self.name_at_domain_expected(person, practice.mail_domain, name)
            if address in person.emails:
                expected = [Expected(person.practice_id, person.id, "confirmed")]
        else:
            address = (
                f"{_plain(person.last).lower()}.md@{rng.choice(FREE_MAIL_DOMAINS)}"
            )
            expected = [Expected(person.practice_id, person.id, "needs_review")]
        return self.email_either_way((address, name), "same_name", expected)

    def health_system_person(self) -> Draft:
        """Write mail from a person of a health system's practice, at its domain."""
        people = self.pools["system"]
        shape = self.rng.choice(
            (display.with_credentials, display.last_first, display.middle_initial)
        )
        people = [p for p in people if shape is not display.middle_initial or p.middle]
        if shape is display.with_credentials:
            people = [p for p in people if p.kind == "provider"]
        return self.name_variant("health_system_person", people, shape)

    def health_system_staff(self) -> Draft:
        """Unknown staff at a domain shared by four or more practices."""
        practice = self.rng.choice(self.system_practices)
        address, name = self.unknown_staff(practice, practice.domains[0])
        draft = self.email_either_way((address, name), "health_system_staff", [])
        draft.note = (
            f"sender works at practice {practice.id}, one of many at the domain"
        )
        return draft

    def sister_practice_staff(self) -> Draft:
        """Unknown staff at a domain that two practices share."""
        practice = self.rng.choice(self.sister_practices)
        address, name = self.unknown_staff(practice, practice.domains[0])
        sharing = len(self.world.practices_by_domain[practice.domains[0]])
        return self.email_either_way(
            (address, name),
            "sister_practice_staff",
            narrowed(practice.id, None, sharing),
        )

    # -- activities that are no touchpoint ------------------------------------------

    def look_alike_org(self) -> Draft:
        rng = self.rng
        org = rng.choice(self.world.look_alikes)
        first, last = rng.choice(org.people)
        if rng.random() < 0.3:
            return self.look_alike_meeting(org)
        name = rng.choice((f"{first} {last}", f"{first} {last} | {org.name}", org.name))
        local = rng.choice(
            (f"{first.lower()}.{last.lower()}", "orders", "claims", "intake")
        )
        subject = rng.choice(VENDOR_SUBJECTS + (f"{org.name} - account update",))
        draft = self.email_either_way(
            (f"{local}@{org.domain}", name), "look_alike_org", []
        )
        draft.subject = subject
        draft.note = f"{org.kind} {org.name}"
        return draft

    def look_alike_meeting(self, org: LookAlike) -> Draft:
        rng = self.rng
        title = rng.choice(
            (f"Demo - {org.name}", f"Call with {org.name} rep", f"{org.name} meeting")
        )
        location = rng.choice((org.address.canonical(), None))
        draft = self.meeting([], "look_alike_org", [], title, location)
        draft.note = f"{org.kind} {org.name}"
        return draft

    def namesake_free_mail(self) -> Draft:
        """Write mail from a patient who shares a provider's name."""
        person = self.pick(self.providers)
        name = f"{display.plain_first(person)} {display.plain_last(person)}"
        local = f"{_plain(person.last).lower()}fam{person.id % 89 + 10}"
        address = f"{local}@{FREE_MAIL_DOMAINS[person.id % 5]}"
        sender = self.participant("from", address, name)
        draft = self.inbound(
            sender, "namesake_free_mail", [], self.rng.choice(PATIENT_SUBJECTS)
        )
        draft.note = f"a patient who shares the name of source {person.id}"
        return draft

    def unrelated(self) -> Draft:
        rng = self.rng
        if rng.random() < 0.7:
            address, name = self.patient()
        else:
            vendor = rng.randrange(40)
            domain = (
                "cityparks.example",
                "acme-billing.example",
                "unitedcourier.example",
            )[vendor % 3]
            address, name = f"rep{vendor}@{domain}", f"Account Rep {vendor}"
        sender = self.participant("from", address, name)
        return self.inbound(
            sender, "unrelated", [], rng.choice(PATIENT_SUBJECTS + VENDOR_SUBJECTS)
        )

    def patient(self) -> tuple[str, str]:
        """Return the address and name of one of the clinic's patients.

        Patients come from a pool, so that each writes several times, as in
        a real mailbox.
        """
        number = self.rng.randrange(self.patient_count)
        first = ("Tyler", "Morgan", "Riley", "Casey", "Avery", "Quinn", "Jamie")[
            number % 7
        ]
        last = ("Hollis", "Marsh", "Tatum", "Lyle", "Pryor", "Quade", "Vance")[
            number // 7 % 7
        ]
        return (
            f"{first.lower()}{number}@{FREE_MAIL_DOMAINS[number % 5]}",
            f"{first} {last}",
        )

    def bulk(self) -> Draft:
        rng = self.rng
        practice = rng.choice(self.practices)
        domain = practice.domains[-1]
        if rng.random() < 0.85:
            local = rng.choice(("newsletter", "news", "marketing", "updates", "events"))
            flags = ["bulk"]
        else:
            # Without list headers, only the sender address gives it away.
            local = rng.choice(("no-reply", "noreply", "notifications", "do-not-reply"))
            flags = []
        sender = self.participant(
            "from",
            f"{local}@{domain}",
            rng.choice((practice.name, f"{practice.place} News")),
        )
        subject = rng.choice(
            (
                "Spring newsletter",
                "New provider joins our team",
                "Holiday hours",
                "Patient portal update",
            )
        )
        draft = self.inbound(sender, "bulk", [], subject)
        draft.flags = flags
        return draft

    def auto_reply(self) -> Draft:
        person = self.pick(self.pools["with_email"])
        sender = self.participant(
            "from",
            person.emails[0],
            f"{display.plain_first(person)} {display.plain_last(person)}",
        )
        subject = self.rng.choice(
            (
                "Automatic reply: Referral for shared patient",
                "Out of Office: PT plan of care",
            )
        )
        draft = self.inbound(sender, "auto_reply", [], subject)
        draft.flags = ["auto_reply"]
        return draft

    def meeting_declined(self) -> Draft:
        person = self.pick(self.pools["with_email"])
        staff_name, staff_address = self.staff()
        participants = [
            self.participant(
                "organizer", person.emails[0], person.source_name(), response="accepted"
            ),
            self.participant(
                "attendee", staff_address, staff_name, response="declined"
            ),
        ]
        draft = Draft(
            "meeting",
            "meeting_declined",
            participants,
            "Care coordination call",
            flags=["declined"],
        )
        return draft

    def meeting_cancelled(self) -> Draft:
        person = self.pick(self.pools["with_email"])
        practice = self.practice_of(person)
        attendee = self.participant(
            "attendee", person.emails[0], person.source_name(), response="accepted"
        )
        return self.meeting(
            [attendee],
            "meeting_cancelled",
            [],
            f"Canceled: Lunch and learn - {practice.name}",
            None,
            ["cancelled"],
        )

    def internal_email(self) -> Draft:
        rng = self.rng
        (name_a, address_a), (name_b, address_b) = rng.sample(self.world.staff, 2)
        practice = rng.choice(self.practices)
        subject = rng.choice(
            (
                f"{practice.place} lunch plan",
                "Schedule for next week",
                f"Re: {practice.name} referrals",
            )
        )
        participants = [
            self.participant("from", address_a, name_a),
            self.participant("to", address_b, name_b),
        ]
        if rng.random() < 0.3:
            participants.append(
                self.participant("cc", f"billing@{STAFF_DOMAIN}", "Brookside Billing")
            )
        return Draft("email", "internal_email", participants, subject)

    def internal_meeting(self) -> Draft:
        rng = self.rng
        staff = rng.sample(self.world.staff, rng.randrange(2, 4))
        practice = rng.choice(self.practices)
        title = rng.choice(
            ("Team huddle", "Marketing sync", f"Plan {practice.place} visit", "1:1")
        )
        participants = [
            self.participant("organizer", staff[0][1], staff[0][0], response="accepted")
        ]
        participants += [
            self.participant("attendee", a, n, response="accepted")
            for n, a in staff[1:]
        ]
        return Draft("meeting", "internal_meeting", participants, title)

    # -- meetings ------------------------------------------------------------------

    def meeting(
        self,
        attendees: list[dict[str, object]],
        case: str,
        expected: list[Expected],
        title: str | None,
        location: str | None = None,
        flags: list[str] | None = None,
    ) -> Draft:
        staff_name, staff_address = self.staff()
        organizer = self.participant(
            "organizer", staff_address, staff_name, response="accepted"
        )
        return Draft(
            "meeting",
            case,
            [organizer, *attendees],
            title,
            location,
            flags or [],
            expected,
        )

    def meeting_attendee(self) -> Draft:
        rng = self.rng
        person = self.pick(self.pools["listed"])
        attendee = self.participant(
            "attendee",
            _practice_email(person),
            person.source_name(),
            response=rng.choice(("accepted", "needs-action")),
        )
        title = rng.choice(("Lunch and learn", "Referral review", "In-service", None))
        expected = [Expected(person.practice_id, person.id, "confirmed")]
        return self.meeting([attendee], "meeting_attendee", expected, title)

    def meeting_title_practice(self) -> Draft:
        rng = self.rng
        practice = rng.choice(self.practices)
        form = rng.choice(
            (practice.name, f"{practice.place} {rng.choice(practice.specialty.short)}")
        )
        title = rng.choice(
            (
                f"Drop off brochures - {form}",
                f"Lunch and learn @ {form}",
                f"{form} in-service",
                f"Visit {form}",
                f"Breakfast for {form} staff",
            )
        )
        return self.meeting(
            [],
            "meeting_title_practice",
            [Expected(practice.id, None, "confirmed")],
            title,
        )

    def meeting_title_person(self) -> Draft:
        rng = self.rng
        person = self.pick(self.providers)
        first, last = display.plain_first(person), display.plain_last(person)
        if person.is_doctor and rng.random() < 0.5:
            title = rng.choice(
                (
                    f"Lunch w/ Dr. {last}",
                    f"Drop off brochures for Dr. {last}",
                    f"Dr. {last} lunch",
                )
            )
            candidates = [
                p
                for p in self.by_surname_form[last.lower().replace("'", "")]
                if p.kind == "provider"
            ]
        else:
            given = rng.choice((first, *NICKNAMES.get(person.first, ())))
            title = rng.choice(
                (
                    f"Coffee with {given} {last}",
                    f"Call {given} {last} re: referrals",
                    f"Lunch - {given} {last}",
                )
            )
            candidates = [
                p
                for p in self.by_surname_form[last.lower().replace("'", "")]
                if _plain(p.first).lower() == first.lower()
            ]
        practice_ids = {p.practice_id for p in candidates}
        if len(candidates) == 1:
            expected = [Expected(person.practice_id, person.id, "confirmed")]
        elif len(practice_ids) == 1:
            expected = [Expected(person.practice_id, None, "confirmed")]
        else:
            expected = narrowed(person.practice_id, person.id, len(practice_ids))
        return self.meeting([], "meeting_title_person", expected, title)

    def meeting_location(self) -> Draft:
        rng = self.rng
        practice = rng.choice(self.practices)
        address = practice.address
        building = self.world.practices_by_street[(address.number, address.street)]
        keep_suite = address.suite is not None and (
            len(building) == 1 or rng.random() < 0.7
        )
        location = written_address(address, keep_suite, rng)
        title = rng.choice(("Visit", "Lunch and learn", "Drop-in", "In-service", None))
        if keep_suite or len(building) == 1:
            expected = [Expected(practice.id, None, "confirmed")]
        else:
            expected = narrowed(practice.id, None, len(building))
        return self.meeting([], "meeting_location", expected, title, location)

    # -- several recipients and threads ------------------------------------------

    def two_practices(self) -> Draft:
        rng = self.rng
        first = self.pick(self.pools["listed"])
        while True:
            second = self.pick(self.pools["listed"])
            if not set(self.practice_of(first).domains) & set(
                self.practice_of(second).domains
            ):
                break
        to = self.participant(
            "to",
            _practice_email(first),
            f"{display.plain_first(first)} {display.plain_last(first)}",
        )
        cc = self.participant(rng.choice(("to", "cc")), _practice_email(second), None)
        expected = [
            Expected(first.practice_id, first.id, "confirmed"),
            Expected(second.practice_id, second.id, "confirmed"),
        ]
        return self.outbound([to, cc], "two_practices", expected)

    def cc_bcc(self) -> Draft:
        rng = self.rng
        person = self.pick(self.pools["listed"])
        source = self.participant(
            rng.choice(("cc", "bcc")), _practice_email(person), person.source_name()
        )
        expected = [Expected(person.practice_id, person.id, "confirmed")]
        if source["role"] == "bcc" or rng.random() < 0.5:
            other = self.participant("to", *self.patient())
            return self.outbound([other, source], "cc_bcc", expected)
        patient = self.participant("from", *self.patient())
        return self.inbound(
            patient, "cc_bcc", expected, rng.choice(PATIENT_SUBJECTS), cc=[source]
        )

    def thread(self) -> list[Draft]:
        """Write a conversation: a first message, then replies that may add nothing."""
        rng = self.rng
        person = self.pick(self.pools["listed_providers"])
        practice = self.practice_of(person)
        name = f"{display.plain_first(person)} {display.plain_last(person)}"
        subject = rng.choice(SUBJECTS).removeprefix("Re: ")
        if rng.random() < 0.8:
            status = "confirmed"
            root = (_practice_email(person), name)
        else:
            status = "needs_review"
            root = (personal_address(person), f"Dr. {name}")
        expected = [Expected(practice.id, person.id, status)]
        first = self.inbound(
            self.participant("from", *root), "thread", expected, subject
        )
        drafts = [first]
        for _ in range(rng.randrange(1, 4)):
            shape = rng.choice(("phone", "patient", "reply", "forward"))
            if shape == "phone":
                phone = personal_address(person)
                reply = self.inbound(
                    self.participant("from", phone, name),
                    "thread",
                    expected,
                    f"Re: {subject}",
                )
            elif shape == "patient":
                family = self.participant("to", *self.patient())
                reply = self.outbound([family], "thread", expected, f"Re: {subject}")
            elif shape == "reply":
                reply = self.outbound(
                    [self.participant("to", *root)],
                    "thread",
                    expected,
                    f"Re: {subject}",
                )
            else:
                # Forwarded to a colleague only: internal mail, no touchpoint.
                name_b, address_b = self.staff()
                colleague = self.participant("to", address_b, name_b)
                reply = self.outbound([colleague], "thread", [], f"Fwd: {subject}")
            reply.offset_minutes = rng.randrange(20, 60 * 24)
            drafts.append(reply)
        return drafts


def personal_address(person: Person) -> str:
    """Return a provider's own consumer address, which the source list lacks."""
    first = _plain(person.first).lower()
    last = _plain(person.last).lower().replace("'", "").replace("-", "")
    return f"{first}.{last}{person.id % 89 + 10}@{FREE_MAIL_DOMAINS[person.id % 5]}"


def narrowed(
    practice_id: int, person_id: int | None, practice_count: int
) -> list[Expected]:
    """Label evidence that fits `practice_count` practices equally well."""
    if practice_count <= 1:
        return [Expected(practice_id, person_id, "confirmed")]
    if practice_count <= 3:
        return [Expected(practice_id, person_id, "needs_review")]
    return []


def written_address(
    address: StreetAddress, keep_suite: bool, rng: random.Random
) -> str:
    """Write a street address another way than the source list does."""
    parts = [str(address.number)]
    if address.direction:
        parts.append(rng.choice(address.direction) + rng.choice(("", ".")))
    street = address.street
    if street in ("Fifth", "Second", "Third") and rng.random() < 0.6:
        street = {"Fifth": "5th", "Second": "2nd", "Third": "3rd"}[street]
    parts.append(street)
    suffix = rng.choice(address.suffix)
    parts.append(
        suffix + ("." if suffix == address.suffix[1] and rng.random() < 0.4 else "")
    )
    line = " ".join(parts)
    if keep_suite and address.suite:
        unit = rng.choice(
            (
                f"Suite {address.suite}",
                f"Ste {address.suite}",
                f"Ste. {address.suite}",
                f"#{address.suite}",
            )
        )
        line += rng.choice((", ", " ")) + unit
    if rng.random() < 0.5:
        line += f", {address.city[0]}"
    if rng.random() < 0.3:
        line = line.upper()
    return line


def draft_external_name(draft: Draft) -> str | None:
    for participant in draft.participants:
        if not str(participant["address"]).endswith(STAFF_DOMAIN):
            return participant.get("name")  # type: ignore[return-value]
    return None


_TITLES_AND_CREDENTIALS = frozenset(
    {"dr", "doctor", "md", "do", "np", "pac", "fnpbc", "faaos"}
)


def _name_words(written: str) -> set[str]:
    """Return the folded words of a written name, without titles and credentials."""
    text = _plain(written).lower().replace(".", "").replace("-", " ").replace(",", " ")
    return {word.replace("'", "") for word in text.split()} - _TITLES_AND_CREDENTIALS


def _given_initial(written: str) -> str:
    """Return the initial of the given name a written name shows, or ""."""
    text = _plain(written).lower().replace("m.d.", "md")
    before, _, after = text.replace(".", " ").partition(",")
    after_words = [
        w for w in after.replace(",", " ").split() if w not in _TITLES_AND_CREDENTIALS
    ]
    if after_words:
        # "Lopez, Maria": the given name follows the comma.
        return after_words[0][0]
    words = [w for w in before.split() if w not in _TITLES_AND_CREDENTIALS]
    return words[0][0] if len(words) > 1 else ""


def _surname_forms(person: Person) -> set[str]:
    last = _plain(person.last).lower().replace("'", "")
    forms = {last, *last.split("-")}
    if person.maiden:
        forms.add(person.maiden.lower())
    return forms


def _listed_at_practice(person: Person) -> bool:
    return any(not _is_free(address) for address in person.emails)


def _practice_email(person: Person) -> str:
    return next(address for address in person.emails if not _is_free(address))


def _is_free(address: str) -> bool:
    return address.rpartition("@")[2] in FREE_MAIL_DOMAINS


def generate(
    practice_count: int,
    activity_count: int,
    seed: int,
    weights: Mapping[str, float] | None = None,
) -> tuple[World, list[dict[str, object]]]:
    """Build a world and about `activity_count` labelled activities about it.

    `weights` sets the share of each kind, KIND_WEIGHTS by default.
    """
    weights = weights or KIND_WEIGHTS
    rng = random.Random(seed)
    world = WorldBuilder(rng, practice_count).build()
    composer = Composer(world, rng, max(50, activity_count // 100))
    scale = activity_count / sum(weights.values())
    # A thread's messages stay together, so that replies follow their start.
    groups: list[list[Draft]] = []
    for kind, weight in weights.items():
        make = getattr(composer, kind)
        count = max(1, round(weight * scale))
        made = 0
        while made < count:
            result = make()
            batch = result if isinstance(result, list) else [result]
            groups.append(batch)
            made += len(batch)
    rng.shuffle(groups)
    return world, _to_json(groups, rng)


def _to_json(groups: list[list[Draft]], rng: random.Random) -> list[dict[str, object]]:
    """Give each activity its ids and time; replies follow their thread."""
    rows: list[dict[str, object]] = []
    for number, group in enumerate(groups):
        when = START + dt.timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        previous: list[str] = []
        for index, draft in enumerate(group):
            when += dt.timedelta(minutes=draft.offset_minutes)
            external_id = f"a{number}.{index}@eval.example"
            row: dict[str, object] = {
                "kind": draft.kind,
                "case": draft.case,
                "external_id": external_id,
                "occurred_at": when.isoformat(),
                "participants": draft.participants,
                "subject": draft.subject,
                "location": draft.location,
                "flags": draft.flags,
                "in_reply_to": previous[-1] if previous else None,
                "references": list(previous),
                "expected": [dataclasses.asdict(item) for item in draft.expected],
            }
            if draft.note:
                row["note"] = draft.note
            rows.append(row)
            previous.append(external_id)
    rows.sort(key=lambda row: (row["occurred_at"], row["external_id"]))
    return rows


def workspace(world: World) -> dict[str, object]:
    return {
        "own_domains": [STAFF_DOMAIN],
        "staff_addresses": [address for _, address in world.staff],
    }


def write(out: Path, world: World, activities: list[dict[str, object]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "sources.jsonl").open("w", encoding="utf-8") as file:
        for row in world.source_records():
            file.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    with (out / "activities.jsonl").open("w", encoding="utf-8") as file:
        for row in activities:
            file.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    (out / "workspace.json").write_text(
        json.dumps(workspace(world), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Generate the matcher's labelled evaluation set."
    )
    parser.add_argument("--out", type=Path, default=DATA, help="output folder")
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument(
        "--practices", type=int, default=200, help="practices to invent"
    )
    parser.add_argument(
        "--activities", type=int, default=4000, help="activities to write, about"
    )
    arguments = parser.parse_args()
    world, activities = generate(
        arguments.practices, arguments.activities, arguments.seed
    )
    write(arguments.out, world, activities)
    sources = len(world.source_records())
    print(
        f"wrote {sources} sources and {len(activities)} activities to {arguments.out}"
    )


if __name__ == "__main__":
    main()
