"""Write the Brookside Physical Therapy example exports into this folder.

Run ``python examples/make_examples.py`` from the repository root to
regenerate sources.csv, staff.csv, sam-ortiz-takeout.mbox,
sam-ortiz-calendar.ics and outlook-calendar.ics.  The output depends only on
SEED and the tables in clinic.py, so a second run writes the same bytes.
Pass ``--out DIR`` to write somewhere else.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from pathlib import Path

from calendar_ics import google_calendar, outlook_calendar
from clinic import PEOPLE, PRACTICES, STAFF, make_npi
from mbox_format import Message, write_mbox
from takeout_mail import build_messages

SEED = 20261130
"""Seed for everything random in the examples."""

SOURCE_COLUMNS = (
    "type",
    "name",
    "practice",
    "title",
    "emails",
    "domains",
    "phones",
    "address",
    "npi",
    "owner",
    "cadence_days",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parent,
        help="folder to write the files to (default: the examples folder)",
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    write_sources(out / "sources.csv", random.Random(f"{SEED}-npi"))
    write_staff(out / "staff.csv")
    messages = build_messages(random.Random(f"{SEED}-mail"))
    write_mbox(out / "sam-ortiz-takeout.mbox", messages)
    google_events = google_calendar(random.Random(f"{SEED}-calendar"))
    (out / "sam-ortiz-calendar.ics").write_bytes(google_events.encode("utf-8"))
    outlook_events = outlook_calendar()
    (out / "outlook-calendar.ics").write_bytes(outlook_events.encode("utf-8"))

    print_summary(messages, google_events, outlook_events)
    return 0


def source_rows(rng: random.Random) -> list[dict[str, str]]:
    """Return the rows of sources.csv: each practice followed by its people."""
    rows = []
    for practice in PRACTICES:
        rows.append(
            {
                "type": "practice",
                "name": practice.name,
                "practice": "",
                "title": practice.title,
                "emails": ";".join(practice.emails),
                "domains": ";".join(practice.domains),
                "phones": ";".join(practice.phones),
                "address": practice.address,
                "npi": make_npi(rng, 2) if practice.has_npi else "",
                "owner": practice.owner or "",
                "cadence_days": _number(practice.cadence_days),
            }
        )
        for person in PEOPLE:
            if person.practice != practice.key:
                continue
            rows.append(
                {
                    "type": person.kind,
                    "name": person.name,
                    "practice": practice.name,
                    "title": person.title,
                    "emails": ";".join(person.emails),
                    "domains": "",
                    "phones": ";".join(person.phones),
                    "address": "",
                    "npi": make_npi(rng, 1) if person.has_npi else "",
                    "owner": person.owner or "",
                    "cadence_days": _number(person.cadence_days),
                }
            )
    return rows


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def write_sources(path: Path, rng: random.Random) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, SOURCE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(source_rows(rng))


def write_staff(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("email", "name", "aliases", "timezone"))
        for staff in STAFF:
            writer.writerow(
                (staff.email, staff.name, ";".join(staff.aliases), staff.timezone)
            )


def print_summary(
    messages: list[Message], google_events: str, outlook_events: str
) -> None:
    """Print counts and the hard cases with their Message-IDs."""
    labels = Counter(label for message in messages for label in message.labels)
    print(f"messages: {len(messages)}, labelled Sent: {labels['Sent']}")
    google_count = google_events.count("BEGIN:VEVENT")
    outlook_count = outlook_events.count("BEGIN:VEVENT")
    print(f"VEVENTs: Google {google_count}, Outlook {outlook_count}")
    print("last touch by practice:")
    for practice in PRACTICES:
        print(f"  {practice.name}: {practice.last_touch or 'never'}")
    print("cases:")
    for message in messages:
        if message.case is None:
            continue
        where = message.message_id or f"Gmail id {message.gmail_id}"
        print(f"  {message.received_at:%Y-%m-%d} <{where}> {message.case}")


if __name__ == "__main__":
    sys.exit(main())
