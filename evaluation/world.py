"""An invented region of referral sources for the matcher's evaluation set.

Every person, practice, street and domain here is made up, and every domain
ends in `.example`.  The world is built from a seeded `random.Random`, so
the same seed gives the same world.  It contains what the activity kinds
pick from: practices with one or several domains, health systems whose
practices share a domain, medical office buildings that house several
practices, providers who share a name with a provider elsewhere, people
with accented, hyphenated or double surnames, and organisations with
look-alike names that are not referral sources.
"""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from collections import defaultdict

STAFF_DOMAIN = "brookside-pt.example"
STAFF_NAMES = (
    "Sam Ortiz",
    "Amy Chen",
    "Jordan Blake",
    "Priya Raman",
    "Luis Ferreira",
    "Hannah Okafor",
    "Marcus Webb",
    "Tessa Lindgren",
)

COMMON_SURNAMES = (
    "Adams Allen Alvarez Anderson Bailey Baker Barnes Bell Bennett Brooks Brown "
    "Bryant Butler Campbell Carter Castillo Chang Chavez Chen Clark Collins Cook "
    "Cooper Cox Cruz Davis Diaz Edwards Evans Fisher Flores Foster Garcia Gomez "
    "Gonzalez Graham Gray Green Griffin Hall Harris Hayes Henderson Hernandez "
    "Hill Howard Hughes Jackson James Jenkins Johnson Jones Kaur Kelly Kim King "
    "Kumar Lee Lewis Lin Long Lopez Martin Martinez Miller Mitchell Moore "
    "Morales Morgan Morris Murphy Myers Nguyen Ortiz Park Parker Patel Perez "
    "Perry Peterson Phillips Powell Price Ramirez Reed Reyes Richardson Rivera "
    "Roberts Robinson Rodriguez Rogers Ross Ruiz Russell Sanchez Sanders Scott "
    "Shah Singh Smith Stewart Sullivan Taylor Thomas Thompson Torres Tran "
    "Turner Walker Wang Ward Watson White Williams Wilson Wood Wright Wu Young "
    "Zhang Okafor Adeyemi Nakamura Yamamoto Kowalski Novak Schmidt Weber "
    "Rossi Romano Costa Silva Santos Oliveira Haddad Khalil Farah Cohen Levy "
    "Friedman Murray Quinn Doyle Byrne Walsh Kennedy Lynch Fitzgerald Chowdhury "
    "Iyer Menon Reddy Joshi Desai Mehta Gupta Banerjee Hoang Pham Vu Le Ho "
    "Choi Jung Kang Yoon Lim Tan Ong Goh"
).split()

# Parts of English-looking surnames and place names ("Ashworth", "Stonebrook").
_SURNAME_HEADS = (
    "Ash Black Brad Brook Brom Cald Carl Chad Colby Crom Dal Dun Ells Elm Fair "
    "Farn Gar Glad Hart Hal Hol Kings Lang Mar Mid Mor Nor Ox Pem Rad Rath Ship "
    "Stan Stock Thorn Wake Wal Whit Win Wood"
).split()
_SURNAME_TAILS = (
    "well worth ford ley ton wick more by field stone hurst dale wood bury "
    "cott ridge man low"
).split()

FIRST_NAMES = (
    "Aaron Abigail Adam Adrian Aisha Alan Alejandro Alexander Alice Amanda Amir "
    "Ana Andrea Andrew Angela Anil Anna Anthony Arjun Ashley Barbara Benjamin "
    "Beatriz Brandon Brenda Brian Caleb Carlos Carmen Caroline Catherine Chandra "
    "Charles Chioma Christine Christopher Claire Colin Cynthia Daniel Dana David "
    "Deborah Deepa Dennis Derek Diana Dorothy Douglas Edward Eleanor Elena "
    "Elizabeth Emily Emeka Eric Esther Ethan Fatima Fiona Frank Frederick Gabriel "
    "Gary George Grace Gregory Hannah Harold Helen Henry Hiroshi Ian Imani Irene "
    "Isabel Jacob James Jacqueline Jane Janet Jason Jeffrey Jennifer Jessica "
    "Joanna John Jonathan Joseph Joshua Julia Julian Karen Katherine Keith Kelly "
    "Kenneth Kevin Kimberly Lakshmi Laura Lawrence Leah Linda Lisa Lucia Luis "
    "Margaret Maria Marcus Mark Martha Mary Matthew Megan Michael Michelle Miguel "
    "Mohammed Monica Nadia Nancy Natalie Nathan Nicholas Nicole Nina Olivia Omar "
    "Owen Pamela Patricia Paul Peter Philip Priya Rachel Rafael Raj Rebecca "
    "Richard Robert Ronald Rosa Ruth Ryan Samuel Sandra Sarah Scott Sean Sharon "
    "Sofia Stephen Steven Susan Tamara Teresa Theodore Thomas Timothy Valerie "
    "Victoria Vikram Walter Wei William Yolanda Yusuf Zainab Zoe"
).split()

# Nicknames people sign with, written down from common English usage rather
# than read from the matcher's nickname list, so that the evaluation tests it.
NICKNAMES = {
    "Abigail": ("Abby",),
    "Alexander": ("Alex",),
    "Andrew": ("Andy", "Drew"),
    "Anthony": ("Tony",),
    "Barbara": ("Barb",),
    "Benjamin": ("Ben",),
    "Catherine": ("Cathy", "Kate"),
    "Charles": ("Charlie", "Chuck"),
    "Christine": ("Chris",),
    "Christopher": ("Chris",),
    "Cynthia": ("Cindy",),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave",),
    "Deborah": ("Deb", "Debbie"),
    "Dorothy": ("Dot",),
    "Douglas": ("Doug",),
    "Edward": ("Ed", "Ted"),
    "Elizabeth": ("Liz", "Beth", "Betsy"),
    "Frederick": ("Fred",),
    "Gregory": ("Greg",),
    "Jacqueline": ("Jackie",),
    "James": ("Jim", "Jamie"),
    "Jeffrey": ("Jeff",),
    "Jennifer": ("Jen", "Jenny"),
    "Jonathan": ("Jon",),
    "Joseph": ("Joe",),
    "Joshua": ("Josh",),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Kenneth": ("Ken",),
    "Kimberly": ("Kim",),
    "Lawrence": ("Larry",),
    "Margaret": ("Peggy", "Maggie", "Meg"),
    "Matthew": ("Matt",),
    "Michael": ("Mike",),
    "Nicholas": ("Nick",),
    "Pamela": ("Pam",),
    "Patricia": ("Pat", "Patty", "Trish"),
    "Rebecca": ("Becky",),
    "Richard": ("Rick", "Rich", "Dick"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Ronald": ("Ron",),
    "Samuel": ("Sam",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Susan": ("Sue", "Susie"),
    "Theodore": ("Ted", "Theo"),
    "Thomas": ("Tom",),
    "Timothy": ("Tim",),
    "Valerie": ("Val",),
    "Victoria": ("Vicky", "Tori"),
    "William": ("Bill", "Will"),
}

# Accented names, each with the plain spelling a person would type into a
# spreadsheet ("Mueller" for Müller, as German writes it without umlauts).
ACCENTED_FIRST_NAMES = {
    "José": "Jose",
    "Renée": "Renee",
    "Zoë": "Zoe",
    "Inés": "Ines",
    "François": "Francois",
    "Søren": "Soren",
    "Łukasz": "Lukasz",
    "Thảo": "Thao",
    "Chloé": "Chloe",
    "Raúl": "Raul",
    "Małgorzata": "Malgorzata",
    "Ångström": "Angstrom",
    "Björn": "Bjorn",
    "Zoé": "Zoe",
    "Mónica": "Monica",
}
ACCENTED_SURNAMES = {
    "Núñez": "Nunez",
    "Peña": "Pena",
    "Müller": "Mueller",
    "Østergaard": "Ostergaard",
    "Nguyễn": "Nguyen",
    "Đặng": "Dang",
    "Gómez": "Gomez",
    "Ibáñez": "Ibanez",
    "O’Brien": "O'Brien",
    "Brontë": "Bronte",
    "Schäfer": "Schaefer",
    "Løvgren": "Lovgren",
    "Åberg": "Aberg",
    "Çelik": "Celik",
    "Dvořák": "Dvorak",
    "Wójcik": "Wojcik",
}

PLACE_HEADS = (
    "North South East West Oak Pine Cedar Maple Willow Birch Elm Ash Stone "
    "River Lake Bay Harbor Spring Fair Green High Clear Bright Silver Golden "
    "Red Blue Mill Brook Glen Sun Rose Fox Hawk Deer Crane Iron Cobalt Amber"
).split()
PLACE_TAILS = (
    "field view wood brook ridge gate side haven crest dale ford mont wick "
    "point vale hill"
).split()


@dataclasses.dataclass(frozen=True)
class Specialty:
    """A kind of practice: its name, the short forms people write, a domain label."""

    name: str
    short: tuple[str, ...]
    label: str


SPECIALTIES = (
    Specialty("Family Medicine", ("FM", "Family Med"), "fm"),
    Specialty("Internal Medicine", ("IM", "Internal Med"), "im"),
    Specialty("Orthopedics", ("Ortho",), "ortho"),
    Specialty("Sports Medicine", ("Sports Med",), "sportsmed"),
    Specialty("Pediatrics", ("Peds",), "peds"),
    Specialty("Primary Care", ("Primary Care",), "primarycare"),
    Specialty("Spine Center", ("Spine",), "spine"),
    Specialty("Neurology", ("Neuro",), "neuro"),
    Specialty("Podiatry", ("Podiatry",), "podiatry"),
    Specialty("Rheumatology", ("Rheum",), "rheum"),
    Specialty("Pain Management", ("Pain",), "pain"),
    Specialty("Women's Health", ("Women's Health",), "womenshealth"),
)
_NAME_TEMPLATES = (
    "{place} {specialty}",
    "{place} {specialty}",
    "{place} {specialty} Associates",
    "{place} {specialty} Group, P.C.",
    "{place} {specialty}, LLC",
)

STREET_NAMES = (
    "Main Oak Lake Shore Park Washington Commerce Professional Medical Center "
    "Church Market Jefferson Franklin Highland Meadow Orchard Spring Mill Union "
    "Lincoln Madison Grove Chestnut Sycamore Walnut Hospital Campus"
).split()
# (written in full, USPS abbreviation)
STREET_SUFFIXES = (
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Drive", "Dr"),
    ("Boulevard", "Blvd"),
    ("Road", "Rd"),
    ("Parkway", "Pkwy"),
    ("Lane", "Ln"),
    ("Court", "Ct"),
)
DIRECTIONS = (("North", "N"), ("South", "S"), ("East", "E"), ("West", "W"))
ORDINAL_STREETS = (("Fifth", "5th"), ("Second", "2nd"), ("Third", "3rd"))
CITIES = (
    ("Springfield", "IL", "627"),
    ("Fairmont", "IL", "618"),
    ("Dover", "IL", "613"),
)

CREDENTIALS = (("MD", 45), ("DO", 15), ("NP", 15), ("PA-C", 12), ("FNP-BC", 8))
DOCTOR_CREDENTIALS = frozenset({"MD", "DO"})
CONTACT_TITLES = ("Office Manager", "Referral Coordinator", "Practice Administrator")
FREE_MAIL_DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "aol.com")

# Words that make a practice's name into another kind of organisation.
LOOK_ALIKE_KINDS = (
    ("Medical Supply", "medsupply", "supply company"),
    ("Surgical Supply", "surgicalsupply", "supply company"),
    ("Health Plan", "healthplan", "insurer"),
    ("Insurance", "insurance", "insurer"),
    ("Injury Law", "injurylaw", "law firm"),
    ("Law Group", "lawgroup", "law firm"),
)


@dataclasses.dataclass(frozen=True)
class StreetAddress:
    """A street address as parts, so that it can be written several ways."""

    number: int
    direction: tuple[str, str] | None
    street: str
    suffix: tuple[str, str]
    suite: str | None
    city: tuple[str, str, str]

    def canonical(self) -> str:
        """Return the address as a referral-source list would hold it."""
        parts = [str(self.number)]
        if self.direction:
            parts.append(self.direction[1])
        parts += [self.street, self.suffix[1]]
        line = " ".join(parts)
        if self.suite:
            line += f", Suite {self.suite}"
        city, state, zip_prefix = self.city
        return f"{line}, {city}, {state} {zip_prefix}{self.number % 90 + 10:02d}"


@dataclasses.dataclass
class Person:
    """A provider or contact: the parts of the name and where they work."""

    id: int
    practice_id: int
    kind: str  # provider or contact
    first: str
    middle: str  # a middle initial or name, or ""
    last: str  # as the person writes it, maybe accented or hyphenated
    stored_first: str  # as the source list has it
    stored_last: str
    credential: str  # "" for contacts
    title: str
    emails: list[str]
    maiden: str = ""  # a maiden name the source list has before `last`

    @property
    def is_doctor(self) -> bool:
        return self.credential in DOCTOR_CREDENTIALS

    def source_name(self) -> str:
        """Return the name as the source list has it ("Maria L. Lopez, MD")."""
        words = [self.stored_first]
        if self.middle:
            words.append(self.middle + "." if len(self.middle) == 1 else self.middle)
        if self.maiden:
            words.append(self.maiden)
        words.append(self.stored_last)
        name = " ".join(words)
        return f"{name}, {self.credential}" if self.credential else name


@dataclasses.dataclass
class Practice:
    """A referring practice with its domains, address and people."""

    id: int
    name: str
    place: str
    specialty: Specialty
    domains: list[str]
    emails: list[str]
    address: StreetAddress
    system: str | None = None  # the health system whose domain it shares
    subdomain: str | None = None  # a subdomain of a shared domain it alone uses
    people: list[Person] = dataclasses.field(default_factory=list)

    @property
    def mail_domain(self) -> str:
        """Return the domain its unlisted staff write from."""
        return self.domains[0]


@dataclasses.dataclass
class LookAlike:
    """An organisation named like a practice that is not a referral source."""

    name: str
    domain: str
    kind: str
    address: StreetAddress
    people: list[tuple[str, str]]  # (first, last)


@dataclasses.dataclass
class World:
    """Everything the activity kinds pick from, with lookups they need."""

    practices: list[Practice]
    look_alikes: list[LookAlike]
    staff: list[tuple[str, str]]  # (name, address)
    people: dict[int, Person] = dataclasses.field(default_factory=dict)
    twins: list[tuple[Person, Person]] = dataclasses.field(default_factory=list)
    practices_by_domain: dict[str, list[Practice]] = dataclasses.field(
        default_factory=dict
    )
    practices_by_street: dict[tuple[int, str], list[Practice]] = dataclasses.field(
        default_factory=dict
    )

    def practice(self, practice_id: int) -> Practice:
        return self.practices[practice_id_index(self, practice_id)]

    def source_records(self) -> list[dict[str, object]]:
        """Return every source as a JSON-ready dictionary, practices first."""
        rows: list[dict[str, object]] = []
        for practice in self.practices:
            rows.append(
                {
                    "id": practice.id,
                    "kind": "practice",
                    "name": practice.name,
                    "domains": practice.domains,
                    "emails": practice.emails,
                    "address": practice.address.canonical(),
                }
            )
        for practice in self.practices:
            for person in practice.people:
                rows.append(
                    {
                        "id": person.id,
                        "kind": person.kind,
                        "name": person.source_name(),
                        "practice_id": practice.id,
                        "title": person.title,
                        "emails": person.emails,
                    }
                )
        return rows


def practice_id_index(world: World, practice_id: int) -> int:
    # Practices take the ids 1..n in order.
    return practice_id - 1


class WorldBuilder:
    """Builds a `World` of `practice_count` practices from one random generator."""

    def __init__(self, rng: random.Random, practice_count: int) -> None:
        self.rng = rng
        self.practice_count = practice_count
        self.next_person_id = practice_count + 1
        self.surnames = _surname_pool(practice_count)
        self.used_names: set[str] = set()
        self.used_domains: set[str] = set()
        self.used_streets: set[tuple[int, str]] = set()

    def build(self) -> World:
        practices = self._practices()
        for practice in practices:
            self._add_people(practice)
        world = World(practices, self._look_alikes(practices), _staff())
        twins = self._add_twins(world)
        world.twins = twins
        for practice in practices:
            for person in practice.people:
                world.people[person.id] = person
            for domain in practice.domains:
                world.practices_by_domain.setdefault(domain, []).append(practice)
        by_street: dict[tuple[int, str], list[Practice]] = defaultdict(list)
        for practice in practices:
            by_street[(practice.address.number, practice.address.street)].append(
                practice
            )
        world.practices_by_street = dict(by_street)
        return world

    # -- practices ------------------------------------------------------------

    def _practices(self) -> list[Practice]:
        rng = self.rng
        places = _place_pool(self.practice_count)
        practices: list[Practice] = []
        pairs: set[tuple[str, str]] = set()
        while len(practices) < self.practice_count:
            place = rng.choice(places)
            specialty = rng.choice(SPECIALTIES)
            if (place, specialty.name) in pairs:
                continue
            pairs.add((place, specialty.name))
            template = rng.choice(_NAME_TEMPLATES)
            name = template.format(place=place, specialty=specialty.name)
            practice_id = len(practices) + 1
            domain = self._domain(place, specialty)
            domains = [domain]
            if rng.random() < 0.2:
                domains.append(self._domain(place, specialty, second=True))
            emails = []
            if rng.random() < 0.6:
                emails.append(
                    f"{rng.choice(('referrals', 'frontdesk', 'info'))}@{domain}"
                )
            address = self._street_address()
            practices.append(
                Practice(practice_id, name, place, specialty, domains, emails, address)
            )
        self._share_domains(practices)
        self._share_buildings(practices)
        return practices

    def _domain(self, place: str, specialty: Specialty, second: bool = False) -> str:
        rng = self.rng
        base = place.lower()
        for _ in range(50):
            if second:
                shape = rng.choice(("{p}{s}md", "{p}-{s}-clinic", "my{p}{s}"))
            else:
                shape = rng.choice(("{p}-{s}", "{p}{s}", "{p}{s}docs"))
            domain = shape.format(p=base, s=specialty.label) + ".example"
            if domain not in self.used_domains:
                self.used_domains.add(domain)
                return domain
            base = f"{place.lower()}{rng.randrange(2, 99)}"
        raise RuntimeError(f"no free domain for {place} {specialty.name}")

    def _street_address(self) -> StreetAddress:
        rng = self.rng
        while True:
            number = rng.randrange(10, 9900)
            if rng.random() < 0.12:
                street = rng.choice(ORDINAL_STREETS)[0]
            else:
                street = rng.choice(STREET_NAMES)
            if (number, street) not in self.used_streets:
                break
        self.used_streets.add((number, street))
        direction = rng.choice(DIRECTIONS) if rng.random() < 0.2 else None
        suite = str(rng.randrange(100, 600)) if rng.random() < 0.7 else None
        return StreetAddress(
            number,
            direction,
            street,
            rng.choice(STREET_SUFFIXES),
            suite,
            rng.choice(CITIES),
        )

    def _share_domains(self, practices: list[Practice]) -> None:
        """Put some practices in health systems, and pair some sister practices.

        A health system's practices all list its domain in place of their
        own, and about a third of them also list a subdomain of it.
        """
        rng = self.rng
        pool = list(practices)
        rng.shuffle(pool)
        system_count = max(2, self.practice_count // 40)
        for number in range(system_count):
            members = [pool.pop() for _ in range(rng.randrange(4, 8))]
            head = rng.choice(PLACE_HEADS)
            system = f"{head} Health System {number + 1}"
            domain = f"{head.lower()}health{number + 1}.example"
            for practice in members:
                practice.system = system
                practice.domains = [domain]
                practice.emails = []
                if rng.random() < 0.35:
                    subdomain = f"{practice.specialty.label}{practice.id}.{domain}"
                    practice.subdomain = subdomain
                    practice.domains.append(subdomain)
        for _ in range(max(1, self.practice_count // 30)):
            first, second = pool.pop(), pool.pop()
            second.domains = [first.domains[0]]
            second.emails = []
            first.system = second.system = f"sister practices {first.id}"

    def _share_buildings(self, practices: list[Practice]) -> None:
        """Move some practices into medical office buildings, one suite each."""
        rng = self.rng
        pool = list(practices)
        rng.shuffle(pool)
        for _ in range(max(1, self.practice_count // 16)):
            members = [pool.pop() for _ in range(rng.randrange(2, 4))]
            building = members[0].address
            for suite_number, practice in enumerate(members):
                practice.address = dataclasses.replace(
                    building, suite=str(100 + suite_number * 110 + rng.randrange(5))
                )

    # -- people ---------------------------------------------------------------

    def _add_people(self, practice: Practice) -> None:
        rng = self.rng
        provider_count = rng.choices((1, 2, 3, 4, 5), weights=(2, 3, 3, 2, 1))[0]
        contact_count = rng.choices((0, 1, 2), weights=(2, 5, 1))[0]
        pattern = rng.choice(("{f}.{l}", "{fi}{l}", "{f}{li}", "{f}_{l}"))
        taken: set[str] = set()
        for index in range(provider_count + contact_count):
            kind = "provider" if index < provider_count else "contact"
            person = self._person(practice, kind, taken)
            taken.add(_plain(person.stored_last).lower())
            if rng.random() < (0.75 if kind == "provider" else 0.85):
                address = f"{_local_part(pattern, person)}@{practice.domains[0]}"
                person.emails.append(address)
            if kind == "provider" and rng.random() < 0.1:
                person.emails.append(
                    f"{_plain(person.stored_first).lower()}{_plain(person.stored_last).lower()}"
                    f"{rng.randrange(10, 99)}@{rng.choice(FREE_MAIL_DOMAINS)}"
                )
            practice.people.append(person)

    def _person(self, practice: Practice, kind: str, taken: set[str]) -> Person:
        """Make a person whose surname no one else at the practice has."""
        rng = self.rng
        while True:
            first = rng.choice(FIRST_NAMES)
            last = rng.choice(self.surnames)
            maiden = ""
            roll = rng.random()
            if roll < 0.06:
                last = f"{last}-{rng.choice(self.surnames)}"
            elif roll < 0.11:
                maiden = rng.choice(self.surnames)
            stored_first, stored_last = first, last
            if rng.random() < 0.08:
                first = rng.choice(list(ACCENTED_FIRST_NAMES))
                stored_first = (
                    first if rng.random() < 0.4 else ACCENTED_FIRST_NAMES[first]
                )
            if rng.random() < 0.08 and "-" not in last:
                last = rng.choice(list(ACCENTED_SURNAMES))
                stored_last = last if rng.random() < 0.4 else ACCENTED_SURNAMES[last]
            key = f"{_plain(stored_first)} {_plain(stored_last)}".lower()
            if _plain(stored_last).lower() in taken or key in self.used_names:
                continue
            if maiden and maiden.lower() in taken:
                continue
            break
        self.used_names.add(key)
        middle = ""
        if rng.random() < 0.45:
            middle = rng.choice("ABCDEFGHJKLMNPRSTW")
        credential = ""
        title = practice.specialty.name
        if kind == "provider":
            names, weights = zip(*CREDENTIALS, strict=True)
            credential = rng.choices(names, weights=weights)[0]
        else:
            title = rng.choice(CONTACT_TITLES)
        person = Person(
            self.next_person_id,
            practice.id,
            kind,
            first,
            middle,
            last,
            stored_first,
            stored_last,
            credential,
            title,
            [],
            maiden,
        )
        self.next_person_id += 1
        return person

    def _add_twins(self, world: World) -> list[tuple[Person, Person]]:
        """Give some providers a namesake provider at a practice elsewhere.

        The two practices never share a domain, so a practice address
        distinguishes them and a name alone does not.
        """
        rng = self.rng
        twins: list[tuple[Person, Person]] = []
        providers = [
            person
            for practice in world.practices
            for person in practice.people
            if person.kind == "provider"
            and not person.maiden
            and "-" not in person.last
        ]
        for original in rng.sample(providers, max(4, len(providers) // 30)):
            here = world.practice(original.practice_id)
            candidates = [
                practice
                for practice in world.practices
                if practice.id != here.id
                and not set(practice.domains) & set(here.domains)
                and all(
                    _plain(p.stored_last).lower()
                    != _plain(original.stored_last).lower()
                    for p in practice.people
                )
            ]
            practice = rng.choice(candidates)
            twin = dataclasses.replace(
                original,
                id=self.next_person_id,
                practice_id=practice.id,
                middle=rng.choice(("", "R", "J")),
                credential=rng.choice(("MD", "DO")),
                emails=[],
            )
            self.next_person_id += 1
            if rng.random() < 0.7:
                twin.emails.append(
                    f"{_plain(twin.first).lower()}.{_plain(twin.last).lower()}"
                    f"@{practice.domains[0]}"
                )
            practice.people.append(twin)
            twins.append((original, twin))
        return twins

    # -- organisations that are not sources ---------------------------------------

    def _look_alikes(self, practices: list[Practice]) -> list[LookAlike]:
        rng = self.rng
        look_alikes: list[LookAlike] = []
        for practice in rng.sample(practices, max(6, len(practices) // 6)):
            suffix, label, kind = rng.choice(LOOK_ALIKE_KINDS)
            if kind == "supply company" and rng.random() < 0.5:
                name = f"{practice.place} {practice.specialty.name} {suffix}"
            else:
                name = f"{practice.place} {suffix}"
            domain = f"{practice.place.lower()}{label}.example"
            if domain in self.used_domains:
                continue
            self.used_domains.add(domain)
            people = [
                (rng.choice(FIRST_NAMES), rng.choice(self.surnames)) for _ in range(3)
            ]
            look_alikes.append(
                LookAlike(name, domain, kind, self._street_address(), people)
            )
        return look_alikes


def _surname_pool(practice_count: int) -> list[str]:
    compounds = [head + tail for head in _SURNAME_HEADS for tail in _SURNAME_TAILS]
    # A larger region has more distinct surnames, but the common ones stay.
    wanted = min(len(compounds), max(150, practice_count // 2))
    return list(COMMON_SURNAMES) + compounds[:wanted]


def _place_pool(practice_count: int) -> list[str]:
    places = [head + tail for head in PLACE_HEADS for tail in PLACE_TAILS]
    random.Random(len(places)).shuffle(places)
    return places[: max(60, practice_count // 2)]


def _staff() -> list[tuple[str, str]]:
    staff = []
    for name in STAFF_NAMES:
        first, last = name.lower().split()
        staff.append((name, f"{first}.{last}@{STAFF_DOMAIN}"))
    return staff


def _local_part(pattern: str, person: Person) -> str:
    first = _plain(person.stored_first).lower().replace(" ", "")
    last = _plain(person.stored_last).lower().replace("'", "").replace(" ", "")
    return pattern.format(f=first, l=last, fi=first[0], li=last[0])


# Letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "’": "'"}
)


def _plain(text: str) -> str:
    """Return a name in plain letters, as used in addresses and keys."""
    decomposed = unicodedata.normalize("NFD", text.translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))
