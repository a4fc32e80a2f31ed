"""Benchmark: first, no-change and incremental sync of a calendar via CaldavReader.

Usage: python benchmarks/bench_caldav.py [--events 2000] [--recurring 0.1]
                                         [--multiget-size 50]

The script starts a private Radicale on a loopback port with
tests/servers/radicale.py and stores the events with one PUT of the whole
calendar.  A share of them (`--recurring`) are weekly series without an
end.  It then times:

- the first sync, twice: every object listed and fetched, reported as
  objects and occurrences per second.  Radicale parses each object the
  first time it serves it, so the second run comes closer to the reader's
  own speed;
- a sync with nothing new: its HTTP requests and wall time;
- a sync after 1% of the events changed: its HTTP requests and wall time.

HTTP requests are counted at python-caldav's DAVClient.request, so the
authentication challenge that precedes the first request is not counted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from caldav.davclient import DAVClient  # noqa: E402

from connectors.caldav import CaldavReader  # noqa: E402
from connectors.records import Activity  # noqa: E402
from tests.servers.radicale import RadicaleServer, start_radicale  # noqa: E402

WINDOW_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
WINDOW_END = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def calendar(*events: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Warmline benchmark//EN"]
    return "\r\n".join([*lines, *events, "END:VCALENDAR", ""])


def event(number: int, recurring: bool, summary: str = "Visit") -> str:
    day = 1 + number % 28
    lines = [
        "BEGIN:VEVENT",
        f"UID:bench-{number}@brookside-pt.example",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:202603{day:02d}T150000Z",
        f"DTEND:202603{day:02d}T160000Z",
        f"SUMMARY:{summary} {number}",
        "ORGANIZER;CN=Sam Ortiz:mailto:sam.ortiz@brookside-pt.example",
        f"ATTENDEE:mailto:frontdesk{number % 50}@cedar-im.example",
    ]
    if recurring:
        lines.append("RRULE:FREQ=WEEKLY")
    lines.append("END:VEVENT")
    return "\r\n".join(lines)


class RequestCounter:
    """Counts DAVClient.request calls while it is installed."""

    def __init__(self) -> None:
        self.count = 0
        self._original: Callable[..., Any] = DAVClient.request

    def __enter__(self) -> RequestCounter:
        original = self._original

        def counted(client: DAVClient, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(client, *args, **kwargs)

        DAVClient.request = counted  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc_info: object) -> None:
        DAVClient.request = self._original  # type: ignore[method-assign]


def timed_sync(
    server: RadicaleServer, user: str, password: str, cursor: str | None, size: int
) -> tuple[str, float, float, int, int]:
    """Sync once.

    Returns the cursor, the wall and CPU seconds of this process (Radicale's
    work is not in the CPU time), the requests and the occurrences.
    """
    config = server.config(
        user,
        password,
        default_timezone="America/Chicago",
        window_start=WINDOW_START,
        window_end=WINDOW_END,
        multiget_size=size,
    )
    reader = CaldavReader(config)
    with RequestCounter() as counter:
        started = time.perf_counter()
        cpu_started = time.process_time()
        items = list(reader.read(cursor))
        cpu_seconds = time.process_time() - cpu_started
        seconds = time.perf_counter() - started
    assert reader.final_cursor is not None
    occurrences = sum(isinstance(item, Activity) for item in items)
    return reader.final_cursor, seconds, cpu_seconds, counter.count, occurrences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--recurring", type=float, default=0.1)
    parser.add_argument("--multiget-size", type=int, default=50)
    args = parser.parse_args()
    every = max(1, round(1 / args.recurring)) if args.recurring > 0 else 0

    with tempfile.TemporaryDirectory(prefix="warmline-bench-caldav-") as folder:
        server = start_radicale(Path(folder))
        try:
            user, password = server.add_user("bench")
            seeder = server.seeder(user, password)
            path = f"/{user}/work/"
            started = time.perf_counter()
            events = [
                event(number, bool(every) and number % every == 0)
                for number in range(args.events)
            ]
            seeder.put_calendar(path, calendar(*events))
            print(f"stored {args.events} events in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip

            for label in ("first sync", "first sync, server cache warm"):
                cursor, seconds, cpu, requests, occurrences = timed_sync(
                    server, user, password, None, args.multiget_size
                )
                print(f"{label}: {seconds:.2f} s ({cpu:.2f} s CPU here), "
                      f"{args.events / seconds:.0f} objects/s, "
                      f"{occurrences / seconds:.0f} occurrences/s, "
                      f"{requests} requests")  # fmt: skip

            cursor, seconds, _cpu, requests, _ = timed_sync(
                server, user, password, cursor, args.multiget_size
            )
            print(f"no-change sync: {seconds * 1000:.0f} ms, {requests} requests")

            changed = max(1, args.events // 100)
            for number in range(changed):
                href = f"{path}bench-{number}%40brookside-pt.example.ics"
                seeder.put(href, calendar(event(number, False, "Moved")))
            cursor, seconds, _cpu, requests, occurrences = timed_sync(
                server, user, password, cursor, args.multiget_size
            )
            print(f"sync after {changed} changes: {seconds * 1000:.0f} ms, "
                  f"{requests} requests, {occurrences} occurrences")  # fmt: skip
            print(f"cursor size: {len(cursor) / 1024:.0f} KiB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
