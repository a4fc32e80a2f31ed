"""Shared fixtures: a migrated database on SQLite and on PostgreSQL.

Tests that take the `database_url` fixture run twice, once per backend.  The
PostgreSQL server is the local one (127.0.0.1:5432, trust authentication);
each test run creates its own database there and drops it at the end.  Pass
`--no-postgres` to run on SQLite alone where no server is running.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from warmline.db import create_engine, migrate, session_factory
from warmline.logs import reset_logging
from warmline.schema import Base

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
MISSING_ID = 2_000_000_000
"""An id that names no row: the databases keep their sequences between
tests, so a small id such as 999 may exist by the time a test runs."""
POSTGRES_ADMIN_URL = os.environ.get(
    "WARMLINE_TEST_POSTGRES_URL",
    "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-postgres",
        action="store_true",
        help="Run database tests on SQLite only (no PostgreSQL server at hand).",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if not metafunc.config.getoption("--no-postgres"):
            backends.append("postgresql")
        metafunc.parametrize("backend", backends, scope="session")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create a throw-away PostgreSQL database for this test run."""
    name = f"warmline_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_ADMIN_URL} cannot be reached ({error.orig}); "
            "start it or run pytest with --no-postgres"
        )
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_engine(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[Engine]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'warmline.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated database, emptied after each test."""
    yield migrated_engine
    empty_tables(migrated_engine)


def empty_tables(engine: Engine) -> None:
    """Delete every row of every table, the append-only audit log included."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The audit log's trigger rejects deletes outside maintenance.
            connection.execute(
                sa.text("SET LOCAL warmline.audit_log_maintenance = 'on'")
            )
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    """Undo a command's logging set-up so the next test sees the defaults."""
    yield
    reset_logging()
