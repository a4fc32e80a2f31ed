"""Run the Google emulator alone, filled with a generated mailbox and calendar.

    python -m tests.emulators.google --messages 20000 --events 2000 \\
        --gmail-quota 15000 --window 6

It prints "listening on URL" once it serves, then serves until its
standard input closes or it gets SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import sys
import threading

from tests.emulators.google.data import fill_calendar, fill_mailbox
from tests.emulators.google.server import (
    DEFAULT_USER,
    GMAIL_COSTS_2026,
    GMAIL_COSTS_LEGACY,
    GoogleEmulator,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--messages", type=int, default=1000, help="messages in the mailbox"
    )
    parser.add_argument(
        "--events", type=int, default=100, help="events in the calendar"
    )
    parser.add_argument(
        "--gmail-quota", type=int, help="Gmail units per user per window"
    )
    parser.add_argument(
        "--calendar-quota", type=int, help="Calendar requests per window"
    )
    parser.add_argument("--costs", choices=["legacy", "2026"], default="legacy")
    parser.add_argument(
        "--window", type=float, default=60.0, help="quota window, seconds"
    )
    arguments = parser.parse_args()
    emulator = GoogleEmulator(
        gmail_quota=arguments.gmail_quota,
        gmail_costs=GMAIL_COSTS_2026
        if arguments.costs == "2026"
        else GMAIL_COSTS_LEGACY,
        calendar_quota=arguments.calendar_quota,
        quota_window=arguments.window,
    )
    user = emulator.user(DEFAULT_USER)
    fill_mailbox(user.mailbox, arguments.messages, seed=20)
    # Two hours apart from 150 days back: 2,000 events fit in the default
    # window of 180 days back and 60 ahead.
    first = dt.datetime.now(dt.UTC) - dt.timedelta(days=150)
    spacing = dt.timedelta(hours=2)
    fill_calendar(user.calendars["primary"], arguments.events, 20, first, spacing)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(f"listening on {emulator.start()}", flush=True)
    stop.wait()
    emulator.stop()


if __name__ == "__main__":
    main()
