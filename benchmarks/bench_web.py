"""Measure the review site's page times on a large workspace in PostgreSQL.

    python benchmarks/bench_web.py [--sources 10000] [--activities 1000000]
        [--clients 8] [--requests 200] [--workers 1] [--keep]

Creates a scratch database on the local PostgreSQL server (127.0.0.1:5432,
trust, user postgres), migrates it, and seeds one workspace with COPY. It
gets 25 staff members and the sources: one practice per five sources, the
rest providers at them. The activities are spread over the last two years,
and 30% of the emails are dropped as bulk or internal. Every other activity
has one touchpoint (95% confirmed, 3% waiting for review, 2% rejected, six
in ten with a provider). 60,000 referrals, summed per practice and day,
complete it; busy practices get most touchpoints and referrals. The stored
last touches (warmline.last_touch), touchpoints per staff member and day
(warmline.touch_counts) and learned cadences (warmline.learned_cadence, as
the daily reminder pass stores them) are computed after the COPY. It then
serves the site with `warmline serve --workers N` in a child process on a
loopback port and signs in `--clients` API clients. They request the Today
page, the Sources page and source pages (a fixed sample of 50 practices and
providers) concurrently, `--requests` times each. The script prints p50, p95
and maximum response times per page, with the machine's load average over
the last minute after each page. The database is dropped afterwards unless
`--keep` is given; `--database URL` measures a kept one again without
seeding, after migrating it to the newest schema.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import contextlib
import datetime as dt
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from warmline.db import create_engine, migrate, session_factory  # noqa: E402
from warmline.last_touch import refresh_workspace_last_touches  # noqa: E402
from warmline.learned_cadence import refresh_due_learned_cadences  # noqa: E402
from warmline.models import Workspace  # noqa: E402
from warmline.touch_counts import rebuild_workspace_touch_counts  # noqa: E402
from warmline.web_models import WebRole  # noqa: E402
from warmline.workspaces import get_or_create_workspace  # noqa: E402
from web.passwords import Passwords  # noqa: E402
from web.users import upsert_user  # noqa: E402

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ADMIN_EMAIL = "director@brookside-pt.example"
PASSWORD = "benchmark password for the director"
STAFF = 25
REFERRALS = 60_000
SOURCES_PER_PRACTICE = 5
DAYS = 730
SAMPLE_SOURCES = 50
COPY_CHUNK = 50_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--requests", type=int, default=200, help="requests per page kind"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (warmline serve --workers)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the database and print its name"
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="measure a database seeded by an earlier --keep run instead",
    )
    return parser.parse_args()


@contextlib.contextmanager
def scratch_database(keep: bool) -> Iterator[str]:
    name = f"warmline_bench_web_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def timestamp(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S+00")


def copy_rows(
    connection: sa.Connection, table: str, columns: str, rows: Iterator[str]
) -> int:
    """COPY tab-separated `rows` into `table`; returns the row count."""
    raw = connection.connection.driver_connection
    count = 0
    with raw.cursor() as cursor:  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for row in rows:
                buffer.write(row)
                buffer.write("\n")
                count += 1
                if count % COPY_CHUNK == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())
    return count


def seed(url: str, sources: int, activities: int, now: dt.datetime) -> None:
    """Write the workspace's rows with COPY and set the id sequences after."""
    engine = create_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        upsert_user(
            session, workspace, ADMIN_EMAIL, PASSWORD, WebRole.ADMIN, Passwords()
        )
        workspace_id = workspace.id

    generator = random.Random(20261204)
    practices = sources // SOURCES_PER_PRACTICE
    people_of = {
        practice: [
            practices + practice * (SOURCES_PER_PRACTICE - 1) + offset + 1
            for offset in range(SOURCES_PER_PRACTICE - 1)
        ]
        for practice in range(1, practices + 1)
    }
    stamp = timestamp(now)
    with engine.begin() as connection:
        copy_rows(
            connection,
            "staff_member",
            "id, workspace_id, email, name, timezone",
            (
                f"{index}\t{workspace_id}\tstaff{index}@brookside-pt.example\t"
                f"Staff Member {index:02d}\tAmerica/Chicago"
                for index in range(1, STAFF + 1)
            ),
        )
        copy_rows(
            connection,
            "staff_address",
            "id, workspace_id, staff_member_id, address",
            (
                f"{index}\t{workspace_id}\t{index}\tstaff{index}@brookside-pt.example"
                for index in range(1, STAFF + 1)
            ),
        )
        copy_rows(
            connection,
            "referral_source",
            "id, workspace_id, kind, name, practice_id, title, owner_id, "
            "cadence_days, import_key, emails, domains, phones, created_at, "
            "updated_at",
            _source_rows(workspace_id, practices, people_of, generator, stamp),
        )
        print(f"seeded {sources} sources", flush=True)
        started = time.perf_counter()
        counts = _seed_activities(
            connection, workspace_id, activities, practices, people_of, now
        )
        print(
            f"seeded {counts[0]} activities and {counts[1]} touchpoints in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        copy_rows(
            connection,
            "referral",
            "id, workspace_id, source_id, received_on, count",
            _referral_rows(workspace_id, practices, generator, now),
        )
        for table in (
            "staff_member",
            "staff_address",
            "referral_source",
            "activity",
            "touchpoint",
            "touchpoint_person",
            "referral",
        ):
            connection.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    # COPY bypasses the write paths that keep the stored last touches and
    # the touchpoints per staff member and day.
    with sessions.begin() as session:
        refresh_workspace_last_touches(session, workspace_id, now)
        rebuild_workspace_touch_counts(session, workspace_id)
    refresh_learned(engine, now)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()


def refresh_learned(engine: sa.Engine, now: dt.datetime) -> None:
    """Store the learned cadences that are due, as the daily `warmline remind` does.

    Without them the cold list derives every source's cadence from its
    touchpoints, which only the first day after an upgrade does.
    """
    with session_factory(engine).begin() as session:
        for workspace_id in session.scalars(sa.select(Workspace.id)):
            refresh_due_learned_cadences(session, workspace_id, now)


def _referral_rows(
    workspace_id: int, practices: int, generator: random.Random, now: dt.datetime
) -> Iterator[str]:
    """Yield one row per practice and day, because rows without a referral id
    are unique on those; busy practices get most referrals."""
    counts: collections.Counter[tuple[int, dt.date]] = collections.Counter()
    for _ in range(REFERRALS):
        practice = int(practices * generator.random() ** 2) + 1
        day = (now - dt.timedelta(days=generator.randrange(DAYS))).date()
        counts[(practice, day)] += 1
    for index, ((practice, day), count) in enumerate(sorted(counts.items()), 1):
        yield f"{index}\t{workspace_id}\t{practice}\t{day}\t{count}"


def _source_rows(
    workspace_id: int,
    practices: int,
    people_of: dict[int, list[int]],
    generator: random.Random,
    stamp: str,
) -> Iterator[str]:
    for practice in range(1, practices + 1):
        owner = generator.randrange(1, STAFF + 1)
        cadence = generator.choice(("14", "30", "30", "60", "90"))
        domains = json.dumps([f"practice{practice}.example"])
        yield (
            f"{practice}\t{workspace_id}\tpractice\tPractice {practice} Family "
            f"Medicine\t\\N\t\\N\t{owner}\t{cadence}\tpractice/{practice}\t[]\t"
            f"{domains}\t[]\t{stamp}\t{stamp}"
        )
    for practice, people in people_of.items():
        for person in people:
            emails = json.dumps([f"dr{person}@practice{practice}.example"])
            yield (
                f"{person}\t{workspace_id}\tprovider\tDr. Provider {person}\t"
                f"{practice}\tFamily Medicine\t\\N\t\\N\t"
                f"provider/{practice}/{person}\t{emails}\t[]\t[]\t{stamp}\t{stamp}"
            )


def _seed_activities(
    connection: sa.Connection,
    workspace_id: int,
    activities: int,
    practices: int,
    people_of: dict[int, list[int]],
    now: dt.datetime,
) -> tuple[int, int]:
    """COPY the activities, then their touchpoints and touchpoint people."""
    generator = random.Random(7)
    stamp = timestamp(now)
    touchpoints: list[tuple[int, int, int | None, str, str]] = []

    def activity_rows() -> Iterator[str]:
        for index in range(1, activities + 1):
            # A few meetings are still ahead, as on a real calendar.
            offset = generator.uniform(-30, DAYS)
            occurred = now - dt.timedelta(days=offset)
            meeting = generator.random() < 0.15
            roll = generator.random()
            dropped = None
            if not meeting and roll < 0.2:
                dropped = "bulk"
            elif not meeting and roll < 0.3:
                dropped = "internal"
            if dropped is None:
                practice = int(practices * generator.random() ** 2) + 1
                person = (
                    generator.choice(people_of[practice])
                    if generator.random() < 0.6
                    else None
                )
                status = generator.choices(
                    ("confirmed", "needs_review", "rejected"), (95, 3, 2)
                )[0]
                touchpoints.append(
                    (index, practice, person, status, timestamp(occurred))
                )
            kind = "meeting" if meeting else "email"
            direction = "\\N" if meeting else generator.choice(("inbound", "outbound"))
            yield (
                f"{index}\t{workspace_id}\t{kind}\t{index}.bench@brookside-pt.example"
                f"\t\t{timestamp(occurred)}\t{direction}\t"
                f"{generator.randrange(1, STAFF + 1)}\t[]\t[]\t[]\t"
                f"{dropped or chr(92) + 'N'}\t{stamp}"
            )

    count = copy_rows(
        connection,
        "activity",
        "id, workspace_id, kind, external_id, occurrence_key, occurred_at, "
        'direction, staff_member_id, "references", flags, defects, dropped, '
        "created_at",
        activity_rows(),
    )
    reasons = json.dumps(
        [{"signal": "domain", "detail": "sender at the practice", "score": 0.9}]
    )
    copy_rows(
        connection,
        "touchpoint",
        "id, workspace_id, activity_id, practice_id, person_id, confidence, "
        "status, reasons, created_at, occurred_at",
        (
            f"{number}\t{workspace_id}\t{activity}\t{practice}\t"
            f"{person if person else chr(92) + 'N'}\t"
            f"{0.6 if status == 'needs_review' else 0.9}\t{status}\t{reasons}\t"
            f"{stamp}\t{occurred}"
            for number, (activity, practice, person, status, occurred) in enumerate(
                touchpoints, start=1
            )
        ),
    )
    copy_rows(
        connection,
        "touchpoint_person",
        "id, touchpoint_id, person_id, direct",
        (
            f"{number}\t{number}\t{person}\ttrue"
            for number, (_activity, _practice, person, _status, _time) in enumerate(
                touchpoints, start=1
            )
            if person
        ),
    )
    return count, len(touchpoints)


@contextlib.contextmanager
def serve(url: str, workers: int = 1) -> Iterator[str]:
    """Run `warmline serve` on a free loopback port until the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {
        **os.environ,
        "WARMLINE_DATABASE_URL": url,
        "WARMLINE_WEB_SESSION_KEY": uuid.uuid4().hex * 2,
        "WARMLINE_LOG_LEVEL": "WARNING",
    }
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warmline.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=environ,
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/signin", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("warmline serve did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        child.terminate()
        child.wait(timeout=30)


def signed_in_client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    response = client.post(
        "/api/session", json={"email": ADMIN_EMAIL, "password": PASSWORD}
    )
    response.raise_for_status()
    return client


def measure(
    clients: list[httpx.Client], paths: Callable[[int], str], requests: int
) -> list[float]:
    """Request `paths(n)` for n in range(requests) over all clients at once."""

    def fetch(number: int) -> float:
        client = clients[number % len(clients)]
        started = time.perf_counter()
        response = client.get(paths(number))
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{paths(number)} returned {response.status_code}")
        return elapsed

    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        return list(pool.map(fetch, range(requests)))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    args = parse_args()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if args.database:
        engine = create_engine(args.database)
        migrate(engine)
        refresh_learned(engine, now)
        engine.dispose()
        measure_pages(args, args.database)
        return
    with scratch_database(args.keep) as url:
        started = time.perf_counter()
        seed(url, args.sources, args.activities, now)
        print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
        measure_pages(args, url)


def measure_pages(args: argparse.Namespace, url: str) -> None:
    """Serve the site over `url` and print the times of each page kind."""
    sample = random.Random(3).sample(range(1, args.sources + 1), SAMPLE_SOURCES)
    pages: dict[str, Callable[[int], str]] = {
        "Today (/)": lambda number: "/",
        "Sources (/sources)": lambda number: "/sources",
        "source page (/sources/ID)": (
            lambda number: f"/sources/{sample[number % len(sample)]}"
        ),
    }
    with serve(url, args.workers) as base:
        clients = [signed_in_client(base) for _ in range(args.clients)]
        print(
            f"\n{args.clients} concurrent clients, {args.workers} server "
            f"processes, {args.requests} requests per page, times in ms; "
            f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
        )
        print(f"{'page':28} {'p50':>7} {'p95':>7} {'max':>7} {'load':>6}")
        for name, paths in pages.items():
            measure(clients, paths, args.clients)  # warm-up
            times = measure(clients, paths, args.requests)
            print(
                f"{name:28} {statistics.median(times) * 1000:7.0f} "
                f"{percentile(times, 0.95) * 1000:7.0f} "
                f"{max(times) * 1000:7.0f} {os.getloadavg()[0]:6.2f}",
                flush=True,
            )
        for client in clients:
            client.close()


if __name__ == "__main__":
    main()
