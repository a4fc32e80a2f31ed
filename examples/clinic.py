"""The fictional Brookside Physical Therapy clinic and its referral sources.

Every person, practice, address and phone number here is invented.  Domains
use the reserved .example top-level domain (RFC 2606) and phone numbers the
555-0100 to 555-0199 range that is reserved for fiction.

The generators in this folder read these tables, so the mailbox, the
calendars and sources.csv name the same people at the same addresses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from stdnum import luhn

EXPORT_DATE = dt.date(2026, 11, 30)
"""Day the example exports were taken; "days ago" counts back from here."""

FIRST_DAY = dt.date(2026, 2, 2)
"""First day with mail or meetings in the exports."""

CLINIC_NAME = "Brookside Physical Therapy"
CLINIC_DOMAIN = "brookside-pt.example"
CLINIC_PHONE = "(630) 555-0100"
CLINIC_FAX = "(630) 555-0101"
CLINIC_ADDRESS = "500 Brookside Ave, Millbrook Falls, IL 60591"


@dataclasses.dataclass(frozen=True)
class StaffMember:
    """A Brookside staff member who uses Warmline."""

    key: str
    name: str
    email: str
    aliases: tuple[str, ...]
    role: str
    timezone: str = "America/Chicago"


@dataclasses.dataclass(frozen=True)
class Practice:
    """A referring practice.

    `last_touch` is the day of the last mail or meeting with the practice in
    the exports, or None for a practice that is never touched.
    `locations` are the practice's address as calendar entries write it.
    """

    key: str
    name: str
    title: str
    domains: tuple[str, ...]
    phones: tuple[str, ...]
    address: str
    locations: tuple[str, ...]
    last_touch: dt.date | None
    emails: tuple[str, ...] = ()
    owner: str | None = None
    cadence_days: int | None = None
    has_npi: bool = False


@dataclasses.dataclass(frozen=True)
class Person:
    """A provider or contact at a practice.

    `name` is the name as sources.csv lists it, and `display_name` is the
    name the person's mail program puts in the From header.
    """

    key: str
    kind: str
    practice: str
    name: str
    display_name: str
    title: str
    emails: tuple[str, ...]
    phones: tuple[str, ...] = ()
    owner: str | None = None
    cadence_days: int | None = None
    has_npi: bool = False

    @property
    def email(self) -> str:
        return self.emails[0]

    @property
    def first_name(self) -> str:
        return self.display_name.split()[0]


SAM = StaffMember(
    "sam",
    "Sam Ortiz",
    "sam.ortiz@brookside-pt.example",
    ("sam@brookside-pt.example",),
    "Community Liaison",
)
AMY = StaffMember(
    "amy",
    "Amy Chen",
    "amy.chen@brookside-pt.example",
    ("amy@brookside-pt.example",),
    "Physical Therapist",
)
BO = StaffMember(
    "bo",
    "Bo Lindgren",
    "bo.lindgren@brookside-pt.example",
    ("bo@brookside-pt.example",),
    "Clinic Director",
)
STAFF = (SAM, AMY, BO)

OTHER_CLINIC_ADDRESSES = {
    "marta": ("Marta Quinn", "marta.quinn@brookside-pt.example"),
    "frontdesk": ("Brookside Front Desk", "frontdesk@brookside-pt.example"),
    "team": ("Referral Team", "referrals@brookside-pt.example"),
}
"""Clinic addresses that are not Warmline users: billing, front desk, a list."""

PRACTICES = (
    Practice(
        key="riverside",
        name="Riverside Family Medicine",
        title="Family Medicine",
        domains=("riverside-fm.example",),
        emails=("referrals@riverside-fm.example",),
        phones=("(630) 555-0110", "(630) 555-0111"),
        address="1420 Riverside Dr, Suite 200, Millbrook Falls, IL 60591",
        locations=(
            "Riverside Family Medicine, 1420 Riverside Drive #200, "
            "Millbrook Falls, IL 60591, USA",
            "1420 Riverside Dr. Ste 200, Millbrook Falls",
            "Riverside FM - 2nd floor break room",
        ),
        last_touch=dt.date(2026, 11, 25),
        owner=SAM.email,
        cadence_days=14,
        has_npi=True,
    ),
    Practice(
        key="lakeside_fm",
        name="Lakeside Family Medicine",
        title="Family Medicine",
        domains=("fm.lakeside-health.example",),
        phones=("630-555-0120", "630-555-0121"),
        address="300 Lakeshore Pkwy, Building B, Alder Springs, IL 60592",
        locations=(
            "Lakeside Health - Family Medicine, 300 Lakeshore Parkway Bldg B, "
            "Alder Springs, IL 60592",
            "300 Lakeshore Pkwy Bldg. B",
        ),
        last_touch=dt.date(2026, 11, 19),
        owner=SAM.email,
        cadence_days=30,
        has_npi=True,
    ),
    Practice(
        key="lakeside_ortho",
        name="Lakeside Orthopedics",
        title="Orthopedic Surgery",
        domains=("ortho.lakeside-health.example",),
        phones=("630.555.0125",),
        address="300 Lakeshore Pkwy, Building C, Alder Springs, IL 60592",
        locations=(
            "Lakeside Ortho, 300 Lakeshore Parkway, Building C, Alder Springs IL",
            "Lakeside Health campus - Bldg C lobby",
        ),
        last_touch=dt.date(2026, 8, 4),
        owner=BO.email,
    ),
    Practice(
        key="cedar",
        name="Cedar Internal Medicine",
        title="Internal Medicine",
        domains=("cedar-im.example",),
        phones=("+1 630 555 0130", "+1 630 555 0131"),
        address="88 Cedar Bend Rd, Cedar Bend, IL 60593",
        locations=(
            "Cedar Internal Medicine, 88 Cedar Bend Road, Cedar Bend, IL 60593, USA",
            "88 Cedar Bend Rd",
        ),
        last_touch=dt.date(2026, 11, 23),
        owner=SAM.email,
    ),
    Practice(
        key="ridgeway",
        name="Ridgeway Orthopedic Associates",
        title="Orthopedic Surgery",
        domains=("ridgeway-ortho.example",),
        phones=("(630) 555-0140", "(630) 555-0141"),
        address="2550 Ridgeway Ave, Suite 110, Millbrook Falls, IL 60591",
        locations=(
            "Ridgeway Orthopedic Associates, 2550 Ridgeway Avenue Suite 110, "
            "Millbrook Falls, IL 60591",
            "Ridgeway Ortho conf. room",
        ),
        last_touch=dt.date(2026, 11, 24),
        owner=AMY.email,
        cadence_days=14,
        has_npi=True,
    ),
    Practice(
        key="summit",
        name="Summit Sports Medicine",
        title="Sports Medicine",
        domains=("summit-sportsmed.example",),
        phones=("630-555-0150",),
        address="710 Summit Blvd, North Lindale, IL 60594",
        locations=(
            "Summit Sports Med, 710 Summit Boulevard, North Lindale, IL",
            "710 Summit Blvd.",
        ),
        last_touch=dt.date(2026, 9, 14),
        owner=SAM.email,
        cadence_days=30,
    ),
    Practice(
        key="maplegrove",
        name="Maple Grove Pediatrics",
        title="Pediatrics",
        domains=("maplegrove-peds.example",),
        phones=("630-555-0160", "630-555-0161"),
        address="45 Maple Grove Ln, Alder Springs, IL 60592",
        locations=("Maple Grove Peds, 45 Maple Grove Lane, Alder Springs",),
        last_touch=dt.date(2026, 5, 20),
        owner=AMY.email,
    ),
    Practice(
        key="northgate",
        name="Northgate Clinic",
        title="Internal Medicine",
        domains=("northgate-clinic.example", "northgatemed.example"),
        emails=("referrals@northgate-clinic.example",),
        phones=("(630) 555-0170", "(630) 555-0171"),
        address="9 Northgate Plaza, North Lindale, IL 60594",
        locations=(
            "Northgate Clinic, 9 Northgate Plz, North Lindale, IL 60594, USA",
            "9 Northgate Plaza - conference room 2",
        ),
        last_touch=dt.date(2026, 11, 10),
        owner=SAM.email,
        cadence_days=21,
        has_npi=True,
    ),
    Practice(
        key="prairie",
        name="Prairie View Family Practice",
        title="Family Medicine",
        domains=("prairieview-fp.example",),
        phones=("630-555-0180",),
        address="1201 Prairie View Rd, Cedar Bend, IL 60593",
        locations=("Prairie View FP, 1201 Prairie View Road, Cedar Bend",),
        last_touch=dt.date(2026, 6, 30),
        owner=BO.email,
    ),
    Practice(
        key="harbor",
        name="Harbor Point Urgent Care",
        title="Urgent Care",
        domains=("harborpoint-uc.example",),
        phones=("630-555-0185",),
        address="60 Harbor Point Dr, Millbrook Falls, IL 60591",
        locations=(),
        last_touch=None,
        owner=SAM.email,
        cadence_days=60,
    ),
    Practice(
        key="pinecrest",
        name="Pinecrest Podiatry",
        title="Podiatry",
        domains=("pinecrest-podiatry.example",),
        phones=("630-555-0190",),
        address="17 Pinecrest Ct, North Lindale, IL 60594",
        locations=(),
        last_touch=None,
    ),
    Practice(
        key="willowbend",
        name="Willowbend Geriatrics",
        title="Geriatric Medicine",
        domains=("willowbend-geri.example",),
        phones=("630-555-0195", "630-555-0196"),
        address="2 Willowbend Way, Alder Springs, IL 60592",
        locations=(),
        last_touch=None,
        owner=BO.email,
    ),
)


def _provider(
    key: str,
    practice: str,
    name: str,
    display_name: str,
    title: str,
    emails: tuple[str, ...],
    *,
    phones: tuple[str, ...] = (),
    owner: str | None = None,
    cadence_days: int | None = None,
) -> Person:
    return Person(
        key,
        "provider",
        practice,
        name,
        display_name,
        title,
        emails,
        phones=phones,
        owner=owner,
        cadence_days=cadence_days,
        has_npi=True,
    )


def _contact(
    key: str,
    practice: str,
    name: str,
    title: str,
    emails: tuple[str, ...],
    *,
    phones: tuple[str, ...] = (),
    owner: str | None = None,
) -> Person:
    return Person(
        key, "contact", practice, name, name, title, emails, phones=phones, owner=owner
    )


PEOPLE = (
    # Riverside Family Medicine
    _provider(
        "lopez",
        "riverside",
        "Maria L. Lopez, MD",
        "Maria Lopez",
        "Family Medicine",
        ("maria.lopez@riverside-fm.example",),
        owner=SAM.email,
        cadence_days=14,
    ),
    _provider(
        "patel",
        "riverside",
        "Dr. Anil Patel",
        "Anil Patel",
        "Family Medicine",
        ("apatel@riverside-fm.example",),
    ),
    _provider(
        "kimwhitfield",
        "riverside",
        "Grace Kim-Whitfield, MD",
        "Grace Kim-Whitfield",
        "Family Medicine",
        ("grace.kimwhitfield@riverside-fm.example",),
    ),
    _contact(
        "haas",
        "riverside",
        "Linda Haas",
        "Office Manager",
        ("linda.haas@riverside-fm.example",),
        phones=("(630) 555-0112",),
    ),
    _contact(
        "doyle",
        "riverside",
        "Kevin Doyle",
        "Referral Coordinator",
        ("kevin.doyle@riverside-fm.example",),
        phones=("(630) 555-0110 ext. 4",),
        owner=SAM.email,
    ),
    # Lakeside Family Medicine
    _provider(
        "obrien",
        "lakeside_fm",
        "Renee O'Brien, DO",
        "Renée O’Brien",
        "Family Medicine",
        (
            "renee.obrien@fm.lakeside-health.example",
            "renee.obrien@lakeside-health.example",
        ),
        owner=SAM.email,
    ),
    _provider(
        "nguyen",
        "lakeside_fm",
        "Thao Nguyen, NP",
        "Thao Nguyen",
        "Nurse Practitioner, Family Medicine",
        ("thao.nguyen@fm.lakeside-health.example",),
    ),
    _contact(
        "diaz",
        "lakeside_fm",
        "Ana Diaz",
        "Referral Coordinator",
        ("ana.diaz@fm.lakeside-health.example",),
        phones=("630-555-0122",),
    ),
    # Lakeside Orthopedics
    _provider(
        "okafor",
        "lakeside_ortho",
        "Dr. Victor Okafor",
        "Victor Okafor",
        "Orthopedic Surgery",
        ("vokafor@ortho.lakeside-health.example",),
        owner=BO.email,
    ),
    _provider(
        "park",
        "lakeside_ortho",
        "Elizabeth Park, PA-C",
        "Elizabeth Park",
        "Physician Assistant, Orthopedics",
        ("elizabeth.park@ortho.lakeside-health.example",),
    ),
    _contact(
        "banks",
        "lakeside_ortho",
        "Tyrone Banks",
        "Practice Manager",
        ("tbanks@ortho.lakeside-health.example",),
        phones=("630.555.0126",),
    ),
    # Cedar Internal Medicine
    _provider(
        "ruizsoto",
        "cedar",
        "Maria Elena Ruiz Soto, MD",
        "Maria Elena Ruiz Soto, MD",
        "Internal Medicine",
        ("mruiz@cedar-im.example",),
    ),
    _provider(
        "kim_cedar",
        "cedar",
        "David Kim, MD",
        "David Kim",
        "Internal Medicine",
        ("dkim@cedar-im.example",),
        cadence_days=21,
    ),
    _contact(
        "grant",
        "cedar",
        "Melissa Grant",
        "Front Desk",
        ("frontdesk@cedar-im.example", "melissa.grant@cedar-im.example"),
    ),
    # Ridgeway Orthopedic Associates
    _provider(
        "kim_ridgeway",
        "ridgeway",
        "David Kim, MD",
        "David Kim",
        "Orthopedic Surgery",
        ("david.kim@ridgeway-ortho.example",),
        owner=AMY.email,
    ),
    _provider(
        "raman",
        "ridgeway",
        "Priya Raman, MD",
        "Priya Raman",
        "Orthopedic Surgery",
        ("praman@ridgeway-ortho.example",),
    ),
    _provider(
        "bergstrom",
        "ridgeway",
        "Carl Bergstrom, PA-C",
        "Carl Bergstrom",
        "Physician Assistant, Orthopedics",
        ("carl@ridgeway-ortho.example",),
    ),
    _contact(
        "weiss",
        "ridgeway",
        "Paula Weiss",
        "Front Desk",
        ("ridgeway-frontdesk@ridgeway-ortho.example",),
        phones=("(630) 555-0142",),
    ),
    # Summit Sports Medicine
    _provider(
        "bell",
        "summit",
        "Marcus Bell, MD",
        "Marcus Bell",
        "Sports Medicine",
        ("mbell@summit-sportsmed.example",),
        owner=SAM.email,
        cadence_days=30,
    ),
    _provider(
        "ellis",
        "summit",
        "Dr. Jordan Ellis",
        "Jordan Ellis",
        "Sports Medicine",
        ("jordan.ellis@summit-sportsmed.example",),
    ),
    _contact(
        "olsen",
        "summit",
        "Derek Olsen",
        "Office Manager",
        ("derek@summit-sportsmed.example",),
        phones=("630-555-0151",),
    ),
    # Maple Grove Pediatrics
    _provider(
        "schultz",
        "maplegrove",
        "Hannah Schultz, MD",
        "Hannah Schultz",
        "Pediatrics",
        ("hschultz@maplegrove-peds.example",),
    ),
    _provider(
        "alvarez",
        "maplegrove",
        "Tomás Álvarez, CPNP",
        "Tomás Álvarez",
        "Pediatric Nurse Practitioner",
        ("tomas.alvarez@maplegrove-peds.example",),
    ),
    _contact(
        "jimenez",
        "maplegrove",
        "Rosa Jimenez",
        "Referral Coordinator",
        ("rosa.jimenez@maplegrove-peds.example",),
    ),
    # Northgate Clinic, which has two mail domains
    _provider(
        "wu",
        "northgate",
        "Dana Wu, MD",
        "Dana Wu",
        "Internal Medicine",
        ("dana.wu@northgate-clinic.example", "dwu@northgatemed.example"),
        owner=SAM.email,
    ),
    _provider(
        "feldman",
        "northgate",
        "Robert Feldman, MD",
        "Robert Feldman",
        "Internal Medicine",
        ("rfeldman@northgatemed.example",),
    ),
    _contact(
        "foster",
        "northgate",
        "Gwen Foster",
        "Referral Coordinator",
        ("gwen.foster@northgate-clinic.example",),
        phones=("(630) 555-0172",),
    ),
    # Prairie View Family Practice: one provider lists a personal address
    _provider(
        "hollis",
        "prairie",
        "Dr. Walter Hollis",
        "Walter Hollis",
        "Family Medicine",
        ("w.hollis@prairieview-fp.example", "walthollis.md@gmail.example"),
        phones=("630-555-0181",),
    ),
    _contact(
        "lund",
        "prairie",
        "Betty Lund",
        "Office Manager",
        ("office@prairieview-fp.example",),
    ),
    # Practices never touched in the exports
    _provider(
        "petrova",
        "harbor",
        "Nina Petrova, PA-C",
        "Nina Petrova",
        "Physician Assistant, Urgent Care",
        ("npetrova@harborpoint-uc.example",),
    ),
    _provider(
        "marsh",
        "pinecrest",
        "Leonard Marsh, DPM",
        "Leonard Marsh",
        "Podiatry",
        ("lmarsh@pinecrest-podiatry.example",),
    ),
    _provider(
        "solberg",
        "willowbend",
        "Ingrid Solberg, MD",
        "Ingrid Solberg",
        "Geriatric Medicine",
        ("ingrid.solberg@willowbend-geri.example",),
    ),
    _contact(
        "lindahl",
        "willowbend",
        "Oscar Lindahl",
        "Practice Administrator",
        ("oscar.lindahl@willowbend-geri.example",),
    ),
)

PRACTICE_BY_KEY = {practice.key: practice for practice in PRACTICES}
PERSON_BY_KEY = {person.key: person for person in PEOPLE}


def people_at(practice_key: str, kind: str | None = None) -> list[Person]:
    """List the people of a practice, only providers or contacts when `kind`."""
    return [
        person
        for person in PEOPLE
        if person.practice == practice_key and (kind is None or person.kind == kind)
    ]


def make_npi(rng: random.Random, entity_type: int) -> str:
    """Make a random valid NPI for a person (`entity_type` 1) or organisation (2).

    The tenth digit is the Luhn check digit of 80840 followed by the first
    nine digits, which is how NPI check digits are defined.
    """
    body = str(entity_type) + "".join(str(rng.randrange(10)) for _ in range(8))
    return body + luhn.calc_check_digit("80840" + body)
