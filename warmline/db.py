"""Engine, sessions and schema migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, overload

import sqlalchemy as sa
import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"

log = structlog.get_logger(__name__)

ID_CHUNK = 500
"""Ids per IN list, so that a long list becomes several statements, each well
under SQLite's limit on bound parameters."""

T = TypeVar("T")


def create_engine(url: str) -> Engine:
    """Create an engine; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets a reader (the web view, a second command) run during a sync;
    # synchronous=NORMAL is durable across application crashes in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migrations; a no-op when it is there.

    "heads" rather than "head" applies every branch, so two features that
    each added a migration on the same parent both apply before a merge
    revision joins them.
    """
    command.upgrade(alembic_config(engine), "heads")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory every process uses, with its change counters.

    See warmline.change_counter.
    """
    from warmline.change_counter import watch_commits

    sessions = sessionmaker(engine, expire_on_commit=False)
    watch_commits(sessions)
    return sessions


def chunks(values: list[T], size: int = ID_CHUNK) -> Iterator[list[T]]:
    """Split `values` into consecutive slices of at most `size` items."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


@overload
def utc_aware(value: dt.datetime | str) -> dt.datetime: ...
@overload
def utc_aware(value: None) -> None: ...
def utc_aware(value: dt.datetime | str | None) -> dt.datetime | None:
    """Return a value read from the database as an aware UTC datetime.

    Where a statement bypasses the column type (aggregates such as max, or
    type_coerce), SQLite returns naive UTC values or their ISO text.
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def insert_for(session: Session, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """Return an INSERT into `model`'s table with the ON CONFLICT clauses.

    Raises NotImplementedError for databases other than SQLite and
    PostgreSQL.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(
        f"database {dialect!r} is not supported; use SQLite or PostgreSQL"
    )


ATTEMPTS = 3
"""How many times `retrying` runs a transaction that PostgreSQL aborts."""

RETRIED_STATES = {"40P01", "40001"}
"""Deadlock detected, and serialization failure."""


def retrying(
    run: Callable[[], T], action: str, rollback: Callable[[], None] | None = None
) -> T:
    """Call `run`, a whole transaction, again when PostgreSQL aborts it.

    PostgreSQL aborts one of two transactions that wait for each other's
    row locks (SQLSTATE 40P01), and it may abort a serializable one (40001).
    Running the aborted one again from the start then succeeds.  `rollback` ends the
    aborted transaction first when `run` does not.  `action` names the work
    in the log line of each retry.  Other errors, and an abort of the last
    of ATTEMPTS tries, are raised.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return run()
        except DBAPIError as error:
            if rollback is not None:
                rollback()
            state = getattr(error.orig, "sqlstate", None)
            if state not in RETRIED_STATES or attempt == ATTEMPTS:
                raise
            log.warning("transaction aborted, retrying", action=action,
                        sqlstate=state, attempt=attempt)  # fmt: skip
    raise AssertionError("unreachable: the last attempt returns or raises")
