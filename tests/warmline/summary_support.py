"""Data and write paths shared by the tests of the stored summaries.

The last touch, touch count and learned cadence tests each run a write path
(sync, review decisions, reassignment, purge, source removal, retention) and
then compare their stored summary with a full recompute.  This module contains
the mailboxes they sync, the write path steps and the recompute of every
source's confirmed touch times.  Each write path step commits its own
transaction.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.warmline.test_privacy import (
    ACTOR,
    AMY,
    JANET,
    MARIA,
    OLD,
    RECENT,
    THAO,
    add_mbox,
    message,
    set_up,
)
from warmline import privacy, review
from warmline.models import (
    Activity,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    utcnow,
)
from warmline.workspaces import get_or_create_workspace

MIGRATIONS = Path(__file__).parents[2] / "warmline/migrations/versions"


def synced(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """Sync four messages to Sam.

    Maria wrote on 3 March and 3 November 2026, Janet and Thao on 3 March.
    """
    set_up(sessions, tmp_path)
    add_mbox(
        sessions, tmp_path / "sam.mbox",
        message("m1@riverside-fm.example", MARIA, OLD),
        message("m2@riverside-fm.example", MARIA, RECENT),
        message("j1@riverside-fm.example", JANET, OLD),
        message("t1@cedar-im.example", THAO, OLD),
    )  # fmt: skip


def synced_two_accounts(sessions: sessionmaker[Session], tmp_path: Path) -> int:
    """Sync Maria's message of 3 March 2026 to Sam and of 3 November to Amy.

    Returns Amy's account id.
    """
    set_up(sessions, tmp_path)
    add_mbox(sessions, tmp_path / "sam.mbox",
             message("m1@riverside-fm.example", MARIA, OLD))  # fmt: skip
    return add_mbox(sessions, tmp_path / "amy.mbox",
                    message("m2@riverside-fm.example", MARIA, RECENT, to=AMY),
                    staff=AMY)  # fmt: skip


def synced_maria_and_janet(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """Sync Maria's message of 3 November 2026 and Janet's of 3 March to Sam."""
    set_up(sessions, tmp_path)
    add_mbox(sessions, tmp_path / "sam.mbox",
             message("m1@riverside-fm.example", MARIA, RECENT),
             message("j1@riverside-fm.example", JANET, OLD))  # fmt: skip


def mailbox_with_moved_message(sessions: sessionmaker[Session], tmp_path: Path) -> int:
    """Sync Maria's 3 November message, then move it to 4 November in the file.

    Returns the account id, so the test can sync the moved message.
    """
    set_up(sessions, tmp_path)
    path = tmp_path / "sam.mbox"
    account_id = add_mbox(
        sessions, path, message("m1@riverside-fm.example", MARIA, RECENT)
    )
    moved = "Wed, 4 Nov 2026 11:00:00 -0500"
    path.write_text(message("m1@riverside-fm.example", MARIA, moved), "utf-8")
    return account_id


def confirmed_of(sessions: sessionmaker[Session], external_id: str) -> int:
    with sessions() as session:
        return session.scalars(
            select(Touchpoint.id)
            .join(Activity, Activity.id == Touchpoint.activity_id)
            .where(Activity.external_id == external_id)
        ).one()


def actor(sessions: sessionmaker[Session]) -> review.Actor:
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        return review.Actor(workspace.id, None, None, ACTOR)


def decide(
    sessions: sessionmaker[Session],
    touchpoint_ids: Sequence[int],
    action: review.DecisionAction,
) -> None:
    with sessions.begin() as session:
        review.decide(session, actor(sessions), touchpoint_ids, action, utcnow())


def reassign(
    sessions: sessionmaker[Session],
    touchpoint_id: int,
    practice_id: int,
    person_id: int | None,
) -> None:
    with sessions.begin() as session:
        review.reassign(
            session, actor(sessions), touchpoint_id, practice_id, person_id, utcnow()
        )


def purge_account(sessions: sessionmaker[Session], account_id: int) -> None:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.remove_account(session, workspace, account_id, purge=True, actor=ACTOR)


def remove_source(sessions: sessionmaker[Session], source_id: int) -> None:
    """Remove a referral source and delete its touchpoints."""
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.remove_source(session, workspace, source_id, actor=ACTOR,
                              touchpoints=privacy.TouchpointHandling.DELETE)  # fmt: skip


def apply_retention(
    sessions: sessionmaker[Session], as_of: dt.datetime, months: int
) -> None:
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.apply_retention(session, workspace, as_of, actor=ACTOR, months=months)


def touch_times(session: Session) -> dict[int, list[dt.datetime]]:
    """Derive every source's confirmed touch times from the touchpoints.

    A touchpoint touches its practice and each person on it.
    """
    rows = session.execute(
        select(Touchpoint.id, Touchpoint.practice_id, Activity.occurred_at)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(Touchpoint.status == TouchpointStatus.CONFIRMED)
    ).all()
    people: dict[int, list[int]] = defaultdict(list)
    for touchpoint_id, person_id in session.execute(
        select(TouchpointPerson.touchpoint_id, TouchpointPerson.person_id)
    ):
        people[touchpoint_id].append(person_id)
    times: dict[int, list[dt.datetime]] = defaultdict(list)
    for touchpoint_id, practice_id, occurred_at in rows:
        for source in {practice_id, *people[touchpoint_id]}:
            times[source].append(occurred_at)
    return times


def load_migration(path: Path, module_name: str) -> ModuleType:
    """Import an Alembic revision file, which is not in an importable package."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration
