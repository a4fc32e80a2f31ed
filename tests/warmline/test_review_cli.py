"""Review from the command line, what decisions teach, rematch and suggestions.

Each test builds a small clinic: sources from a CSV, one staff member and an
mbox file, synced through the real pipeline into the parametrised database.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import mailbox
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from warmline.audit_models import AuditRecord
from warmline.cli import main
from warmline.models import Activity, ReferralSource, Touchpoint, TouchpointStatus
from warmline.review_models import MatchExclusion

STAFF = "sam@brookside-pt.example"
SOURCES = """\
type,name,practice,title,emails,domains,phones,address,npi,owner,cadence_days
practice,Lakeside Orthopedics,,,,,,,,,
provider,"Priya Raman, MD",Lakeside Orthopedics,,praman@lakeside-ortho.example,,,,,,
practice,Cedar Internal Medicine,,,,cedar-im.example,,,,,
provider,"David Kim, MD",Cedar Internal Medicine,,dkim@cedar-im.example,,,,,,
practice,Riverside Family Medicine,,,,riverside-fm.example,,,,,
provider,"Grace Kim, MD",Riverside Family Medicine,,gkim@riverside-fm.example,,,,,,
"""


def run(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--database", database_url, *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def fails(database_url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--database", database_url, *args])
    assert result.exit_code != 0
    return result.output


def message(
    sender: str,
    to: str,
    when: dt.datetime,
    message_id: str,
    subject: str = "Follow-up",
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = email.utils.format_datetime(when)
    mail["Message-ID"] = f"<{message_id}@mail.example>"
    mail.set_content("body text that must never be stored")
    return mail


def write_mbox(path: Path, messages: list[EmailMessage]) -> None:
    box = mailbox.mbox(str(path))
    for item in messages:
        box.add(item)
    box.flush()
    box.close()


@pytest.fixture
def clinic(database_url, sessions, tmp_path):
    """A workspace with sources and one staff member, and a sync helper."""
    sources = tmp_path / "sources.csv"
    sources.write_text(SOURCES, encoding="utf-8")
    run(database_url, "sources", "import", str(sources))
    run(database_url, "staff", "add", STAFF, "--name", "Sam Ortiz")
    return Clinic(database_url, sessions, tmp_path)


class Clinic:
    def __init__(
        self, database_url: str, sessions: sessionmaker[Session], folder: Path
    ) -> None:
        self.url = database_url
        self.folder = folder
        self.boxes = 0
        self.sessions = sessions

    def sync(self, messages: list[EmailMessage]) -> None:
        """Import the messages as a new mbox account and sync it."""
        self.boxes += 1
        path = self.folder / f"box{self.boxes}.mbox"
        write_mbox(path, messages)
        output = run(self.url, "accounts", "add", "mbox", "--staff", STAFF, str(path))
        account_id = re.search(r"account (\d+)", output)
        assert account_id, output
        run(self.url, "sync", "--account", account_id.group(1))

    def touchpoints(self, message_id: str) -> dict[str, Touchpoint]:
        """Return the touchpoints of one message, by practice name."""
        with self.sessions() as session:
            rows = session.scalars(
                select(Touchpoint)
                .join(Activity, Activity.id == Touchpoint.activity_id)
                .where(Activity.external_id == f"{message_id}@mail.example")
            ).all()
            return {row.practice.name: row for row in rows}

    def source(self, name: str) -> ReferralSource:
        with self.sessions() as session:
            return session.scalars(
                select(ReferralSource).where(ReferralSource.name == name)
            ).one()


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_confirming_teaches_the_address_found_by_name(clinic):
    personal = "Priya Raman <priya.r@gmail.example>"
    clinic.sync(
        [
            message(personal, STAFF, days_ago(10), "m1"),
            message(personal, STAFF, days_ago(9), "m2"),
        ]
    )
    first = clinic.touchpoints("m1")["Lakeside Orthopedics"]
    second = clinic.touchpoints("m2")["Lakeside Orthopedics"]
    assert first.status is TouchpointStatus.NEEDS_REVIEW
    assert "1 of 2 shown" not in run(clinic.url, "review", "list")

    output = run(clinic.url, "review", "confirm", str(first.id), "--as", STAFF)

    assert "learned: address priya.r@gmail.example added to Priya Raman, MD" in output
    assert "priya.r@gmail.example" in clinic.source("Priya Raman, MD").known("emails")
    # The other message from the address no longer waits for review.
    again = clinic.touchpoints("m2")["Lakeside Orthopedics"]
    assert again.id == second.id
    assert again.status is TouchpointStatus.CONFIRMED
    assert "nothing waits for review" in run(clinic.url, "review", "list")
    # New mail from the address is linked by the address itself.
    clinic.sync([message(personal, STAFF, days_ago(1), "m3")])
    fresh = clinic.touchpoints("m3")["Lakeside Orthopedics"]
    assert fresh.status is TouchpointStatus.CONFIRMED
    assert fresh.reasons[0]["signal"] == "address"
    assert fresh.decided_by is None


def test_confirming_learns_a_domain_that_spells_the_practice(clinic):
    clinic.sync(
        [
            message("Priya Raman <pr@lakesideortho.example>", STAFF, days_ago(5), "d1"),
            message(
                "David Kim <dk@bighealth-system.example>", STAFF, days_ago(5), "d2"
            ),
        ]
    )
    lakeside = clinic.touchpoints("d1")["Lakeside Orthopedics"]
    cedar = clinic.touchpoints("d2")["Cedar Internal Medicine"]

    output = run(clinic.url, "review", "confirm", str(lakeside.id), str(cedar.id))

    assert "domain lakesideortho.example added to Lakeside Orthopedics" in output
    assert clinic.source("Lakeside Orthopedics").known("domains") == [
        "lakesideortho.example"
    ]
    # A domain that does not spell the practice's name is not learned.
    assert "bighealth-system.example" not in clinic.source(
        "Cedar Internal Medicine"
    ).known("domains")
    assert "dk@bighealth-system.example" in clinic.source("David Kim, MD").known(
        "emails"
    )


def test_reject_spares_listed_address(clinic):
    clinic.sync(
        [
            message("Priya Raman <pr@othermail.example>", STAFF, days_ago(8), "r1"),
            message("praman@lakeside-ortho.example", STAFF, days_ago(8), "r2"),
        ]
    )
    by_name = clinic.touchpoints("r1")["Lakeside Orthopedics"]
    by_address = clinic.touchpoints("r2")["Lakeside Orthopedics"]

    output = run(clinic.url, "review", "reject", str(by_name.id), str(by_address.id))

    assert (
        "address pr@othermail.example will not be linked to Lakeside Orthopedics again"
        in output
    )
    with clinic.sessions() as session:
        keys = session.scalars(select(MatchExclusion.key)).all()
    assert keys == ["address:pr@othermail.example"]
    # The same correspondent is not proposed for that practice again ...
    clinic.sync(
        [message("Priya Raman <pr@othermail.example>", STAFF, days_ago(2), "r3")]
    )
    assert clinic.touchpoints("r3") == {}
    # ... while the listed address still links.
    clinic.sync([message("praman@lakeside-ortho.example", STAFF, days_ago(2), "r4")])
    assert "Lakeside Orthopedics" in clinic.touchpoints("r4")
    # Rematching keeps the people's decisions.
    run(clinic.url, "rematch")
    assert clinic.touchpoints("r1")["Lakeside Orthopedics"].status is (
        TouchpointStatus.REJECTED
    )
    assert clinic.touchpoints("r2")["Lakeside Orthopedics"].status is (
        TouchpointStatus.REJECTED
    )


def test_reassign_by_name_then_confirmation_lifts_the_exclusion(clinic):
    clinic.sync([message("Grace Kim <gk@gmail.example>", STAFF, days_ago(3), "k1")])
    links = clinic.touchpoints("k1")
    assert set(links) == {"Riverside Family Medicine"}
    riverside = links["Riverside Family Medicine"]

    output = run(
        clinic.url,
        "review",
        "reassign",
        str(riverside.id),
        "--practice",
        "cedar internal medicine",
        "--person",
        "David Kim, MD",
    )

    assert "will not be linked to Riverside Family Medicine again" in output
    after = clinic.touchpoints("k1")
    assert after["Riverside Family Medicine"].status is TouchpointStatus.REJECTED
    cedar = after["Cedar Internal Medicine"]
    assert cedar.status is TouchpointStatus.CONFIRMED
    assert cedar.person_id == clinic.source("David Kim, MD").id
    # The person chosen gets the address, so new mail from it goes to Cedar.
    assert "address gk@gmail.example added to David Kim, MD" in output
    # Confirming Riverside after all lifts its exclusion of the address.
    run(clinic.url, "review", "confirm", str(riverside.id))
    with clinic.sessions() as session:
        assert session.scalars(select(MatchExclusion)).all() == []
        actions = session.scalars(
            select(AuditRecord.action).where(AuditRecord.action.like("review.%"))
        ).all()
    assert sorted(actions) == ["review.confirm", "review.reassign", "review.reassign"]


def test_review_errors_name_the_value(clinic):
    assert "no touchpoint with id 999999" in fails(
        clinic.url, "review", "confirm", "999999"
    )
    clinic.sync([message("Grace Kim <gk@gmail.example>", STAFF, days_ago(3), "e1")])
    riverside = clinic.touchpoints("e1")["Riverside Family Medicine"]
    output = fails(
        clinic.url, "review", "reassign", str(riverside.id), "--practice", "Nowhere"
    )
    assert "no practice with id or name 'Nowhere'" in output


def test_rematch_after_source_import(clinic, tmp_path):
    clinic.sync([message("hello@northwind-clinic.example", STAFF, days_ago(4), "n1")])
    assert clinic.touchpoints("n1") == {}
    more = tmp_path / "more.csv"
    more.write_text(
        SOURCES.splitlines()[0]
        + "\npractice,Northwind Clinic,,,,northwind-clinic.example,,,,,\n",
        encoding="utf-8",
    )
    run(clinic.url, "sources", "import", str(more))

    output = run(clinic.url, "rematch")

    assert "1 linked" in output
    assert "Northwind Clinic" in clinic.touchpoints("n1")


def test_suggest_accept_and_dismiss(clinic):
    def mail(sender: str, days: int, key: str) -> EmailMessage:
        return message(sender, STAFF, days_ago(days), key)

    clinic.sync(
        [
            mail("Dr. Ann Lee <alee@pinecrest-pediatrics.example>", 30, "s1"),
            mail("Ann Lee, MD <alee@pinecrest-pediatrics.example>", 20, "s2"),
            mail("Front Desk <desk@pinecrest-pediatrics.example>", 10, "s3"),
            # An insurer writes often too, but is no referral source.
            mail("Claims Team <claims@acme-insurance.example>", 30, "i1"),
            mail("Claims Team <claims@acme-insurance.example>", 20, "i2"),
            mail("Claims Team <claims@acme-insurance.example>", 10, "i3"),
            # Free mail is never a practice.
            mail("Dr. Bo Hill <bo.hill@gmail.example>", 30, "f1"),
            mail("Dr. Bo Hill <bo.hill@gmail.example>", 20, "f2"),
            mail("Dr. Bo Hill <bo.hill@gmail.example>", 10, "f3"),
            # A clinic last heard from long ago has expired from staging.
            mail("Dr. Old <old@quiet-clinic.example>", 200, "o1"),
            mail("Dr. Old <old@quiet-clinic.example>", 190, "o2"),
            mail("Dr. Old <old@quiet-clinic.example>", 180, "o3"),
        ]
    )

    listed = run(clinic.url, "sources", "suggest")

    assert "domain:pinecrest-pediatrics.example  3 activities" in listed
    assert "clinicians (for example Dr. Ann Lee)" in listed
    for absent in ("acme-insurance", "gmail", "quiet-clinic"):
        assert absent not in listed

    output = run(
        clinic.url,
        "sources",
        "suggest",
        "--accept",
        "domain:pinecrest-pediatrics.example",
        "--name",
        "Pinecrest Pediatrics",
    )

    assert (
        "'Pinecrest Pediatrics' with 1 provider(s); 3 activities from the past"
        in output
    )
    practice = clinic.source("Pinecrest Pediatrics")
    assert practice.domains == ["pinecrest-pediatrics.example"]
    for key in ("s1", "s2", "s3"):
        assert "Pinecrest Pediatrics" in clinic.touchpoints(key)
    again = run(clinic.url, "sources", "suggest")
    assert "pinecrest" not in again
    assert "is not a current suggestion" in fails(
        clinic.url, "sources", "suggest", "--dismiss", "domain:acme-insurance.example"
    )


def test_dismissed_suggestion_stays_away(clinic):
    clinic.sync(
        [
            message(
                "Dr. Ann Lee <alee@pinecrest-pediatrics.example>",
                STAFF,
                days_ago(d),
                f"x{d}",
            )
            for d in (3, 4, 5)
        ]
    )
    key = "domain:pinecrest-pediatrics.example"
    run(clinic.url, "sources", "suggest", "--dismiss", key)
    assert "no suggestions" in run(clinic.url, "sources", "suggest")


def test_confirming_learns_an_alias(clinic, tmp_path):
    more = tmp_path / "smith.csv"
    more.write_text(
        SOURCES.splitlines()[0]
        + '\nprovider,"Robert Smith, MD",Lakeside Orthopedics,,,,,,,,\n',
        encoding="utf-8",
    )
    run(clinic.url, "sources", "import", str(more))
    clinic.sync([message("Bob Smith <bsmith@gmail.example>", STAFF, days_ago(6), "a1")])
    first = clinic.touchpoints("a1")["Lakeside Orthopedics"]

    output = run(clinic.url, "review", "confirm", str(first.id))

    assert "learned: alias Bob Smith added to Robert Smith, MD" in output
    assert clinic.source("Robert Smith, MD").known("aliases") == ["Bob Smith"]
    # The same name from another address now matches the alias exactly.
    clinic.sync([message("Bob Smith <bob.s@gmail.example>", STAFF, days_ago(2), "a2")])
    second = clinic.touchpoints("a2")["Lakeside Orthopedics"]
    assert second.confidence > first.confidence


def test_reimport_keeps_what_review_taught(clinic, tmp_path):
    personal = "Priya Raman <priya.r@gmail.example>"
    clinic.sync([message(personal, STAFF, days_ago(10), "t1")])
    link = clinic.touchpoints("t1")["Lakeside Orthopedics"]
    run(clinic.url, "review", "confirm", str(link.id))
    again = tmp_path / "again.csv"
    again.write_text(SOURCES, encoding="utf-8")

    run(clinic.url, "sources", "import", str(again))

    priya = clinic.source("Priya Raman, MD")
    assert priya.emails == ["praman@lakeside-ortho.example"]
    assert "priya.r@gmail.example" in priya.known("emails")


def test_practice_alias_from_csv_names_meetings(clinic, tmp_path):
    aliased = tmp_path / "aliases.csv"
    aliased.write_text(
        SOURCES.splitlines()[0] + ",aliases\n"
        "practice,Lakeside Orthopedics,,,,,,,,,,LSO; Lakeside Bone and Joint\n",
        encoding="utf-8",
    )
    run(clinic.url, "sources", "import", str(aliased))
    calendar = tmp_path / "meetings.ics"
    calendar.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:lso-lunch@test.example\r\n"
        "DTSTAMP:20261101T120000Z\r\nDTSTART:20261120T170000Z\r\n"
        "DTEND:20261120T180000Z\r\nSUMMARY:Lunch at LSO\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    output = run(clinic.url, "accounts", "add", "ics", str(calendar), "--staff", STAFF)
    account_id = re.search(r"account (\d+)", output).group(1)

    run(clinic.url, "sync", "--account", account_id)

    assert clinic.source("Lakeside Orthopedics").aliases == [
        "LSO",
        "Lakeside Bone and Joint",
    ]
    with clinic.sessions() as session:
        practices = session.scalars(
            select(ReferralSource.name)
            .join(Touchpoint, Touchpoint.practice_id == ReferralSource.id)
            .join(Activity, Activity.id == Touchpoint.activity_id)
            .where(Activity.external_id == "lso-lunch@test.example")
        ).all()
    assert practices == ["Lakeside Orthopedics"]


def test_reassign_person_is_looked_up_at_the_practice(clinic, tmp_path):
    twin = tmp_path / "twin.csv"
    twin.write_text(
        SOURCES.splitlines()[0]
        + '\nprovider,"Grace Kim, MD",Cedar Internal Medicine,,,,,,,,\n',
        encoding="utf-8",
    )
    run(clinic.url, "sources", "import", str(twin))
    clinic.sync([message("Grace Kim <gk@gmail.example>", STAFF, days_ago(3), "g1")])
    links = clinic.touchpoints("g1")
    some = next(iter(links.values()))

    run(
        clinic.url, "review", "reassign", str(some.id),
        "--practice", "Cedar Internal Medicine", "--person", "Grace Kim, MD",
        "--as", STAFF,
    )  # fmt: skip

    cedar = clinic.touchpoints("g1")["Cedar Internal Medicine"]
    with clinic.sessions() as session:
        person = session.get_one(ReferralSource, cedar.person_id)
        practice_name = person.practice.name
        actors = set(
            session.scalars(
                select(AuditRecord.actor).where(AuditRecord.action.like("review.%"))
            )
        )
    assert practice_name == "Cedar Internal Medicine"
    assert all(actor.endswith(f" as {STAFF}") for actor in actors)
