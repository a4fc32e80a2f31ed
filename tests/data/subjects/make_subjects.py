"""Write subjects.jsonl: invented mail subjects with their patient identifiers marked.

Run from the repository root with `python tests/data/subjects/make_subjects.py`.
The output depends only on SEED, so a second run writes the same bytes.

Each line of subjects.jsonl is one subject:

    {"subject": "...", "identifiers": [{"start": 11, "end": 19, "kind": "...",
     "text": "..."}]}

`start` and `end` are character offsets into the subject (end exclusive),
and `text` repeats the marked characters so a reader can check them.  A
subject with no identifiers is harmless: redaction should leave it as it
is.  The kinds are birth_date, record_number, account_number, member_id,
phone, patient_name and ssn.

Every name, number and practice is invented.  Phone numbers are in the
555-0100 to 555-0199 range that is reserved for fiction.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path

SEED = 2026
OUTPUT = Path(__file__).with_name("subjects.jsonl")
IDENTIFIER_FILLS = 4
HARMLESS_FILLS = 3

FIRST_NAMES = (
    "Jane", "John", "Edith", "Tom", "Lena", "Walt", "Maria", "Robert", "Aisha",
    "Kenji", "Renée", "José", "Siobhan", "Harold", "Priya", "Dmitri", "Grace",
    "Luis", "Fatima", "Noah", "Ingrid", "Marcus", "Yolanda", "Chen", "Bridget",
    "Tomasz", "Ama", "Declan", "Rosa", "Eli",
)  # fmt: skip
SURNAMES = (
    "Doe", "Roe", "Nakamura", "Becker", "Haddad", "Lindqvist", "Gonzalez",
    "O'Neil", "McAllister", "Kim-Lund", "DeLuca", "Okafor", "Kowalski", "Brandt",
    "Whitaker", "Dubois", "Finch", "Alvarez", "Nguyen", "Fitzgerald", "Ruiz Soto",
    "Abernathy", "Szymanski", "Mensah", "Castellanos", "Hughes", "Patterson",
    "Yamamoto", "Oduya", "Van Buren",
)  # fmt: skip
HONORIFICS = ("Mr.", "Mrs.", "Ms.", "Miss", "Mr", "Mrs")
PAYERS = ("BCBS", "Aetna", "UHC", "Cigna", "Humana", "Medicaid", "Lakeside Mutual")

PRACTICES = (
    "Riverside Family Medicine", "Cedar Internal Medicine", "Northgate Clinic",
    "Summit Sports Medicine", "Maple Grove Pediatrics", "Lakeside Orthopedics",
    "Prairie View Family Practice", "Harbor Point Urgent Care",
    "Ridgeway Orthopedic Associates", "Elmwood Geriatrics",
)  # fmt: skip
PROVIDERS = (
    ("Anil", "Patel", "MD"), ("Grace", "Kim-Whitfield", "MD"),
    ("Renee", "O'Brien", "DO"), ("Thao", "Nguyen", "NP"),
    ("Victor", "Okafor", "MD"), ("Elizabeth", "Park", "PA-C"),
    ("Walter", "Hollis", "MD"), ("Tomás", "Álvarez", "CPNP"),
    ("David", "Kim", "MD"), ("Maria", "Lopez", "MD"),
)  # fmt: skip
CONTACTS = (
    ("Linda Haas", "office manager"), ("Kevin Doyle", "referral coordinator"),
    ("Ana Diaz", "referral coordinator"), ("Tyrone Banks", "practice manager"),
    ("Melissa Grant", "front desk"),
)  # fmt: skip
CONDITIONS = (
    "chronic low back pain", "knee OA", "rotator cuff repair, post-op wk 2",
    "ankle sprain", "neck pain", "TKA post-op", "plantar fasciitis",
    "BPPV / dizziness", "ACL recon", "hip bursitis", "fall risk", "tennis elbow",
)  # fmt: skip
TOPICS = (
    "low back pain pathways", "direct access in Illinois", "concussion return to play",
    "falls prevention", "post-op knee protocols",
)  # fmt: skip
MONTHS = ("January", "March", "April", "June", "August", "October", "November")
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                       "Sep", "Oct", "Nov", "Dec")  # fmt: skip

# Templates of subjects that name or number a patient.  A slot in braces is
# filled from SLOTS; slots listed in IDENTIFIER_SLOTS are marked.
IDENTIFIER_TEMPLATES = (
    "Referral - {name}, DOB {dob}",
    "New referral: {name} DOB: {dob}",
    "RE: {name} ({old_date})",
    "Pt {initial_last} - eval request",
    "pt {name} called to reschedule",
    "Patient: {last_first} - plan of care",
    "Plan of care for {name} - signature needed",
    "MRN {mrn} - referral attached",
    "MRN# {mrn} follow-up",
    "Records request, MR# {mrn}",
    "Chart {mrn} progress note",
    "Acct {account} - billing question",
    "Statement for account #{account}",
    "Balance due acct# {account}",
    "Auth needed - member ID {member}",
    "{payer} ID {member} eligibility check",
    "Medicare MBI {mbi} on order",
    "Ins verification: {payer} member # {member}",
    "Please call pt at {phone}",
    "pt cell {phone} - wants earlier appt",
    "Voicemail from patient, callback {phone}",
    "Call back {name} at {phone}",
    "{name} DOB {dob} MRN {mrn}",
    "{last_first} DOB {dob}",
    "Missed visits - {honorific} {last}",
    "Referral for {honorific} {last}",
    "Progress note, DOB {dob}",
    "Fax referral - {name} {old_date}",
    "Re: {name} - {condition}",
    "{name} eval scheduled {recent}",
    "Discharge summary - {name}, MRN {mrn}",
    "Question re pt {last}",
    "Patient {name} no-show today",
    "Updated orders for {honorific} {last} (DOB {dob})",
    "{payer} denial - {name}, member {member}",
    "Pt phone # {phone}",
    "Mother of pt {name} called - {phone}",
    "Your patient {name} started PT",
    "DOB {dob} / MRN {mrn} - order unsigned",
    "Subscriber ID {member} - {name}",
    "Follow-up on {name}",
    "Rx for {name}, DOB {dob}",
    "f/u {name} post-op wk 2",
    "Last 4 of SSN {ssn4} for chart",
    "Pt. {name} - home exercise program",
    "Re: Referral for {name}",
    "Patient DOB {dob} needed",
    "{honorific} {last} called, cb {phone}",
    "Acct no. {account} / DOS {recent}",
    "Order for {last_first} (MRN {mrn})",
    "FW: {name} - {condition}",
    "Referral {name} {condition}",
)

HARMLESS_TEMPLATES = (
    "Lunch-and-learn at {practice} on {recent}",
    "Brochure drop-off - {practice}",
    "Re: {practice} referral pads",
    "Dr. {provider_last} availability next week",
    "Lunch w/ Dr. {provider_last} {recent}",
    "Updated referral form ({form_version})",
    "{practice} holiday hours",
    "Fax number change: {practice_phone}",
    "Call me at {practice_phone}",
    "Q{quarter} referral numbers - {practice}",
    "Invoice {invoice} - TheraBand order",
    "Meeting {recent} at {time}",
    "Re: {provider_full} - new office location",
    "Referral from {provider_full}",
    "Thanks for the referrals this month!",
    "New patient wait times at Brookside PT",
    "Suite {suite} parking for lunch-and-learn",
    "Order #{order} shipped",
    "Direct access and your patients",
    "Do you take {payer} plans?",
    "{payer} network participation renewal",
    "Patient satisfaction survey results - {month}",
    "PT referral - {condition}",
    "New referral - {condition}",
    "Re: Plan of care for signature",
    "Progress note - initial evaluation",
    "Webinar {recent_long}: {topic}",
    "Weekly huddle with {practice}",
    "Account setup for the new portal",
    "Member ID cards for staff",
    "Ticket {invoice}: portal login issue",
    "CPT {cpt} billing question",
    "Office closed {recent} - {recent}",
    "Fwd: {practice} new fax {practice_phone}",
    "Referral for Dr. {provider_last}'s patient",
    "Re: {provider_full} referral question",
    "Intro call with {contact_name}, {contact_title}",
    "Re: {contact_name} - lunch order",
    "Room {room} for the in-service",
    "Ext. {extension} for scheduling",
    "Reminder: {month} {day} lunch",
    "{practice} open house {recent}",
    "Flu shots for staff {recent}",
    "Mileage log {month}",
    "Re: Prairie View office move",
    "ZIP {zip} flyers",
    "Records fax cover sheet v{version}",
    "Happy holidays from Brookside Physical Therapy",
    "Dr. {provider_last}'s patient started PT",
    "Re: {provider_first} {provider_last}, {credential}",
    "Visit with Dr. {provider_first} {provider_last} {recent}",
    "Can you see a new patient this week?",
    "Referral faxed today",
    "Pool therapy availability?",
    "Re: Pt education handouts",
)

IDENTIFIER_SLOTS = {
    "name": "patient_name",
    "last": "patient_name",
    "last_first": "patient_name",
    "initial_last": "patient_name",
    "dob": "birth_date",
    "old_date": "birth_date",
    "mrn": "record_number",
    "account": "account_number",
    "member": "member_id",
    "mbi": "member_id",
    "phone": "phone",
    "ssn4": "ssn",
}

SLOT = re.compile(r"\{([a-z_0-9]+)\}")


def birth_date(rng: random.Random, *, pediatric_share: float = 0.15) -> str:
    if rng.random() < pediatric_share:
        year = rng.randint(2008, 2021)
    else:
        year = rng.randint(1934, 2004)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    forms = (
        f"{month:02d}/{day:02d}/{year}",
        f"{month}/{day}/{year % 100:02d}",
        f"{month}-{day}-{year}",
        f"{year}-{month:02d}-{day:02d}",
        f"{MONTH_ABBREVIATIONS[month - 1]} {day}, {year}",
        f"{day} {MONTH_ABBREVIATIONS[month - 1]} {year}",
        f"{month:02d}.{day:02d}.{year}",
        f"{month}/{day}/{year}",
    )
    return rng.choice(forms)


def old_birth_date(rng: random.Random) -> str:
    return birth_date(rng, pediatric_share=0.0)


def recent_date(rng: random.Random) -> str:
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        (
            f"{month}/{day}",
            f"{month}/{day}/2026",
            f"{month}/{day}/26",
            f"2026-{month:02d}-{day:02d}",
        )
    )


def recent_long_date(rng: random.Random) -> str:
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return f"{MONTH_ABBREVIATIONS[month - 1]} {day}, 2026"


def full_name(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    form = rng.random()
    if form < 0.15:
        return f"{first} {rng.choice('ABCDEJKLMRST')}. {last}"
    return f"{first} {last}"


def phone(rng: random.Random) -> str:
    line = f"01{rng.randint(40, 99)}"
    return rng.choice(
        (f"(630) 555-{line}", f"630-555-{line}", f"630.555.{line}",
         f"630555{line}", f"+1 630 555 {line}", f"847-555-{line}")
    )  # fmt: skip


def record_number(rng: random.Random) -> str:
    digits = rng.randint(100000, 9999999)
    return rng.choice(
        (f"{digits:08d}", str(digits), f"MR-{digits}", f"A{digits % 100000:05d}")
    )


def account_number(rng: random.Random) -> str:
    return rng.choice(
        (str(rng.randint(1000, 99999)), f"{rng.randint(10, 9999):04d}-{rng.randint(100, 999)}",
         f"{rng.randint(100000, 999999)}-01")
    )  # fmt: skip


def member_id(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDHJKMWXZ") for _ in range(rng.randint(1, 3)))
    return f"{letters}{rng.randint(10000000, 999999999)}"


def medicare_id(rng: random.Random) -> str:
    characters = "ACDEFGHJKMNPQRTUVWXY"
    raw = (
        f"{rng.randint(1, 9)}{rng.choice(characters)}{rng.choice(characters + '0123456789')}"
        f"{rng.randint(0, 9)}{rng.choice(characters)}{rng.choice(characters + '0123456789')}"
        f"{rng.randint(0, 9)}{rng.choice(characters)}{rng.choice(characters)}"
        f"{rng.randint(0, 9)}{rng.randint(0, 9)}"
    )
    return rng.choice((raw, f"{raw[:4]}-{raw[4:7]}-{raw[7:]}"))


SLOTS: dict[str, Callable[[random.Random], str]] = {
    "name": full_name,
    "last": lambda rng: rng.choice(SURNAMES),
    "last_first": lambda rng: f"{rng.choice(SURNAMES)}, {rng.choice(FIRST_NAMES)}",
    "initial_last": lambda rng: f"{rng.choice(FIRST_NAMES)[0]}. {rng.choice(SURNAMES)}",
    "honorific": lambda rng: rng.choice(HONORIFICS),
    "dob": birth_date,
    "old_date": old_birth_date,
    "mrn": record_number,
    "account": account_number,
    "member": member_id,
    "mbi": medicare_id,
    "phone": phone,
    "ssn4": lambda rng: f"{rng.randint(1000, 9999)}",
    "payer": lambda rng: rng.choice(PAYERS),
    "condition": lambda rng: rng.choice(CONDITIONS),
    "recent": recent_date,
    "recent_long": recent_long_date,
    "practice": lambda rng: rng.choice(PRACTICES),
    "provider_last": lambda rng: rng.choice(PROVIDERS)[1],
    "provider_first": lambda rng: rng.choice(PROVIDERS)[0],
    "provider_full": lambda rng: "{} {}, {}".format(*rng.choice(PROVIDERS)),
    "credential": lambda rng: rng.choice(PROVIDERS)[2],
    "contact_name": lambda rng: rng.choice(CONTACTS)[0],
    "contact_title": lambda rng: rng.choice(CONTACTS)[1],
    "form_version": lambda rng: f"v2026-{rng.randint(1, 12):02d}",
    "practice_phone": lambda rng: f"(630) 555-01{rng.randint(10, 39)}",
    "quarter": lambda rng: str(rng.randint(1, 4)),
    "invoice": lambda rng: f"2026-{rng.randint(100, 9999):04d}",
    "time": lambda rng: rng.choice(("12:30", "7:30am", "noon", "3 pm")),
    "suite": lambda rng: str(rng.choice((110, 200, 310))),
    "order": lambda rng: str(rng.randint(1000, 99999)),
    "month": lambda rng: rng.choice(MONTHS),
    "day": lambda rng: str(rng.randint(1, 28)),
    "topic": lambda rng: rng.choice(TOPICS),
    "cpt": lambda rng: rng.choice(("97110", "97161", "97140", "97530")),
    "room": lambda rng: rng.choice(("4B", "210", "C-12")),
    "extension": lambda rng: str(rng.randint(2, 40)),
    "zip": lambda rng: rng.choice(("60591", "60592", "60593")),
    "version": lambda rng: str(rng.randint(2, 9)),
}


def fill(template: str, rng: random.Random) -> dict[str, object]:
    """Fill a template's slots, marking the identifier slots."""
    pieces: list[str] = []
    identifiers = []
    position = 0
    length = 0
    for match in SLOT.finditer(template):
        literal = template[position : match.start()]
        pieces.append(literal)
        length += len(literal)
        slot = match.group(1)
        value = SLOTS[slot](rng)
        if slot in IDENTIFIER_SLOTS:
            identifiers.append(
                {"start": length, "end": length + len(value), "kind": IDENTIFIER_SLOTS[slot],
                 "text": value}
            )  # fmt: skip
        pieces.append(value)
        length += len(value)
        position = match.end()
    pieces.append(template[position:])
    return {"subject": "".join(pieces), "identifiers": identifiers}


def main() -> None:
    rng = random.Random(SEED)
    rows = []
    for template in IDENTIFIER_TEMPLATES:
        for _ in range(IDENTIFIER_FILLS):
            rows.append(fill(template, rng))
    for template in HARMLESS_TEMPLATES:
        fills = HARMLESS_FILLS if SLOT.search(template) else 1
        for _ in range(fills):
            rows.append(fill(template, rng))
    unique = {row["subject"]: row for row in rows}
    with OUTPUT.open("w", encoding="utf-8", newline="\n") as handle:
        for row in unique.values():
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    marked = sum(len(row["identifiers"]) for row in unique.values())  # type: ignore[arg-type]
    print(f"{len(unique)} subjects, {marked} identifiers written to {OUTPUT}")


if __name__ == "__main__":
    main()
