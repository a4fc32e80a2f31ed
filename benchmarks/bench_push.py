"""Benchmark: time from a mailbox change to its stored activity, with push.

Usage: python benchmarks/bench_push.py [--changes 20]

It starts the Google and Microsoft emulators, a SQLite database in a
temporary folder and the site with uvicorn on a loopback port, in the
embedded mode (no broker).  The renewal pass creates a Gmail watch and a
Graph subscription.  Then, one change at a time, it adds a message to the
Gmail mailbox or the Outlook inbox and measures the seconds until the
activity is stored: emulator notice, push request, sync request, the
runner's sync and its commit.  It prints the median and maximum per
provider.  The emulators notice changes every 20 ms, which adds up to that
much to each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from tests.emulators.google import GoogleEmulator, message_headers  # noqa: E402
from tests.emulators.microsoft import GraphEmulator, SystemClock, address  # noqa: E402
from tests.emulators.microsoft.harness import CLIENT_ID  # noqa: E402
from tests.web.push_fixtures import (  # noqa: E402
    AUDIENCE,
    add_gmail_account,
    add_outlook_account,
    free_socket,
    provider_environment,
    push_environment,
    register_readers,
    secret_box,
    serve,
    wait_for,
)
from warmline.db import create_engine, migrate, session_factory  # noqa: E402
from warmline.models import AccountActivity  # noqa: E402
from warmline.pipeline import sync_account  # noqa: E402
from warmline.push_models import PushSubscription  # noqa: E402
from warmline.settings import load_settings  # noqa: E402
from web import create_app  # noqa: E402

GMAIL_USER = "sam.ortiz@brookside-pt.example"
OUTLOOK_USER = "jo.lee@brookside-pt.example"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--changes", type=int, default=20, help="messages to add and time per provider"
    )
    arguments = parser.parse_args()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING)
    )
    with tempfile.TemporaryDirectory() as folder:
        gmail, outlook = run(Path(folder), arguments.changes)
    for name, seconds in (("gmail", gmail), ("outlook", outlook)):
        print(
            f"{name}: {len(seconds)} changes, median "
            f"{statistics.median(seconds) * 1000:.0f} ms, "
            f"max {max(seconds) * 1000:.0f} ms from change to stored activity"
        )


def run(folder: Path, changes: int) -> tuple[list[float], list[float]]:
    engine = create_engine(f"sqlite:///{folder / 'warmline.db'}")
    migrate(engine)
    sessions = session_factory(engine)
    graph = GraphEmulator(folder, SystemClock())
    graph.identity.add_app(CLIENT_ID)
    with GoogleEmulator([GMAIL_USER]) as google, graph:
        # The site registers the readers again from the environment.
        os.environ.update(provider_environment(google, graph))
        register_readers(google, graph)
        gmail_id = add_gmail_account(sessions, google, GMAIL_USER)
        outlook_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
        for account_id in (gmail_id, outlook_id):
            sync_account(sessions, account_id, 100, secret_box=secret_box)
        sock = free_socket()
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/push/graph"
        environment = push_environment(
            engine.url.render_as_string(), google, graph_url=url
        )
        with serve(sock, create_app(load_settings(environment))) as site:
            wait_for(lambda: subscriptions(sessions) == 2, "the subscriptions")
            google.pubsub.subscribe(site.gmail_url, audience=AUDIENCE)
            gmail = measure(sessions, gmail_id, changes, lambda n: add_gmail(google, n))
            outlook = measure(
                sessions, outlook_id, changes, lambda n: add_outlook(graph, n)
            )
    engine.dispose()
    return gmail, outlook


def measure(
    sessions: object, account_id: int, changes: int, change: Callable[[int], None]
) -> list[float]:
    seconds = []
    for number in range(changes):
        before = stored(sessions, account_id)
        started = time.perf_counter()
        change(number)
        wait_for(
            lambda count=before: stored(sessions, account_id) > count,
            "the stored activity",
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def stored(sessions: object, account_id: int) -> int:
    with sessions() as session:  # type: ignore[operator]
        return int(
            session.scalar(
                select(func.count(AccountActivity.id)).where(
                    AccountActivity.account_id == account_id
                )
            )
        )


def subscriptions(sessions: object) -> int:
    with sessions() as session:  # type: ignore[operator]
        return int(session.scalar(select(func.count(PushSubscription.id))))


def add_gmail(google: GoogleEmulator, number: int) -> None:
    headers = message_headers(
        sender="Dr Maria Lopez <maria.lopez@cedar-im.example>",
        to=GMAIL_USER,
        subject=f"Referral {number}",
        date=dt.datetime(2026, 12, 4, 15, tzinfo=dt.UTC) + dt.timedelta(minutes=number),
        message_id=f"<bench-push-{number}@cedar-im.example>",
    )
    google.user(GMAIL_USER).mailbox.add_message(headers)


def add_outlook(graph: GraphEmulator, number: int) -> None:
    graph.mailboxes[OUTLOOK_USER].add_message(
        "inbox",
        subject=f"Referral {number}",
        sender=address("Dr Maria Lopez", "maria.lopez@cedar-im.example"),
        to=[address("Jo Lee", OUTLOOK_USER)],
        sent=dt.datetime(2026, 12, 4, 15, tzinfo=dt.UTC) + dt.timedelta(minutes=number),
        internet_message_id=f"<bench-graph-push-{number}@cedar-im.example>",
    )


if __name__ == "__main__":
    main()
