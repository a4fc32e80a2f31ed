"""Generate a large, deterministic mailbox and referral-source list for benchmarks.

    python benchmarks/generate.py --messages 50000 --sources 1000 --out DIR

writes DIR/sources.csv (referral sources in the import format),
DIR/staff.csv (the mailbox owner and two colleagues) and DIR/mail.mbox (a
Google Takeout-style mbox).  The mailbox owner owns about 60% of the
practices and no other staff member owns any, so adding only the owner as
a staff member is enough to import sources.csv.  The same arguments and
seed give the same bytes.

The messages are written one at a time, so memory stays flat whatever
--messages is: the script holds only the sources and a bounded pool of
recent threads to reply to.  The mix of messages is about 60% with
referral sources (listed addresses, unknown staff at a practice's domain,
display-name variants), 15% internal, 15% newsletters and 10% unrelated
mail, some of it labelled Spam or Trash.  Every Message-ID is unique.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import datetime as dt
import email.utils
import random
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from stdnum import luhn

CHICAGO = ZoneInfo("America/Chicago")
THREAD_POOL_SIZE = 2_000
"""Recent threads that later messages may reply to.  The bound keeps memory flat."""

REPLY_SHARE = 0.4
"""Share of source and internal messages that reply to a recent thread."""

CATEGORY_WEIGHTS = {"source": 60, "internal": 15, "bulk": 15, "unrelated": 10}

FIRST_NAMES = (
    "Avery Blake Casey Dana Elliot Frances Gale Harper Indira Jonah Keiko Lionel "
    "Marisol Nadia Orson Priya Quentin Rosalind Soren Tamsin Ulla Vikram Wren "
    "Xavier Yara Zane Adele Bruno Celia Dmitri Esme Felix Greta Hugo Ines Jasper "
    "Kira Lars Mina Nico Opal Pavel Rhea Silas Thea Umar Vera Wallis Yusuf Zelda"
).split()
LAST_NAMES = (
    "Abernathy Bellweather Castellano Drummond Eriksen Fairweather Galloway "
    "Halvorsen Ingram Jablonski Kettleby Lindqvist Marchetti Northcott Okonjo "
    "Pemberton Quartermain Rasmussen Sandoval Thornbury Underhill Vasquez-Roe "
    "Whitlock Yarborough Zimmermann Ashdown Brightwater Coldwell Dunmore "
    "Everly Fenwick Greystone Holloway Ironside Juniper Kingsley Larkspur "
    "Merriweather Nightingale O'Hara Penhallow Ravenscroft Stillwater "
    "Tanaka-Holt Umberton Valdivia Winterbourne Yellowfield"
).split()
PLACES = (
    "Aspen Birchwood Cobalt Dunmore Elmstead Fernhill Glenbrook Hollow Ironwood "
    "Juniper Kestrel Larkfield Meadowlark Northbrook Oakhaven Pinehurst "
    "Quarry Redfern Silverlake Thistle Upland Valemont Westbrook Yarrow "
    "Ashford Bramble Cedarcrest Driftwood Evergreen Foxglove Granite Heron"
).split()
SPECIALTIES = (
    ("Family Medicine", "fm"),
    ("Internal Medicine", "im"),
    ("Orthopedics", "ortho"),
    ("Sports Medicine", "sportsmed"),
    ("Pediatrics", "peds"),
    ("Primary Care", "pc"),
    ("Spine Center", "spine"),
    ("Urgent Care", "uc"),
    ("Podiatry", "podiatry"),
    ("Geriatrics", "geri"),
)
CREDENTIALS = ("{}, MD", "Dr. {}", "{}, DO", "{}, NP", "{}, PA-C", "{} MD")
CONTACT_TITLES = (
    "Office Manager",
    "Referral Coordinator",
    "Front Desk",
    "Practice Administrator",
    "Scheduling Lead",
)
HEALTH_SYSTEMS = (
    "lakeshore-health.example",
    "riverbend-health.example",
    "prairie-health.example",
)
"""Parent domains that several practices' subdomains share."""
AREA_CODES = ("217", "224", "309", "312", "331", "618", "630", "708", "773", "815")
TOWNS = ("Millbrook Falls", "Alder Springs", "Cedar Bend", "North Lindale")
SOURCE_SUBJECTS = (
    "New referral - low back pain",
    "Referral: knee osteoarthritis, please schedule",
    "Progress note - initial evaluation",
    "Plan of care for signature",
    "Lunch-and-learn next month?",
    "Brochure drop-off Thursday",
    "Discharge summary",
    "Can you see a new patient this week?",
)
PATIENT_SUBJECTS = (
    "RE: patient Jane Doe DOB 04/12/1961",
    "MRN 00482913 follow-up",
    "Referral for Mr. Nakamura",
    "Pt J. Roe - eval request",
)
INTERNAL_SUBJECTS = (
    "Huddle agenda",
    "Referral numbers this month",
    "Who's covering the lunch on Thursday?",
    "Brochure reorder",
    "PTO next Friday",
)
UNRELATED_SENDERS = (
    ("Office Supply Co", "orders@officesupply.example"),
    ("ClinicSoft Billing", "billing@clinicsoft.example"),
    ("Plaza Management", "manager@plazamgmt.example"),
    ("Prize Desk", "win@prizes.example"),
)


@dataclasses.dataclass(frozen=True, slots=True)
class Person:
    """A provider or contact, with the address their mail comes from."""

    name: str
    display_name: str
    email: str


@dataclasses.dataclass(slots=True)
class Practice:
    name: str
    specialty: str
    domains: tuple[str, ...]
    people: list[Person]
    weight: float
    """Relative chance of being in a message, or 0 for a practice never touched."""


@dataclasses.dataclass(frozen=True, slots=True)
class Thread:
    """A recent message that a later one may reply to."""

    message_id: str
    references: tuple[str, ...]
    thread_id: int
    subject: str
    practice: int | None


@dataclasses.dataclass(slots=True)
class Draft:
    """Message parts that differ by kind.  _render adds ids, dates and threading."""

    sender: str
    recipients: list[str]
    subject: str
    body: str
    labels: str
    cc: list[str] = dataclasses.field(default_factory=list)
    parent: Thread | None = None
    practice: int | None = None
    extra_headers: str = ""
    thread_candidate: bool = True
    """Whether a later message may reply to this one."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Write DIR/sources.csv, DIR/staff.csv and DIR/mail.mbox "
        "for benchmarks.  The same arguments always give the same files."
    )
    parser.add_argument(
        "--messages", type=int, default=50_000, help="messages in mail.mbox"
    )
    parser.add_argument(
        "--sources", type=int, default=1_000, help="rows in sources.csv"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="folder to write the files to"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument(
        "--staff-email",
        default="sam.ortiz@brookside-pt.example",
        help="address of the mailbox owner, whose domain the colleagues share",
    )
    parser.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=dt.date(2026, 11, 30),
        help="day of the newest message, as YYYY-MM-DD",
    )
    parser.add_argument(
        "--days", type=int, default=365, help="days of mail before --end-date"
    )
    args = parser.parse_args(argv)

    if args.messages < 0:
        parser.error(f"--messages must be 0 or more, not {args.messages}")
    if args.sources < 1:
        parser.error(f"--sources must be at least 1, not {args.sources}")
    if args.days < 1:
        parser.error(f"--days must be at least 1, not {args.days}")
    if args.staff_email.count("@") != 1:
        parser.error(
            f"--staff-email {args.staff_email!r} is invalid. Give one address "
            "such as sam.ortiz@brookside-pt.example"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    started = time.perf_counter()

    staff = make_staff(args.staff_email)
    practices = make_practices(rng, args.sources)
    write_sources(args.out / "sources.csv", practices, rng, staff)
    write_staff(args.out / "staff.csv", staff)
    writer = MailWriter(rng, staff, practices, args.end_date, args.days)
    counts = writer.write(args.out / "mail.mbox", args.messages)

    elapsed = time.perf_counter() - started
    mix = ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
    print(f"wrote {args.messages} messages ({mix}) and {args.sources} sources")
    print(f"to {args.out} in {elapsed:.1f} s")
    return 0


# Referral sources.


def make_staff(staff_email: str) -> list[tuple[str, str]]:
    """Return (name, address) of the mailbox owner and two colleagues."""
    local, domain = staff_email.split("@")
    owner_name = " ".join(part.capitalize() for part in local.split("."))
    return [
        (owner_name, staff_email),
        ("Amy Chen", f"amy.chen@{domain}"),
        ("Bo Lindgren", f"bo.lindgren@{domain}"),
    ]


def make_practices(rng: random.Random, total_rows: int) -> list[Practice]:
    """Make practices with providers and contacts, `total_rows` rows in all."""
    practices: list[Practice] = []
    used_names: set[str] = set()
    used_emails: set[str] = set()
    rows = 0
    while rows < total_rows:
        practice = _make_practice(rng, len(practices), used_names)
        rows += 1
        people = rng.randint(1, 6) + rng.randint(0, 3)
        for _ in range(min(people, total_rows - rows)):
            practice.people.append(_make_person(rng, practice, used_emails))
            rows += 1
        practices.append(practice)
    return practices


def _make_practice(rng: random.Random, index: int, used: set[str]) -> Practice:
    specialty, short = rng.choice(SPECIALTIES)
    place = rng.choice(PLACES)
    name = f"{place} {specialty}"
    if name in used:
        name = f"{place} {specialty} of {rng.choice(TOWNS)} {index}"
    used.add(name)
    domain = f"{place.lower()}-{short}-{index}.example"
    domains: tuple[str, ...] = (domain,)
    roll = rng.random()
    if roll < 0.05:
        domains = (domain, f"{place.lower()}{short}{index}.example")
    elif roll < 0.15:
        domains = (f"{short}-{index}.{rng.choice(HEALTH_SYSTEMS)}",)
    # About one practice in seven is never touched, so it goes cold.
    weight = 0.0 if rng.random() < 0.15 else rng.paretovariate(1.2)
    return Practice(name, specialty, domains, [], weight)


def _make_person(rng: random.Random, practice: Practice, used: set[str]) -> Person:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    display = f"{first} {last}"
    if rng.random() < 0.7:
        name = rng.choice(CREDENTIALS).format(display)
    else:
        name = display
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}"))
    local = local.lower().replace("'", "")
    email = f"{local}@{practice.domains[0]}"
    suffix = 2
    while email in used:
        email = f"{local}{suffix}@{practice.domains[0]}"
        suffix += 1
    used.add(email)
    return Person(name, display, email)


def _phone(rng: random.Random) -> str:
    return f"({rng.choice(AREA_CODES)}) 555-01{rng.randrange(100):02d}"


def _npi(rng: random.Random, entity_type: int) -> str:
    # The tenth digit is the Luhn check digit of 80840 and the first nine.
    body = str(entity_type) + "".join(str(rng.randrange(10)) for _ in range(8))
    return body + luhn.calc_check_digit("80840" + body)


def write_sources(
    path: Path,
    practices: list[Practice],
    rng: random.Random,
    staff: list[tuple[str, str]],
) -> None:
    columns = (
        "type name practice title emails domains phones address npi owner cadence_days"
    ).split()
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        for practice in practices:
            town = rng.choice(TOWNS)
            street = f"{rng.randrange(1, 9999)} {rng.choice(PLACES)} Rd"
            writer.writerow(
                (
                    "practice",
                    practice.name,
                    "",
                    practice.specialty,
                    "",
                    ";".join(practice.domains),
                    f"{_phone(rng)};{_phone(rng)}",
                    f"{street}, {town}, IL 60{rng.randrange(500, 600)}",
                    _npi(rng, 2) if rng.random() < 0.5 else "",
                    staff[0][1] if rng.random() < 0.6 else "",
                    str(rng.choice((14, 21, 30, 45))) if rng.random() < 0.3 else "",
                )
            )
            for person in practice.people:
                writer.writerow(_person_row(rng, practice, person))


def _person_row(rng: random.Random, practice: Practice, person: Person) -> list[str]:
    provider = person.name != person.display_name or rng.random() < 0.3
    title = practice.specialty if provider else rng.choice(CONTACT_TITLES)
    return [
        "provider" if provider else "contact",
        person.name,
        practice.name,
        title,
        person.email,
        "",
        _phone(rng) if rng.random() < 0.3 else "",
        "",
        _npi(rng, 1) if provider else "",
        "",
        "",
    ]


def write_staff(path: Path, staff: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("email", "name", "aliases", "timezone"))
        for name, address in staff:
            writer.writerow((address, name, "", "America/Chicago"))


# Mail.


class MailWriter:
    """Mbox writer that streams messages, keeping only a bounded pool of threads."""

    def __init__(
        self,
        rng: random.Random,
        staff: list[tuple[str, str]],
        practices: list[Practice],
        end_date: dt.date,
        days: int,
    ) -> None:
        self.rng = rng
        self.owner = staff[0]
        self.colleagues = staff[1:]
        self.domain = self.owner[1].split("@")[1]
        self.practices = practices
        self.practice_weights = [practice.weight for practice in practices]
        if not any(self.practice_weights):
            self.practice_weights = [1.0] * len(practices)
        end = dt.datetime.combine(end_date, dt.time(23, 0), tzinfo=dt.UTC)
        self.start = end - dt.timedelta(days=days)
        self.span_seconds = days * 86_400
        self.threads: collections.deque[Thread] = collections.deque(
            maxlen=THREAD_POOL_SIZE
        )
        self.bulk_senders = self._bulk_senders()

    def _bulk_senders(self) -> list[tuple[str, str]]:
        senders = [
            ("PT Practice Weekly", "newsletter@ptpractice-weekly.example"),
            ("Health Plan News", "news@healthplan.example"),
        ]
        # Newsletters from some sources' own domains must not count as touches.
        for practice in self.practices[:: max(1, len(self.practices) // 8)]:
            senders.append((practice.name, f"news@{practice.domains[0]}"))
        return senders

    def write(self, path: Path, count: int) -> collections.Counter[str]:
        """Write `count` messages to `path` and return how many of each kind."""
        kinds = list(CATEGORY_WEIGHTS)
        weights = list(CATEGORY_WEIGHTS.values())
        counts: collections.Counter[str] = collections.Counter()
        step = self.span_seconds / max(count, 1)
        with path.open("wb", buffering=1 << 20) as handle:
            for index in range(count):
                moment = self.start + dt.timedelta(
                    seconds=(index + self.rng.random() * 0.9) * step
                )
                kind = self.rng.choices(kinds, weights)[0]
                counts[kind] += 1
                handle.write(self._message(kind, index, moment))
        return counts

    def _message(self, kind: str, index: int, moment: dt.datetime) -> bytes:
        if kind == "source":
            return self._source_message(index, moment)
        if kind == "internal":
            return self._internal_message(index, moment)
        if kind == "bulk":
            return self._bulk_message(index, moment)
        return self._unrelated_message(index, moment)

    # One function per kind of message.

    def _source_message(self, index: int, moment: dt.datetime) -> bytes:
        rng = self.rng
        parent = self._pick_parent(with_practice=True)
        if parent is not None and parent.practice is not None:
            practice_index = parent.practice
        else:
            practice_index = rng.choices(
                range(len(self.practices)), self.practice_weights
            )[0]
        practice = self.practices[practice_index]
        person = self._practice_address(practice)
        outbound = rng.random() < 0.5
        if outbound:
            sender, recipients = self._owner_address(), [person]
            labels = "Sent"
        else:
            sender, recipients = person, [self._owner_address()]
            labels = rng.choice(("Inbox,Opened", "Archived,Opened", "Inbox,Unread"))
        cc = []
        if rng.random() < 0.25:
            cc.append(_format_address(rng.choice(self.colleagues)))
        draft = Draft(
            sender=sender,
            recipients=recipients,
            cc=cc,
            subject=self._subject(parent, SOURCE_SUBJECTS, patient_share=0.05),
            body=f"Hi,\n\nSee below.\n\n{practice.name}\n{_phone(rng)}\n",
            labels=labels,
            parent=parent,
            practice=practice_index,
        )
        return self._render(index, moment, draft)

    def _practice_address(self, practice: Practice) -> str:
        """Format an address at the practice as its mail might show it."""
        rng = self.rng
        roll = rng.random()
        domain = rng.choice(practice.domains)
        if not practice.people or roll < 0.15:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = f"{first}.{last}".lower().replace("'", "")
            return _format_address((f"{first} {last}", f"{local}@{domain}"))
        person = rng.choice(practice.people)
        if roll < 0.7:
            return _format_address((person.display_name, person.email))
        first, last = person.display_name.split(" ", 1)
        variants = (
            f'"{last}, {first}" <{person.email}>',
            f"Dr. {last} <{person.email}>",
            f"{person.email} ({person.display_name})",
            f"{person.display_name.upper()} <{person.email}>",
            person.email,
        )
        return rng.choice(variants)

    def _internal_message(self, index: int, moment: dt.datetime) -> bytes:
        parent = self._pick_parent(with_practice=False)
        people = [self.owner, *self.colleagues]
        sender, recipient = self.rng.sample(people, 2)
        labels = "Sent" if sender == self.owner else "Inbox,Opened"
        draft = Draft(
            sender=_format_address(sender),
            recipients=[_format_address(recipient)],
            subject=self._subject(parent, INTERNAL_SUBJECTS, patient_share=0.0),
            body="See below.\n",
            labels=labels,
            parent=parent,
        )
        return self._render(index, moment, draft)

    def _bulk_message(self, index: int, moment: dt.datetime) -> bytes:
        name, address = self.rng.choice(self.bulk_senders)
        list_domain = address.split("@")[1]
        extra = (
            f"List-Id: <news.{list_domain}>\n"
            f"List-Unsubscribe: <mailto:leave@{list_domain}>, "
            f"<https://{list_domain}/unsubscribe/{index}>\n"
            "Precedence: bulk\n"
        )
        draft = Draft(
            sender=_format_address((name, address)),
            recipients=[self.owner[1]],
            subject=f"{name} - issue {index}",
            body="Read online.\n",
            labels="Category Updates,Archived,Unread",
            extra_headers=extra,
            thread_candidate=False,
        )
        return self._render(index, moment, draft)

    def _unrelated_message(self, index: int, moment: dt.datetime) -> bytes:
        sender = _format_address(self.rng.choice(UNRELATED_SENDERS))
        labels = self.rng.choice(("Inbox,Opened", "Inbox,Opened", "Spam", "Trash"))
        draft = Draft(
            sender=sender,
            recipients=[self.owner[1]],
            subject="Your order and invoice",
            body="Details inside.\n",
            labels=labels,
            thread_candidate=False,
        )
        return self._render(index, moment, draft)

    # Threads, subjects and rendering.

    def _pick_parent(self, with_practice: bool) -> Thread | None:
        if not self.threads or self.rng.random() >= REPLY_SHARE:
            return None
        parent = self.threads[self.rng.randrange(len(self.threads))]
        if (parent.practice is not None) != with_practice:
            return None
        return parent

    def _subject(
        self, parent: Thread | None, subjects: tuple[str, ...], patient_share: float
    ) -> str:
        if parent is not None:
            return (
                parent.subject
                if parent.subject.startswith("Re: ")
                else ("Re: " + parent.subject)
            )
        if self.rng.random() < patient_share:
            return self.rng.choice(PATIENT_SUBJECTS)
        return self.rng.choice(subjects)

    def _owner_address(self) -> str:
        return _format_address(self.owner)

    def _render(self, index: int, moment: dt.datetime, draft: Draft) -> bytes:
        """Render one mbox entry and remember it as a thread to reply to."""
        millis = int(moment.timestamp() * 1000)
        gmail_id = (millis << 20) | (index & 0xFFFFF)
        # The index makes each Message-ID unique; the domain is the sender's.
        domain = email.utils.parseaddr(draft.sender)[1].rpartition("@")[2]
        token = self.rng.getrandbits(40)
        message_id = f"{index:09d}.{token:010x}@{domain or self.domain}"
        parent = draft.parent
        thread_id = parent.thread_id if parent is not None else gmail_id
        headers = [
            f"From {gmail_id}@xxx {moment:%a %b %d %H:%M:%S +0000 %Y}",
            f"X-GM-THRID: {thread_id}",
            f"X-Gmail-Labels: {draft.labels}",
            "MIME-Version: 1.0",
            f"Date: {email.utils.format_datetime(moment.astimezone(CHICAGO))}",
            f"Message-ID: <{message_id}>",
        ]

        references: tuple[str, ...] = ()
        if parent is not None:
            references = (*parent.references[-4:], parent.message_id)
            headers.append(f"In-Reply-To: <{parent.message_id}>")
            headers.append("References: " + " ".join(f"<{r}>" for r in references))
        headers.append(f"Subject: {draft.subject}")
        headers.append(f"From: {draft.sender}")
        headers.append("To: " + ", ".join(draft.recipients))
        if draft.cc:
            headers.append("Cc: " + ", ".join(draft.cc))
        headers.append('Content-Type: text/plain; charset="UTF-8"')

        if draft.thread_candidate:
            thread = Thread(
                message_id, references, thread_id, draft.subject, draft.practice
            )
            self.threads.append(thread)

        text = "\n".join(headers) + "\n" + draft.extra_headers + "\n" + draft.body
        return (text + "\n").encode("utf-8")


def _format_address(address: tuple[str, str]) -> str:
    return email.utils.formataddr(address)


if __name__ == "__main__":
    sys.exit(main())
