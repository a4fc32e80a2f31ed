"""Real brokers, real worker processes and throw-away databases.

Redis (127.0.0.1:6379), RabbitMQ (127.0.0.1:5672, guest) and PostgreSQL
(127.0.0.1:5432) are the local servers.  Each test gets a queue name of its
own.  On Redis the queue name also prefixes every key, so parallel runs
never share a queue or the unacknowledged-message index.  The keys are
deleted afterwards.  Worker processes start through `warmline worker` in a
session of their own, so a test can kill a worker with its pool processes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from warmline.db import create_engine, migrate, session_factory
from warmline.settings import load_settings
from warmline.worker import WarmlineCelery, create_app

ROOT = Path(__file__).parents[2]
REDIS_URL = os.environ.get("WARMLINE_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
RABBITMQ_URL = os.environ.get(
    "WARMLINE_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"
)
POSTGRES_ADMIN_URL = os.environ.get(
    "WARMLINE_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)
LAUNCHER = (
    "import warmline.cli.worker_commands\nfrom warmline.cli import main\nmain()\n"
)
"""Runs the command line with the worker commands loaded, whether or not
warmline.cli imports them yet."""

READY_TIMEOUT = 60.0


@dataclasses.dataclass
class Broker:
    """One broker with a queue of this test's own."""

    kind: str
    url: str
    queue: str

    def environment(self) -> dict[str, str]:
        return {
            "WARMLINE_BROKER_URL": self.url,
            "WARMLINE_RESULT_BACKEND": REDIS_URL,
            "WARMLINE_TASK_QUEUE": self.queue,
        }

    def clean_up(self) -> None:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{self.queue}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
        if self.kind == "rabbitmq":
            import amqp

            connection = amqp.Connection(
                "127.0.0.1:5672", userid="guest", password="guest"
            )
            connection.connect()
            channel = connection.channel()
            channel.queue_delete(self.queue)
            channel.exchange_delete(self.queue)
            connection.close()


def make_broker(kind: str) -> Broker:
    queue = f"warmline-test-{uuid.uuid4().hex[:10]}"
    url = REDIS_URL if kind == "redis" else RABBITMQ_URL
    return Broker(kind, url, queue)


@pytest.fixture(params=["redis", "rabbitmq"])
def broker(request: pytest.FixtureRequest) -> Iterator[Broker]:
    made = make_broker(request.param)
    yield made
    made.clean_up()


@pytest.fixture
def redis_broker() -> Iterator[Broker]:
    made = make_broker("redis")
    yield made
    made.clean_up()


@pytest.fixture
def rabbitmq_broker() -> Iterator[Broker]:
    made = make_broker("rabbitmq")
    yield made
    made.clean_up()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """Create a migrated PostgreSQL database and drop it afterwards."""
    name = f"warmline_worker_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    engine = create_engine(rendered)
    migrate(engine)
    engine.dispose()
    try:
        yield rendered
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def worker_database_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def worker_sessions(worker_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_engine(worker_database_url)
    yield session_factory(engine)
    engine.dispose()


class Worker:
    """A `warmline worker` process, logging to a file, in its own session."""

    def __init__(
        self,
        name: str,
        environment: dict[str, str],
        log: Path,
        celery_args: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.celery_args = celery_args
        self.environment = environment
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.options: tuple[str, ...] = ()
        self.hostname = ""
        self.starts = 0

    def start(self, *options: str, wait: bool = True) -> Worker:
        """Start the worker, with the options of the previous start if none."""
        self.options = options or self.options
        self.starts += 1
        # Unique per start: tests on other xdist workers may name a worker
        # the same, and RabbitMQ lets one node name hold its control queue.
        self.hostname = f"{self.name}-{self.starts}-{uuid.uuid4().hex[:8]}@%h"
        with self.log.open("ab") as handle:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    LAUNCHER,
                    "worker",
                    *self.options,
                    "--",
                    *self.celery_args,
                    "--without-mingle",
                    "--without-gossip",
                    f"--hostname={self.hostname}",
                ],
                env=self.environment,
                cwd=ROOT,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Wait until the current process logs that it consumes tasks."""
        name = self.hostname.split("@")[0]
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            if f"{name}@" in text and text.rfind(" ready.") > text.rfind(f"{name}@"):
                return
            assert self.process is not None
            if self.process.poll() is not None:
                pytest.fail(f"worker {name} exited at start:\n{text[-3000:]}")
            time.sleep(0.1)
        pytest.fail(f"worker {name} not ready after {READY_TIMEOUT} s")

    def pool_processes(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except FileNotFoundError:
            return []

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes, as a machine crash would."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def kill_pool_process(self) -> bool:
        """SIGKILL one pool process; its worker reports the task lost."""
        children = self.pool_processes()
        if not children:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(children[0], signal.SIGKILL)
        return True

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[object]:
    """Start `warmline worker` processes; every one is stopped at the end."""
    started: list[Worker] = []

    def start(
        name: str,
        environment: dict[str, str],
        *options: str,
        celery_args: tuple[str, ...] = (),
    ) -> Worker:
        full = dict(os.environ, WARMLINE_LOG_LEVEL="INFO", **environment)
        worker = Worker(name, full, tmp_path / f"{name}.log", celery_args)
        started.append(worker)
        return worker.start(*options)

    yield start
    for worker in started:
        worker.stop()


def producer(environment: dict[str, str]) -> WarmlineCelery:
    """Return the Celery app a producer builds from the same settings."""
    return create_app(load_settings(environment))
