"""Benchmark: sync an Outlook mailbox and calendar from the local Graph emulator.

Usage: python benchmarks/bench_microsoft.py [--messages 20000] [--events 2000]
       [--page-size 100] [--budget 10000] [--window 600]

It starts the emulator on a loopback port with Outlook's throttling on (4
concurrent requests per mailbox, `--budget` requests per `--window` seconds,
then 429 with Retry-After), signs in through msal, and
runs the connectors alone, without the database.  It prints, for mail and
for calendar: items per second of the first (full) sync, requests per item,
seconds spent waiting on Retry-After, the cursor size, and the requests and
time of a second sync with no changes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors import Activity, Reader  # noqa: E402
from connectors.microsoft import (  # noqa: E402
    GraphClient,
    OutlookCalendarReader,
    OutlookMailReader,
)
from tests.emulators.microsoft import GraphEmulator, Mailbox, SystemClock, address  # noqa: E402
from tests.emulators.microsoft.harness import CLIENT_ID, SignedIn, sign_in  # noqa: E402

UPN = "sam.ortiz@brookside-pt.example"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def seed_mail(mailbox: Mailbox, count: int) -> None:
    sent_every = 5  # one message in five is in Sent Items
    for index in range(count):
        outside = address(
            f"Dr Example {index % 900}", f"dr{index % 900}@practice{index % 97}.example"
        )
        staff = address("Sam Ortiz", UPN)
        sent = index % sent_every == 0
        mailbox.add_message(
            "sentitems" if sent else "inbox",
            subject=f"Referral follow-up {index}",
            sender=staff if sent else outside,
            to=[outside] if sent else [staff],
            cc=[address("Front Desk", f"frontdesk@practice{index % 97}.example")],
            sent=NOW - dt.timedelta(minutes=index * 7),
            internet_message_id=f"<bench{index}@practice{index % 97}.example>",
        )


def seed_calendar(mailbox: Mailbox, count: int) -> int:
    """Add `count` events, one in ten a weekly series of six; return the occurrences."""
    occurrences = 0
    for index in range(count):
        start = NOW - dt.timedelta(days=170) + dt.timedelta(hours=index * 2.7)
        series = index % 10 == 0
        mailbox.calendars.add_event(
            subject=f"Visit {index}",
            start=start,
            end=start + dt.timedelta(minutes=45),
            organizer=address("Thao Nguyen", f"thao{index % 50}@cedar-im.example"),
            attendees=[
                {
                    "type": "required",
                    "status": {"response": "accepted"},
                    "emailAddress": {"name": "Sam Ortiz", "address": UPN},
                },
            ],
            every=dt.timedelta(days=7) if series else None,
            count=6 if series else 0,
        )
        occurrences += 6 if series else 1
    return occurrences


def measure(
    label: str,
    make_reader: Callable[[GraphClient], Reader],
    signed: SignedIn,
    emulator: GraphEmulator,
) -> None:
    start_log = len(emulator.log)
    client = signed.client()
    reader = make_reader(client)
    started = time.perf_counter()
    items = list(reader.read(None))
    seconds = time.perf_counter() - started
    stats = client.stats
    count = sum(isinstance(item, Activity) for item in items)
    requests = len(emulator.log) - start_log
    cursor = reader.final_cursor or ""
    rate = count / seconds
    print(f"{label}: {count} activities in {seconds:.1f} s = {rate:,.0f} per second")
    print(
        f"  HTTP requests {stats.requests} (+{stats.batch_items} inside JSON "
        f"batches), emulator saw {requests}; "
        f"{requests / max(count, 1):.4f} requests per activity"
    )
    print(
        f"  throttled replies {stats.throttled}, waiting on Retry-After "
        f"{stats.retry_after_wait:.1f} s, other back-off {stats.backoff_wait:.1f} s"
    )
    print(f"  cursor {len(cursor):,} bytes")
    again = make_reader(signed.client())
    start_log = len(emulator.log)
    started = time.perf_counter()
    changed = list(again.read(cursor))
    seconds = time.perf_counter() - started
    print(
        "  incremental sync with no changes: "
        f"{len(emulator.log) - start_log} requests, "
        f"{len(changed)} items, {seconds * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--budget", type=int, default=10_000, help="requests per window per mailbox"
    )
    parser.add_argument(
        "--window", type=float, default=600.0, help="budget window in seconds"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR)
    )

    with (
        tempfile.TemporaryDirectory() as folder,
        GraphEmulator(
            Path(folder),
            SystemClock(),
            request_budget=args.budget,
            budget_window=args.window,
        ) as emulator,
    ):
        emulator.identity.add_app(CLIENT_ID)
        mailbox = emulator.add_user(UPN, "Sam Ortiz")
        seeded = time.perf_counter()
        seed_mail(mailbox, args.messages)
        occurrences = seed_calendar(mailbox, args.events)
        print(
            f"emulator seeded with {args.messages} messages and {args.events} events "
            f"({occurrences} instances) in {time.perf_counter() - seeded:.1f} s; "
            f"budget {args.budget} requests per {args.window:.0f} s, "
            f"page size {args.page_size}"
        )
        signed: SignedIn = sign_in(
            emulator, UPN, page_size=args.page_size, checkpoint_items=1000
        )
        measure("mail", OutlookMailReader, signed, emulator)
        measure(
            "calendar",
            lambda client: OutlookCalendarReader(client, now=lambda: NOW),
            signed,
            emulator,
        )


if __name__ == "__main__":
    main()
