"""A review decision that PostgreSQL aborts in a deadlock is run again.

The test builds a real deadlock: another transaction locks the practice's
row, the decision locks the activity and then waits for the practice (to
refresh its last touch), and the other transaction then requests the
activity.  The other transaction waits longer before checking for
deadlocks, so PostgreSQL aborts the decision.  Row locks exist on
PostgreSQL only.
"""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests.web.conftest import csrf_token
from warmline.models import Activity, ReferralSource, Touchpoint, TouchpointStatus

WAIT_SECONDS = 20


def waiting_for_lock(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.scalar(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        )


def test_deadlocked_decision_retried(member_client, clinic, sessions, backend):
    if backend != "postgresql":
        pytest.skip("row locks exist on PostgreSQL only")
    engine = sessions.kw["bind"]
    with sessions() as session:
        activity_id = session.get_one(Touchpoint, clinic.review_id).activity_id
    token = csrf_token(member_client)
    responses = []

    def decide() -> None:
        responses.append(
            member_client.post(
                "/review/decide",
                data={
                    "csrf_token": token,
                    "action": "confirm",
                    "touchpoint_id": [str(clinic.review_id)],
                },
            )
        )

    with engine.connect() as other:
        other.begin()
        other.execute(sa.text("SET LOCAL deadlock_timeout = '10s'"))
        other.execute(
            select(ReferralSource.id)
            .where(ReferralSource.id.in_([clinic.practice_id, clinic.person_id]))
            .with_for_update()
        ).all()
        decision = threading.Thread(target=decide)
        decision.start()
        started = time.monotonic()
        while not waiting_for_lock(engine):
            assert time.monotonic() - started < WAIT_SECONDS, "decision never waited"
            time.sleep(0.05)
        # Closes the cycle; PostgreSQL aborts the decision after its own
        # deadlock_timeout (1 s by default), and this lock is then granted.
        other.execute(
            select(Activity.id).where(Activity.id == activity_id).with_for_update()
        ).all()
        other.rollback()
    decision.join(WAIT_SECONDS)

    assert not decision.is_alive()
    assert [response.status_code for response in responses] == [303]
    with sessions() as session:
        status = session.get_one(Touchpoint, clinic.review_id).status
    assert status is TouchpointStatus.CONFIRMED
