"""Measure account syncs per minute with 1, 2 and 4 Celery worker processes.

    python benchmarks/bench_workers.py [--accounts 200] [--messages 200]
        [--workers 1 2 4]

Generates one mailbox per account with benchmarks/generate.py.  Each is
owned by a different staff member, and all refer to the same 200 referral
sources.  For each worker count the script creates a fresh PostgreSQL
database, registers the accounts and starts that many
`warmline worker --pool=solo` processes on a Redis queue of its own.  It
then sends one sync per account and times until every sync has finished.
It prints accounts per minute, messages per second and the speed-up over
the first worker count.

Needs the local PostgreSQL (127.0.0.1:5432, trust, user postgres) and Redis
(127.0.0.1:6379); the database, the queue and its Redis keys are removed
afterwards.  Worker start-up is outside the timed span.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import redis
import sqlalchemy as sa
from sqlalchemy import func, select

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from warmline import accounts, sources, staff  # noqa: E402
from warmline.db import create_engine, migrate, session_factory  # noqa: E402
from warmline.models import Account  # noqa: E402
from warmline.settings import load_settings  # noqa: E402
from warmline.worker import SYNC_ACCOUNT, create_app  # noqa: E402
from warmline.workspaces import (  # noqa: E402
    get_or_create_workspace,
    set_workspace_setting,
)

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/12"
DOMAIN = "brookside-pt.example"
MESSAGE_ID = re.compile(rb"(\d{9}\.[0-9a-f]{10})@")
LAUNCHER = (
    "import warmline.cli.worker_commands\nfrom warmline.cli import main\nmain()\n"
)
TIMEOUT = 1800.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=200, help="accounts to sync")
    parser.add_argument(
        "--messages", type=int, default=200, help="messages per account's mailbox"
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[1, 2, 4],
        help="worker process counts to measure",
    )
    return parser.parse_args()


def generate(folder: Path, count: int, messages: int) -> list[Path]:
    """Write one mailbox per account, with Message-IDs unique across them."""
    spec = importlib.util.spec_from_file_location(
        "benchmark_generate", ROOT / "benchmarks" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    paths = []
    for index in range(count):
        out = folder / f"mailbox{index:03d}"
        argv = ["--messages", str(messages), "--sources", "200", "--out", str(out)]
        argv += ["--staff-email", staff_email(index)]
        with contextlib.redirect_stdout(io.StringIO()):
            module.main(argv)
        path = out / "mail.mbox"
        suffix = f"m{index:03d}".encode()
        path.write_bytes(MESSAGE_ID.sub(rb"\1." + suffix + rb"@", path.read_bytes()))
        paths.append(path)
    return paths


def staff_email(index: int) -> str:
    return f"staff{index:03d}.ortiz@{DOMAIN}"


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    name = f"warmline_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def register(url: str, mailboxes: list[Path]) -> list[int]:
    engine = create_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    ids = []
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        set_workspace_setting(session, workspace, "own_domains", DOMAIN)
        members = [
            staff.upsert_staff(
                session,
                workspace,
                staff.StaffInput(staff_email(i), f"Staff {i}", (), "UTC"),
            )
            for i in range(len(mailboxes))
        ]
        sources.import_sources(session, workspace, mailboxes[0].parent / "sources.csv")
        for member, path in zip(members, mailboxes, strict=True):
            account, _created = accounts.add_file_account(
                session, workspace, member, "mbox", path
            )
            session.flush()
            ids.append(account.id)
    engine.dispose()
    return ids


def start_workers(count: int, environment: dict[str, str], logs: Path) -> list:
    processes = []
    for number in range(count):
        log = logs / f"worker{number}.log"
        with log.open("wb") as handle:
            processes.append(
                (
                    subprocess.Popen(
                        [sys.executable, "-c", LAUNCHER, "worker", "--pool=solo"]
                        + ["--", "--without-mingle", "--without-gossip"]
                        + [f"--hostname=bench{number}@%h"],
                        env=environment,
                        cwd=ROOT,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
    deadline = time.monotonic() + 120
    for process, log in processes:
        while " ready." not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                stop_workers([process for process, _log in processes])
                raise SystemExit(f"a worker did not start; see {log}")
            time.sleep(0.2)
    return [process for process, _log in processes]


def stop_workers(processes: list) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


def measure(count: int, mailboxes: list[Path], logs: Path) -> tuple[float, int]:
    """Return seconds to sync every account with `count` workers, and messages read."""
    queue = f"warmline-bench-{uuid.uuid4().hex[:8]}"
    with fresh_database() as url:
        account_ids = register(url, mailboxes)
        environment = dict(
            os.environ,
            WARMLINE_DATABASE_URL=url,
            WARMLINE_BROKER_URL=REDIS_URL,
            WARMLINE_RESULT_BACKEND=REDIS_URL,
            WARMLINE_TASK_QUEUE=queue,
            # INFO: the worker logs "ready" at that level, which start_workers
            # waits for.
            WARMLINE_LOG_LEVEL="INFO",
        )
        workers = start_workers(count, environment, logs)
        try:
            # The workers stop in `finally`, also when this script is
            # interrupted.
            app = create_app(load_settings(environment))
            started = time.monotonic()
            results = [
                app.send_task(SYNC_ACCOUNT, args=(account_id,))
                for account_id in account_ids
            ]
            summaries = [result.get(timeout=TIMEOUT) for result in results]
            seconds = time.monotonic() - started
        finally:
            stop_workers(workers)
            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{queue}:*", count=1000))
            if keys:
                client.delete(*keys)
        check_synced(url, len(account_ids))
    return seconds, sum(summary.get("fetched", 0) for summary in summaries)


def check_synced(url: str, expected: int) -> None:
    engine = create_engine(url)
    with engine.connect() as connection:
        synced = connection.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.last_sync_at.is_not(None))
        )
    engine.dispose()
    if synced != expected:
        raise SystemExit(f"only {synced} of {expected} accounts synced")


def main() -> int:
    args = parse_args()
    print(f"machine: {os.cpu_count()} CPU cores; PostgreSQL and Redis on loopback")
    with tempfile.TemporaryDirectory() as folder:
        mailboxes = generate(Path(folder), args.accounts, args.messages)
        print(f"{args.accounts} accounts x {args.messages} messages generated")
        print(f"{'workers':>7} {'seconds':>8} {'accounts/min':>13} {'messages/s':>11}")
        baseline = None
        for count in args.workers:
            seconds, messages = measure(count, mailboxes, Path(folder))
            baseline = baseline or seconds
            print(
                f"{count:>7} {seconds:>8.1f} {args.accounts / seconds * 60:>13.0f} "
                f"{messages / seconds:>11.0f}   speed-up {baseline / seconds:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
