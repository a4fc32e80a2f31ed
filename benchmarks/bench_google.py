"""Benchmark: first and no-change syncs of Gmail and Google Calendar accounts.

Usage: python benchmarks/bench_google.py [--messages 20000] [--events 2000]
       [--regime legacy|2026] [--window 6]

The script starts the Google emulator (tests/emulators/google) in a child
process, so that the reader and the server do not share one interpreter
lock, and fills it with a mailbox and a calendar.  The emulator enforces the
per-user quota of the chosen Gmail regime (legacy: 15,000 units per minute
with messages.get at 5 units; 2026: 6,000 with messages.get at 20) and the
Calendar limit of 600 requests per minute, over a window of `--window`
seconds that replaces Google's minute, so a 20,000-message mailbox
finishes in about a minute instead of about seven.  The readers budget the
same quota over the same window.

It prints, for the first Gmail sync: messages per second, HTTP requests per
message, quota units per second as a share of the limit, and the calls the
emulator rejected for quota (429s); then the requests of a sync with no
changes, and the same for the calendar.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import logging  # noqa: E402

import structlog  # noqa: E402

from connectors.google import (  # noqa: E402
    GMAIL_QUOTAS,
    GmailReader,
    GoogleCalendarReader,
    GoogleSettings,
    StoredCredentials,
    requested_scopes,
)

STAFF = "sam.ortiz@brookside-pt.example"
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MemoryStore:
    """A CredentialStore in memory; the benchmark keeps no database."""

    def __init__(self, value: str) -> None:
        self.value: str | None = value
        self._lock = threading.Lock()

    def load(self) -> str | None:
        return self.value

    def save(self, value: str) -> None:
        self.value = value

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield


@contextlib.contextmanager
def emulator_process(arguments: argparse.Namespace) -> Iterator[str]:
    """Start the emulator in a child process and yield its URL."""
    regime = GMAIL_QUOTAS[arguments.regime]
    command = [
        sys.executable,
        "-m",
        "tests.emulators.google",
        f"--messages={arguments.messages}",
        f"--events={arguments.events}",
        f"--gmail-quota={regime.units_per_minute}",
        "--calendar-quota=600",
        f"--costs={arguments.regime}",
        f"--window={arguments.window}",
    ]
    child = subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.terminate()
            child.wait(timeout=10)


def call(url: str, method: str = "GET") -> dict[str, Any]:
    request = urllib.request.Request(
        url, method=method, data=b"" if method == "POST" else None
    )
    with _OPENER.open(request, timeout=30) as response:
        value: dict[str, Any] = json.load(response)
    return value


def total_requests(stats: dict[str, Any]) -> int:
    """Count the API and token requests; "other" counts the stats requests."""
    counts = stats["http_requests"]
    return sum(count for kind, count in counts.items() if kind != "other")


@dataclasses.dataclass
class Measure:
    seconds: float
    items: int
    requests: int
    units: int
    rejected: int


def measure(reader: Any, cursor: str | None, url: str, kind: str) -> Measure:
    before = call(url + "_emulator/stats")
    started = time.perf_counter()
    items = sum(1 for _ in reader.read(cursor))
    seconds = time.perf_counter() - started
    after = call(url + "_emulator/stats")
    units_key, rejected_key = f"{kind}_units", f"{kind}_rejected"
    return Measure(
        seconds=seconds,
        items=items,
        requests=total_requests(after) - total_requests(before),
        units=after[units_key].get(STAFF, 0) - before[units_key].get(STAFF, 0),
        rejected=after[rejected_key].get(STAFF, 0) - before[rejected_key].get(STAFF, 0),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=2_000)
    parser.add_argument("--regime", choices=sorted(GMAIL_QUOTAS), default="legacy")
    parser.add_argument(
        "--window", type=float, default=6.0, help="seconds that replace Google's minute"
    )
    arguments = parser.parse_args()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )
    regime = GMAIL_QUOTAS[arguments.regime]
    print(
        f"machine: {os.cpu_count()} cores; Gmail quota {arguments.regime}: "
        f"{regime.units_per_minute:,} units per {arguments.window:g} s "
        f"(Google's minute scaled by {arguments.window / 60:g}), "
        f"messages.get {regime.units('users.messages.get')} units"
    )
    with emulator_process(arguments) as url:
        query = urllib.parse.urlencode(
            {"user": STAFF, "scope": " ".join(requested_scopes())}
        )
        store = MemoryStore(json.dumps(call(f"{url}_emulator/grant?{query}", "POST")))
        settings = GoogleSettings(
            gmail_quota=regime, quota_window=arguments.window
        ).with_endpoint(url)

        def credentials() -> StoredCredentials:
            return StoredCredentials.from_store(store, settings.token_uri)

        gmail = GmailReader(credentials, settings)
        first = measure(gmail, None, url, "gmail")
        fetched = gmail.stats.messages_fetched
        limit_per_second = regime.units_per_minute / arguments.window
        rate = fetched / first.seconds
        units_rate = first.units / first.seconds
        per_message = first.requests / fetched
        print(
            f"\nGmail first sync: {fetched:,} messages fetched, {first.items:,} items"
        )
        print(f"  {first.seconds:.1f} s, {rate:,.0f} messages per second")
        print(f"  {first.requests} HTTP requests, {per_message:.4f} per message")
        print(
            f"  {first.units:,} quota units, {units_rate:,.0f} per second"
            f" = {units_rate / limit_per_second:.0%} of the limit"
        )
        print(f"  calls rejected for quota (429): {first.rejected}")
        again = GmailReader(credentials, settings)
        quiet = measure(again, gmail.final_cursor, url, "gmail")
        print(
            f"Gmail sync with no changes: {quiet.requests} HTTP request(s), "
            f"{quiet.units} units, {quiet.items} items, {quiet.seconds * 1000:.0f} ms"
        )

        calendar = GoogleCalendarReader(credentials, settings)
        listed = measure(calendar, None, url, "calendar")
        print(
            f"\nCalendar first sync: {listed.items:,} items in {listed.seconds:.2f} s, "
            f"{listed.requests} HTTP request(s), rejected {listed.rejected}"
        )
        calendar_again = GoogleCalendarReader(credentials, settings)
        quiet = measure(calendar_again, calendar.final_cursor, url, "calendar")
        print(
            f"Calendar sync with no changes: {quiet.requests} HTTP request(s), "
            f"{quiet.items} items, {quiet.seconds * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
