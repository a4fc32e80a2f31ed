"""Counters that move after every commit that changes a set of tables.

A process that keeps a result computed from the database, such as the site's
cold list (warmline.kept_results), stores the counter's value with it and
reuses the result while the value is unchanged. `watch_commits` registers
session events on a session factory: when a session's statements or flushes
change a watched table, the counter is incremented after the commit, in a
transaction of its own. Counting after the commit means a reader that reads
the counter before it computes never stores an old result under the new
value, and the write transaction takes no extra row lock.

Only writes through an ORM session are seen.  Writes through a bare
connection (migrations, a benchmark's COPY) or a process that dies between
its commit and the increment leave the counter behind, so readers also
bound how long they keep a result.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import String, event, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    mapped_column,
    sessionmaker,
)

from warmline.models import Base

log = structlog.get_logger(__name__)

SUMMARIES = "workspace_summaries"
"""The counter of the tables the site's kept summaries read.

They are the cold list (`warmline.remind.cold.cold_rows`), the count of
matches awaiting review, the weekly chart of touchpoints, the follow-ups due
and the open referral loops.
"""

WATCHED: dict[str, frozenset[str]] = {
    SUMMARIES: frozenset(
        {
            "workspace",
            "workspace_setting",
            "staff_member",
            "referral_source",
            "referral",
            "touchpoint",
            "touchpoint_month_count",
            "source_last_touch",
            "source_learned_cadence",
            "staff_day_touch_count",
            "activity_touch_day",
            "follow_up",
            "follow_up_basis",
        }
    ),
}

_PENDING = "change_counter.pending"
"""The session.info key of the counters that the open transaction moves."""


class ChangeCounter(Base):
    """One named counter, and the random id of the database it counts in."""

    __tablename__ = "change_counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
    database_id: Mapped[str] = mapped_column(
        String(36),
        comment="random per database, so a process never mistakes one for another",
    )


def read_counter(session: Session, name: str) -> tuple[str, int] | None:
    """Return (database id, value) of the counter `name`, or None without a row.

    A result stored with one value is current while a later read returns
    the same pair.
    """
    row = session.execute(
        select(ChangeCounter.database_id, ChangeCounter.value).where(
            ChangeCounter.name == name
        )
    ).first()
    return None if row is None else (row.database_id, row.value)


def watch_commits(sessions: sessionmaker[Session]) -> None:
    """Count the commits of `sessions` that change the watched tables."""
    event.listen(sessions, "do_orm_execute", _note_statement)
    event.listen(sessions, "after_flush", _note_flush)
    event.listen(sessions, "after_commit", _increment_after_commit)
    event.listen(sessions, "after_rollback", _forget)


def _note(session: Session, table: str | None) -> None:
    for name, tables in WATCHED.items():
        if table in tables:
            session.info.setdefault(_PENDING, set()).add(name)


def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        _note(state.session, getattr(table, "name", None))


def _note_flush(session: Session, _flush: UOWTransaction) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(instance), "__table__", None)
        _note(session, getattr(table, "name", None))


def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _increment_after_commit(session: Session) -> None:
    names = session.info.pop(_PENDING, None)
    if not names:
        return
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    assert isinstance(engine, Engine)
    try:
        for name in sorted(names):
            _increment(engine, name)
    except SQLAlchemyError as error:
        # The data is committed, so the cost of a failure here is a result
        # reused until the reader's time bound ends, and the commit is kept.
        log.warning("change counter not incremented", error=type(error).__name__)


def _increment(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        moved = connection.execute(
            update(ChangeCounter)
            .where(ChangeCounter.name == name)
            .values(value=ChangeCounter.value + 1)
        ).rowcount
    if moved:
        return
    # The row is gone because the database was emptied table by table.  A
    # new row gets a new id, so no process takes it for the old one.
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(ChangeCounter).values(
                    name=name, value=1, database_id=str(uuid.uuid4())
                )
            )
    except IntegrityError:
        pass  # another process inserted it first, which works as well
