"""Measure the matcher's index build, throughput and memory at scale.

    python benchmarks/bench_matcher.py [--practices 2150] [--activities 100000]

The sources and the activities come from the evaluation set's generator
(evaluation/generate.py) at a larger size: about 10,000 referral sources and
100,000 emails and meetings of every kind the evaluation labels.  The
script prints:

- the index build time (median of three builds with cold parse caches);
- activities per second, matching the whole stream in time order with
  thread links, as the sync pipeline does, in one thread and with cold
  caches, for the evaluation set's mix of kinds and for a mix shaped like
  a staff mailbox (MAILBOX_WEIGHTS);
- the same for a stream of consumer-address mail with distinct display
  names, the slowest case, because nothing repeats, and for the evaluation
  mix with the garbage collector off;
- a naive baseline on a sample: each participant's display name compared
  with every source name by `rapidfuzz.process.extractOne`, and the ratio;
- the peak memory that tracemalloc counts while the index is built and the
  stream is matched, and the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path

# The generator lives in evaluation/, beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import process  # noqa: E402

from connectors.records import (  # noqa: E402
    Activity,
    ActivityKind,
    Participant,
    ParticipantRole,
)
from evaluation.evaluate import (  # noqa: E402
    activity_from_json,
    source_from_json,
    thread_links,
)
from evaluation.generate import generate, workspace  # noqa: E402
from matcher import names, orgnames, phones, streets, text  # noqa: E402
from matcher.index import SourceIndex  # noqa: E402
from matcher.match import collector_paused, match_activity  # noqa: E402
from matcher.records import Link, MatchSettings, SourceRecord  # noqa: E402

# Activities matched together, as the sync pipeline's default batch_size.
BATCH = 500

_FREE_MAIL = ("gmail.com", "yahoo.com", "outlook.com", "comcast.net", "icloud.com")

# A staff mailbox, close to the stream of this benchmark's first version.
# Of every 97 activities, 35 use a listed address and 15 come from unlisted
# people at practice domains.  Another 7 come from sources or namesakes at
# consumer addresses, and 25 from patients, vendors and look-alike
# organisations.  Bulk mail, internal mail and meetings are 5 each.
MAILBOX_WEIGHTS = {
    "address_provider": 20,
    "address_contact": 10,
    "address_practice": 5,
    "staff_at_domain": 7.5,
    "name_credentials": 2,
    "name_last_first": 2,
    "name_nickname": 1.5,
    "name_doctor_prefix": 2,
    "free_mail_listed": 3,
    "free_mail_name_only": 3,
    "namesake_free_mail": 1,
    "unrelated": 23,
    "look_alike_org": 2,
    "bulk": 5,
    "internal_email": 5,
    "meeting_attendee": 1.5,
    "meeting_title_practice": 1.5,
    "meeting_location": 1,
    "meeting_title_person": 1,
}


def clear_caches() -> None:
    """Empty the module-level parse caches, so that a run is measured cold."""
    cached: Sequence[Callable[..., object]] = (
        names.parse_person_name,
        names.given_names_related,
        orgnames.canonical_words,
        streets.find_street_addresses,
        streets.normalized_words,
        phones.find_phone_numbers,
        text.fold,
    )
    for function in cached:
        function.cache_clear()  # type: ignore[attr-defined]


def build_name_only_activities(
    records: Sequence[SourceRecord], count: int, rng: random.Random
) -> list[Activity]:
    """Return mail from consumer addresses under distinct display names.

    The names mix given names and surnames of the sources at random, so
    most share a surname with someone in the index and must be parsed and
    compared, and almost none repeats, so no cache helps.
    """
    people = [
        record.name.split(",")[0].split() for record in records if record.practice_id
    ]
    firsts = [words[0] for words in people if len(words) > 1]
    lasts = [words[-1] for words in people if len(words) > 1]
    when = dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC)
    activities = []
    for number in range(count):
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        sender = Participant(
            f"u{number}@{rng.choice(_FREE_MAIL)}", ParticipantRole.FROM, name
        )
        staff = Participant("sam.ortiz@brookside-pt.example", ParticipantRole.TO)
        activities.append(
            Activity(
                ActivityKind.EMAIL,
                f"n{number}",
                f"n{number}@bench.example",
                when,
                (sender, staff),
            )
        )
    return activities


def time_index_builds(records: Sequence[SourceRecord], repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        clear_caches()
        started = time.perf_counter()
        SourceIndex(records)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def match_stream(
    activities: Sequence[Activity], index: SourceIndex, settings: MatchSettings
) -> int:
    """Match activities in time order with thread links; return how many linked.

    The sync pipeline stores each batch's results and reads back the links
    of the messages a batch replies to.  Likewise this keeps the links of
    the emails that a later email replies to and drops every other result.
    """
    answered = {
        message_id
        for activity in activities
        for message_id in (activity.in_reply_to, *activity.references)
        if message_id
    }
    known: dict[str, tuple[Link, ...]] = {}
    linked = 0
    for start in range(0, len(activities), BATCH):
        # As the sync pipeline does, batch by batch with the collector paused.
        with collector_paused():
            for activity in activities[start : start + BATCH]:
                inherited = thread_links(activity, known)
                result = match_activity(activity, index, settings, inherited)
                if result.links:
                    linked += 1
                    if activity.external_id in answered:
                        known[activity.external_id] = result.links
    return linked


def time_matching(
    activities: Sequence[Activity], index: SourceIndex, settings: MatchSettings
) -> tuple[float, float, int]:
    """Match a stream with cold caches.

    Returns the wall-clock seconds, the process's CPU seconds (which other
    jobs on the machine inflate less) and how many activities got links.
    """
    clear_caches()
    index.cache.clear()
    started, cpu_started = time.perf_counter(), time.process_time()
    linked = match_stream(activities, index, settings)
    elapsed = time.perf_counter() - started
    return elapsed, time.process_time() - cpu_started, linked


def time_naive_baseline(
    activities: Sequence[Activity], records: Sequence[SourceRecord]
) -> float:
    """Return the seconds the naive baseline takes for `activities`."""
    choices = [record.name for record in records]
    started = time.perf_counter()
    for activity in activities:
        for participant in activity.participants:
            if participant.name:
                process.extractOne(participant.name, choices)
    return time.perf_counter() - started


def peak_traced_memory(
    records: Sequence[SourceRecord],
    activities: Sequence[Activity],
    settings: MatchSettings,
) -> int:
    """Return the peak bytes allocated while building the index and matching.

    The records and activities already exist when tracing starts, so the
    figure is the matcher's own: index, caches and results.
    """
    clear_caches()
    tracemalloc.start()
    index = SourceIndex(records)
    match_stream(activities, index, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def make_stream(
    practices: int, count: int, seed: int, weights: dict[str, float] | None
) -> tuple[list[SourceRecord], list[Activity], MatchSettings]:
    """Generate sources and a stream of activities, sorted by time."""
    world, rows = generate(practices, count, seed, weights)
    records = [source_from_json(row) for row in world.source_records()]
    activities = sorted(
        (activity_from_json(row) for row in rows), key=lambda item: item.occurred_at
    )
    own = workspace(world)
    settings = MatchSettings(
        own_domains=frozenset(own["own_domains"]),  # type: ignore[arg-type]
        staff_addresses=frozenset(own["staff_addresses"]),  # type: ignore[arg-type]
    )
    return records, activities, settings


def report_stream(
    label: str,
    activities: Sequence[Activity],
    index: SourceIndex,
    settings: MatchSettings,
) -> float:
    elapsed, cpu, linked = time_matching(activities, index, settings)
    rate = len(activities) / elapsed
    print(
        f"{label}: {len(activities)} activities ({linked} linked) in "
        f"{elapsed:.2f} s, {rate:,.0f} activities/s "
        f"({len(activities) / cpu:,.0f} per CPU second)"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--practices", type=int, default=2150, help="practices (about 4.6 sources each)"
    )
    parser.add_argument(
        "--activities", type=int, default=100_000, help="activities per stream"
    )
    parser.add_argument(
        "--baseline-sample", type=int, default=300, help="activities for the baseline"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the tracemalloc pass"
    )
    arguments = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )

    started = time.perf_counter()
    records, activities, settings = make_stream(
        arguments.practices, arguments.activities, arguments.seed, None
    )
    _, mailbox, _ = make_stream(
        arguments.practices, arguments.activities, arguments.seed, MAILBOX_WEIGHTS
    )
    name_only = build_name_only_activities(
        records, 20_000, random.Random(arguments.seed)
    )
    print(
        f"generated {len(records)} sources and {len(activities) + len(mailbox)} "
        f"activities in {time.perf_counter() - started:.1f} s"
    )
    # A sync reads activities batch by batch, so the whole input is never
    # in memory at once.  Here it is, so it is frozen out of the garbage
    # collector's scans.
    gc.collect()
    gc.freeze()

    build = time_index_builds(records)
    print(f"index build, cold caches: median {build:.3f} s")
    index = SourceIndex(records)
    rate = report_stream("evaluation mix", activities, index, settings)
    report_stream("mailbox mix", mailbox, index, settings)
    report_stream("name-only, nothing repeats", name_only, index, settings)

    sample = random.Random(arguments.seed).sample(activities, arguments.baseline_sample)
    baseline = time_naive_baseline(sample, records)
    baseline_rate = len(sample) / baseline
    print(
        f"naive baseline (extractOne against {len(records)} names): {len(sample)} "
        f"activities of the evaluation mix in {baseline:.2f} s, "
        f"{baseline_rate:,.0f} activities/s; the matcher is "
        f"{rate / baseline_rate:,.0f} times faster"
    )

    if not arguments.no_memory:
        peak = peak_traced_memory(records, activities, settings)
        print(f"peak traced memory, index build and matching: {peak / 2**20:,.1f} MiB")
    # ru_maxrss is in kilobytes on Linux.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"process maximum resident set size, generated input included: "
        f"{maxrss / 1024:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
