"""A sync killed mid-run and run again loses and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased, sessionmaker

from warmline.models import (
    Account,
    Activity,
    ActivityParticipant,
    ReferralSource,
    Touchpoint,
)
from warmline.schema import Base

ROOT = Path(__file__).parents[2]
STAFF = "sam.ortiz@brookside-pt.example"
MESSAGES = 3000


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "generate.py"),
            "--messages",
            str(MESSAGES),
            "--sources",
            "200",
            "--out",
            str(folder),
        ],
        check=True,
    )
    return folder


def warmline(url: str, *args: str, batch_size: int = 100) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ, WARMLINE_DATABASE_URL=url, WARMLINE_BATCH_SIZE=str(batch_size)
    )
    return subprocess.Popen(
        [sys.executable, "-m", "warmline.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def run(url: str, *args: str) -> None:
    process = warmline(url, *args)
    _out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err.decode()


def set_up(url: str, data: Path) -> None:
    run(url, "config", "set", "own_domains", "brookside-pt.example")
    run(url, "staff", "add", STAFF, "--name", "Sam Ortiz")
    run(url, "sources", "import", str(data / "sources.csv"))
    run(url, "accounts", "add", "mbox", str(data / "mail.mbox"), "--staff", STAFF)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[object, ...]]]:
    with sessions() as session:
        activities = session.execute(
            select(
                Activity.kind,
                Activity.external_id,
                Activity.occurrence_key,
                Activity.occurred_at,
                Activity.subject,
                Activity.direction,
            )
        ).all()
        participants = session.execute(
            select(
                Activity.external_id,
                ActivityParticipant.role,
                ActivityParticipant.address,
            ).join(Activity, Activity.id == ActivityParticipant.activity_id)
        ).all()
        practice = aliased(ReferralSource)
        person = aliased(ReferralSource)
        links = session.execute(
            select(
                Activity.external_id,
                practice.name,
                person.name,
                Touchpoint.status,
                Touchpoint.confidence,
            )
            .join(Activity, Activity.id == Touchpoint.activity_id)
            .join(practice, practice.id == Touchpoint.practice_id)
            .outerjoin(person, person.id == Touchpoint.person_id)
        ).all()
    return {
        "activities": sorted(map(tuple, activities)),
        "participants": sorted(map(tuple, participants)),
        "touchpoints": sorted(map(tuple, links), key=repr),
    }


def empty(engine: Engine) -> None:
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # The audit log's trigger rejects deletes outside maintenance.
            connection.execute(text("SET LOCAL warmline.audit_log_maintenance = 'on'"))
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def kill_after_first_commit(url: str, sessions: sessionmaker[Session]) -> None:
    process = warmline(url, "sync")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with sessions() as session:
            cursor = session.scalar(select(Account.cursor))
        if cursor is not None:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    _out, err = process.communicate()
    assert process.returncode == -signal.SIGKILL, err.decode()


def test_killed_sync_resumes_without_loss(generated, engine, database_url, sessions):
    set_up(database_url, generated)
    run(database_url, "sync")
    clean = snapshot(sessions)
    empty(engine)
    set_up(database_url, generated)

    kill_after_first_commit(database_url, sessions)
    partial = snapshot(sessions)
    run(database_url, "sync")
    resumed = snapshot(sessions)

    assert 0 < len(partial["activities"]) < len(clean["activities"])
    for table in ("activities", "participants", "touchpoints"):
        assert set(resumed[table]) ^ set(clean[table]) == set(), table
        assert len(resumed[table]) == len(clean[table]), table
    assert len(clean["touchpoints"]) > MESSAGES // 3
