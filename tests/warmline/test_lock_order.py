"""Write paths that change touchpoints lock the activity before its touchpoints.

A sync locks an activity (by writing it), then its touchpoints, then the
sources whose last touch it refreshes.  A path that took a touchpoint or a
source first and the activity last could deadlock with that sync.  Each
test holds the activity's row lock in another transaction, runs one write
path, and checks that while the path waits for the activity it holds no
lock on a touchpoint or a source.  Row locks exist on PostgreSQL only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.warmline import summary_support as support
from tests.warmline.test_privacy import source_id
from warmline.cli import main
from warmline.matching import rematch_activities
from warmline.models import Activity, ReferralSource, Touchpoint, TouchpointStatus
from warmline.web_models import DecisionAction
from warmline.workspaces import get_or_create_workspace

WAIT_SECONDS = 20

WritePath = Callable[[sessionmaker[Session], int], None]


@pytest.fixture
def postgres_sessions(sessions: sessionmaker[Session], backend: str):
    if backend != "postgresql":
        pytest.skip("row locks exist on PostgreSQL only")
    return sessions


def activity_of(sessions: sessionmaker[Session], touchpoint_id: int) -> int:
    with sessions() as session:
        return session.get_one(Touchpoint, touchpoint_id).activity_id


def wait_for_lock_wait(engine: Engine, started: float) -> None:
    """Wait until another backend of this database waits for a row lock."""
    with engine.connect() as connection:
        while time.monotonic() - started < WAIT_SECONDS:
            waiting = connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            connection.rollback()
            if waiting:
                return
            time.sleep(0.05)
    pytest.fail(
        f"the write path did not wait for the activity lock in {WAIT_SECONDS} s"
    )


def locked_elsewhere(connection: Connection, statement: sa.Select) -> bool:
    """Return whether another transaction holds a row lock that `statement` needs."""
    try:
        with connection.begin():
            connection.execute(statement.with_for_update(nowait=True)).all()
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == "55P03":  # lock_not_available
            return True
        raise
    return False


def run_while_activity_locked(
    sessions: sessionmaker[Session], touchpoint_id: int, write: WritePath
) -> tuple[bool, bool]:
    """Run `write` while another transaction has the touchpoint's activity locked.

    Returns whether, while `write` waited, the activity's touchpoints and
    the sources of the workspace were locked by it.
    """
    engine = sessions.kw["bind"]
    activity_id = activity_of(sessions, touchpoint_id)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            write(sessions, touchpoint_id)
        except BaseException as error:  # reported by the test below
            failures.append(error)

    with engine.connect() as holder, engine.connect() as checker:
        holder.begin()
        holder.execute(
            select(Activity.id).where(Activity.id == activity_id).with_for_update()
        ).all()
        writer = threading.Thread(target=run)
        writer.start()
        wait_for_lock_wait(engine, time.monotonic())
        touchpoints_locked = locked_elsewhere(
            checker, select(Touchpoint.id).where(Touchpoint.activity_id == activity_id)
        )
        sources_locked = locked_elsewhere(checker, select(ReferralSource.id))
        holder.rollback()
    writer.join(WAIT_SECONDS)
    assert not writer.is_alive()
    assert failures == []
    return touchpoints_locked, sources_locked


def confirm(sessions: sessionmaker[Session], touchpoint_id: int) -> None:
    support.decide(sessions, [touchpoint_id], DecisionAction.CONFIRM)


def reject(sessions: sessionmaker[Session], touchpoint_id: int) -> None:
    support.decide(sessions, [touchpoint_id], DecisionAction.REJECT)


def reassign_elsewhere(sessions: sessionmaker[Session], touchpoint_id: int) -> None:
    cedar = source_id(sessions, "Cedar Internal Medicine")
    support.reassign(sessions, touchpoint_id, cedar, None)


def rematch(sessions: sessionmaker[Session], touchpoint_id: int) -> None:
    with sessions() as session:
        workspace_id = get_or_create_workspace(session, "default").id
    rematch_activities(sessions, workspace_id, [activity_of(sessions, touchpoint_id)])


def remove_practice(sessions: sessionmaker[Session], touchpoint_id: int) -> None:
    support.remove_source(sessions, source_id(sessions, "Riverside Family Medicine"))


@pytest.mark.parametrize(
    "write",
    [confirm, reject, reassign_elsewhere, rematch, remove_practice],
    ids=["confirm", "reject", "reassign", "rematch", "remove-source"],
)
def test_activity_locked_first(postgres_sessions, tmp_path, write):
    sessions = postgres_sessions
    support.synced(sessions, tmp_path)
    touchpoint_id = support.confirmed_of(sessions, "m2@riverside-fm.example")
    # A stored score that the matcher will not give again, so a rematch
    # has to update the touchpoint.
    with sessions.begin() as session:
        session.execute(
            update(Touchpoint)
            .where(Touchpoint.id == touchpoint_id)
            .values(confidence=0.5)
        )

    touchpoints_locked, sources_locked = run_while_activity_locked(
        sessions, touchpoint_id, write
    )

    assert not touchpoints_locked
    assert not sources_locked


def test_cli_decision_retried_after_deadlock(postgres_sessions, database_url, tmp_path):
    """A decision that PostgreSQL aborts in a deadlock is run again.

    Another transaction locks the sources, the decision locks the activity
    and waits for the sources, and the other then requests the activity.
    The other checks for deadlocks later, so PostgreSQL aborts the decision.
    """
    sessions = postgres_sessions
    support.synced(sessions, tmp_path)
    touchpoint_id = support.confirmed_of(sessions, "m2@riverside-fm.example")
    engine = sessions.kw["bind"]
    activity_id = activity_of(sessions, touchpoint_id)
    results = []

    def reject() -> None:
        arguments = ["--database", database_url, "review", "reject", str(touchpoint_id)]
        results.append(CliRunner().invoke(main, arguments))

    with engine.connect() as other:
        other.begin()
        other.execute(sa.text("SET LOCAL deadlock_timeout = '10s'"))
        other.execute(select(ReferralSource.id).with_for_update()).all()
        decision = threading.Thread(target=reject)
        decision.start()
        wait_for_lock_wait(engine, time.monotonic())
        # Closes the cycle; the decision is aborted after its own
        # deadlock_timeout (1 s by default), and this lock is then granted.
        other.execute(
            select(Activity.id).where(Activity.id == activity_id).with_for_update()
        ).all()
        other.rollback()
    decision.join(WAIT_SECONDS)

    assert not decision.is_alive()
    assert [result.exit_code for result in results] == [0], results[0].output
    with sessions() as session:
        status = session.get_one(Touchpoint, touchpoint_id).status
    assert status is TouchpointStatus.REJECTED
