"""Measure index build time and matching throughput on synthetic data.

Run with `python benchmarks/bench_matcher.py`.  It builds a workspace of practices,
providers and contacts, then matches a stream of activities shaped like a
staff mailbox.  The stream mixes mail from listed people, from unlisted
people at practice domains, from consumer addresses and from strangers, with
some bulk and internal mail and some meetings.  A second stream contains
only consumer-address mail with mostly distinct names, the slowest case.
Everything runs in one thread.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
from collections.abc import Callable

from connectors.records import Activity, ActivityKind, Participant, ParticipantRole
from matcher import names, orgnames, phones, streets, text
from matcher.index import SourceIndex
from matcher.match import match_activity
from matcher.records import MatchSettings, SourceKind, SourceRecord

_FIRST_NAMES = (
    "Aaron Abigail Adam Aisha Alan Alejandro Alice Amanda Amir Ana Andrew Angela "
    "Anil Anna Anthony Arjun Ashley Benjamin Beth Bob Brandon Brenda Brian Carlos "
    "Carol Catherine Chandra Charles Chen Christina Christopher Cynthia Daniel Dana "
    "David Deborah Deepti Dennis Diana Donna Dorothy Edward Elena Elizabeth Emily "
    "Eric Fatima Frank Gary George Grace Hannah Helen Henry Isabel Jacob James Jane "
    "Janet Jason Jennifer Jessica John Jose Joseph Joshua Julia Karen Kelly Kevin "
    "Kimberly Laura Linda Lisa Liz Luis Margaret Maria Mark Mary Matthew Megan "
    "Michael Michelle Mohammed Nancy Nicole Olivia Omar Patricia Paul Priya Rachel "
    "Rebecca Renee Richard Robert Ronald Ruth Ryan Samuel Sandra Sarah Scott Sharon "
    "Stephen Steven Susan Thao Thomas Timothy Victoria Wei William Yolanda Zoe"
).split()

_LAST_NAMES = (
    "Adams Allen Alvarez Anderson Bailey Baker Barnes Bell Bennett Brooks Brown "
    "Bryant Butler Campbell Carter Castillo Chang Chavez Chen Clark Collins Cook "
    "Cooper Cox Cruz Davis Diaz Dong Edwards Evans Fisher Flores Foster Garcia "
    "Gomez Gonzalez Graham Gray Green Griffin Hall Harris Hartnett-Goodman Hayes "
    "Henderson Hernandez Hill Hodge Howard Hughes Jackson James Jenkins Johnson "
    "Jones Kaur Kelly Kim King Kumar Lee Lewis Lin Long Lopez Martin Martinez "
    "McNeil Miller Mitchell Moore Morales Morgan Morris Murphy Myers Nguyen "
    "O'Brien Ortiz Parker Patel Perez Perry Peterson Phillips Powell Price Ramirez "
    "Reed Reyes Richardson Rivera Roberts Robinson Rodriguez Rogers Ross Ruiz "
    "Russell Sanchez Sanders Scott Shah Singh Smith Stewart Sullivan Taylor Thomas "
    "Thompson Torres Tran Turner Walker Wang Ward Watson White Williams Wilson "
    "Wood Wright Wu Young Zhang"
).split()

_PLACES = (
    "Riverside Lakeside Northgate Cedar Maple Oakwood Hillcrest Summit Valley "
    "Brookfield Fairview Greenwood Highland Kingston Lincoln Madison Meadow Pine "
    "Ridgeway Sunrise Westfield Willow Harbor Bayview Clearwater Crestview Eastside"
).split()

_SPECIALTIES = (
    "Family Medicine",
    "Internal Medicine",
    "Orthopedics",
    "Pediatrics",
    "Sports Medicine",
    "Primary Care",
    "Spine Center",
    "Women's Health",
)

_STREETS = "Main Oak Elm Lake Shore Park River Hill Church Washington".split()
_SUFFIXES = ("Street", "St.", "Avenue", "Road", "Blvd", "Drive")
_CREDENTIALS = ("MD", "M.D.", "DO", "NP", "PA-C", "FNP-BC")
_FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "comcast.net", "icloud.com")

_STAFF = tuple(f"staff{i}@brookside-pt.example" for i in range(20))
_NOW = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)


def build_sources(practice_count: int, rng: random.Random) -> list[SourceRecord]:
    """Return practices with three providers and one contact each.

    The first three of every ten practices share one domain, like the
    practices of one health system.
    """
    records: list[SourceRecord] = []
    next_id = 1
    for number in range(practice_count):
        place = rng.choice(_PLACES)
        specialty = rng.choice(_SPECIALTIES)
        system = number - number % 10
        domain = f"p{number}-{place.lower()}.example"
        if number % 10 < 3:
            domain = f"system{system}-health.example"
        practice_id = next_id
        records.append(
            SourceRecord(
                practice_id,
                SourceKind.PRACTICE,
                f"{place} {specialty} {number}",
                emails=(f"referrals@{domain}",),
                domains=(domain,),
                phones=(f"+1404{rng.randrange(2000000, 9999999)}",),
                address=(
                    f"{rng.randrange(1, 9999)} {rng.choice(_STREETS)} "
                    f"{rng.choice(_SUFFIXES)}, Suite {rng.randrange(100, 500)}"
                ),
            )
        )
        next_id += 1
        for role in ("provider", "provider", "provider", "contact"):
            first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
            local = f"{first}.{last}".lower().replace("'", "")
            if role == "provider":
                name = f"{first} {last}, {rng.choice(_CREDENTIALS)}"
                kind = SourceKind.PROVIDER
            else:
                name, kind = f"{first} {last}", SourceKind.CONTACT
            emails = (f"{local}@{domain}",) if rng.random() < 0.7 else ()
            records.append(
                SourceRecord(
                    next_id, kind, name, practice_id=practice_id, emails=emails
                )
            )
            next_id += 1
    return records


def build_activities(
    records: list[SourceRecord], count: int, rng: random.Random
) -> list[Activity]:
    """Return a mix of mail and meetings shaped like a staff mailbox."""
    people = [r for r in records if r.kind is not SourceKind.PRACTICE]
    practices = {r.id: r for r in records if r.kind is SourceKind.PRACTICE}
    makers: list[tuple[float, Callable[[], Participant]]] = [
        (0.35, lambda: _listed_person(rng, people)),
        (0.15, lambda: _unlisted_at_domain(rng, people, practices)),
        (0.15, lambda: _free_mail_sender(rng, people)),
        (0.20, lambda: _stranger(rng)),
        (0.05, lambda: _participant(f"no-reply@mailer{rng.randrange(50)}.example")),
        (0.05, lambda: _participant(rng.choice(_STAFF))),
    ]
    activities: list[Activity] = []
    for number in range(count):
        if rng.random() < 0.05:
            activities.append(_meeting(number, rng, practices))
            continue
        shares = [share for share, _ in makers]
        make = rng.choices([maker for _, maker in makers], weights=shares)[0]
        others = [_participant(rng.choice(_STAFF), ParticipantRole.TO)]
        if rng.random() < 0.3:
            others.append(_listed_person(rng, people, ParticipantRole.CC))
        activities.append(
            Activity(
                ActivityKind.EMAIL,
                f"m{number}",
                f"m{number}@bench.example",
                _NOW,
                (make(), *others),
                subject="Referral follow-up",
            )
        )
    return activities


def build_name_only_activities(count: int, rng: random.Random) -> list[Activity]:
    """Return mail from consumer addresses with mostly distinct names.

    This is the slowest case: each new display name shares a surname with
    someone in the index, so it must be parsed and compared.
    """
    activities: list[Activity] = []
    for number in range(count):
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        sender = _participant(f"u{number}@{rng.choice(_FREE_MAIL)}", name=name)
        staff = _participant(rng.choice(_STAFF), ParticipantRole.TO)
        activities.append(
            Activity(
                ActivityKind.EMAIL,
                f"n{number}",
                f"n{number}@bench.example",
                _NOW,
                (sender, staff),
            )
        )
    return activities


def _participant(
    address: str,
    role: ParticipantRole = ParticipantRole.FROM,
    name: str | None = None,
) -> Participant:
    return Participant(address, role, name)


def _listed_person(
    rng: random.Random,
    people: list[SourceRecord],
    role: ParticipantRole = ParticipantRole.FROM,
) -> Participant:
    person = rng.choice([p for p in rng.sample(people, 5) if p.emails] or people[:1])
    address = person.emails[0] if person.emails else "nobody@nowhere.example"
    return _participant(address, role, person.name.split(",")[0])


def _unlisted_at_domain(
    rng: random.Random, people: list[SourceRecord], practices: dict[int, SourceRecord]
) -> Participant:
    person = rng.choice(people)
    assert person.practice_id is not None
    domain = practices[person.practice_id].domains[0]
    if rng.random() < 0.5:
        name = person.name.split(",")[0]
    else:
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    return _participant(f"x{rng.randrange(10**6)}@{domain}", name=name)


def _free_mail_sender(rng: random.Random, people: list[SourceRecord]) -> Participant:
    if rng.random() < 0.2:
        name = rng.choice(people).name
    else:
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    address = f"u{rng.randrange(10**6)}@{rng.choice(_FREE_MAIL)}"
    return _participant(address, name=name)


def _stranger(rng: random.Random) -> Participant:
    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
    return _participant(f"info@vendor{rng.randrange(500)}.example", name=name)


def _meeting(
    number: int, rng: random.Random, practices: dict[int, SourceRecord]
) -> Activity:
    practice = rng.choice(list(practices.values()))
    return Activity(
        ActivityKind.MEETING,
        f"e{number}",
        f"e{number}@bench.example",
        _NOW,
        (_participant(rng.choice(_STAFF), ParticipantRole.ORGANIZER),),
        subject=f"Lunch and learn - {practice.name}",
        location=practice.address,
    )


def clear_caches() -> None:
    """Empty the parse caches, so that a build is measured cold."""
    for cached in (
        names.parse_person_name,
        names.given_names_related,
        orgnames.canonical_words,
        streets.find_street_addresses,
        streets.normalized_words,
        phones.find_phone_numbers,
        text.fold,
    ):
        cached.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--practices", type=int, default=200, help="practices (5 sources each)"
    )
    parser.add_argument(
        "--activities", type=int, default=20_000, help="activities to match"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    arguments = parser.parse_args()
    rng = random.Random(arguments.seed)
    records = build_sources(arguments.practices, rng)
    activities = build_activities(records, arguments.activities, rng)
    settings = MatchSettings(
        own_domains=frozenset({"brookside-pt.example"}),
        staff_addresses=frozenset(_STAFF),
    )

    build_times = []
    for _ in range(5):
        clear_caches()
        started = time.perf_counter()
        index = SourceIndex(records)
        build_times.append(time.perf_counter() - started)

    print(f"sources: {len(records)}")
    print(f"index build, cold caches: median {statistics.median(build_times):.3f} s")
    for label, stream in (
        ("mixed mailbox", activities),
        ("name-only worst case", build_name_only_activities(len(activities), rng)),
    ):
        clear_caches()
        started = time.perf_counter()
        outcomes = [match_activity(activity, index, settings) for activity in stream]
        elapsed = time.perf_counter() - started
        linked = sum(1 for outcome in outcomes if outcome.links)
        print(
            f"{label}: {len(stream)} activities ({linked} linked) in {elapsed:.2f} s, "
            f"{len(stream) / elapsed:,.0f} activities/s"
        )


if __name__ == "__main__":
    main()
