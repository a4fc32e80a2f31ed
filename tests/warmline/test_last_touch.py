"""The stored last touch per source equals a full recompute after every write path."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
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
    source_id,
)
from warmline import last_touch, privacy, review
from warmline.last_touch import SourceLastTouch
from warmline.models import (
    Activity,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
    utcnow,
)
from warmline.pipeline import sync_account
from warmline.relationships import last_touches
from warmline.workspaces import get_or_create_workspace

MIGRATION = (
    Path(__file__).parents[2] / "warmline/migrations/versions/0020_source_last_touch.py"
)

Split = tuple[dt.datetime | None, dt.datetime | None]


def recomputed(session: Session, now: dt.datetime) -> dict[int, Split]:
    """Derive every source's (last touch up to now, next touch after) in Python."""
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
    return {
        source: (
            max((t for t in found if t <= now), default=None),
            min((t for t in found if t > now), default=None),
        )
        for source, found in times.items()
    }


def stored(session: Session) -> dict[int, Split]:
    return {
        row.source_id: (row.last_touch_at, row.next_touch_at)
        for row in session.scalars(select(SourceLastTouch))
    }


def assert_summary_exact(sessions: sessionmaker[Session]) -> dict[int, Split]:
    """Check the stored last touches, and each touchpoint's copied activity time."""
    with sessions() as session:
        summary = stored(session)
        expected = recomputed(session, utcnow())
        times = session.execute(
            select(Touchpoint.id, Touchpoint.occurred_at, Activity.occurred_at).join(
                Activity, Activity.id == Touchpoint.activity_id
            )
        ).all()

    assert summary == expected
    assert times
    assert [row for row in times if row[1] != row[2]] == []
    return summary


def synced(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    set_up(sessions, tmp_path)
    add_mbox(
        sessions, tmp_path / "sam.mbox",
        message("m1@riverside-fm.example", MARIA, OLD),
        message("m2@riverside-fm.example", MARIA, RECENT),
        message("j1@riverside-fm.example", JANET, OLD),
        message("t1@cedar-im.example", THAO, OLD),
    )  # fmt: skip


def get_workspace_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return get_or_create_workspace(session, "default").id


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


def test_sync_fills_summary(sessions, tmp_path):
    synced(sessions, tmp_path)

    summary = assert_summary_exact(sessions)

    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")
    assert summary[maria][0] == summary[riverside][0]
    assert summary[maria][0].date() == dt.date(2026, 11, 3)


def test_resync_moved_activity(sessions, tmp_path):
    set_up(sessions, tmp_path)
    path = tmp_path / "sam.mbox"
    account_id = add_mbox(
        sessions, path, message("m1@riverside-fm.example", MARIA, RECENT)
    )
    moved = "Wed, 4 Nov 2026 11:00:00 -0500"
    path.write_text(message("m1@riverside-fm.example", MARIA, moved), "utf-8")
    maria = source_id(sessions, "Maria L. Lopez, MD")

    report = sync_account(sessions, account_id, batch_size=10)
    summary = assert_summary_exact(sessions)

    assert report.error is None
    assert summary[maria][0].date() == dt.date(2026, 11, 4)


def test_reject_and_confirm(sessions, tmp_path):
    synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    recent = confirmed_of(sessions, "m2@riverside-fm.example")

    with sessions.begin() as session:
        review.decide(session, actor(sessions), [recent],
                      review.DecisionAction.REJECT, utcnow())  # fmt: skip
    rejected = assert_summary_exact(sessions)
    with sessions.begin() as session:
        review.decide(session, actor(sessions), [recent],
                      review.DecisionAction.CONFIRM, utcnow())  # fmt: skip
    confirmed = assert_summary_exact(sessions)

    assert rejected[maria][0].date() == dt.date(2026, 3, 3)
    assert confirmed[maria][0].date() == dt.date(2026, 11, 3)


def test_reassign_to_other_practice(sessions, tmp_path):
    synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    cedar = source_id(sessions, "Cedar Internal Medicine")
    thao = source_id(sessions, "Thao Nguyen NP")
    recent = confirmed_of(sessions, "m2@riverside-fm.example")

    with sessions.begin() as session:
        review.reassign(session, actor(sessions), recent, cedar, thao, utcnow())
    summary = assert_summary_exact(sessions)

    assert summary[thao][0].date() == dt.date(2026, 11, 3)
    assert summary[cedar][0].date() == dt.date(2026, 11, 3)
    assert summary[maria][0].date() == dt.date(2026, 3, 3)


def test_reassign_to_no_person(sessions, tmp_path):
    synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")
    recent = confirmed_of(sessions, "m2@riverside-fm.example")

    with sessions.begin() as session:
        review.reassign(session, actor(sessions), recent, riverside, None, utcnow())
    summary = assert_summary_exact(sessions)

    assert summary[maria][0].date() == dt.date(2026, 3, 3)
    assert summary[riverside][0].date() == dt.date(2026, 11, 3)


def test_purge_account(sessions, tmp_path):
    set_up(sessions, tmp_path)
    add_mbox(sessions, tmp_path / "sam.mbox",
             message("m1@riverside-fm.example", MARIA, OLD))  # fmt: skip
    amy = add_mbox(sessions, tmp_path / "amy.mbox",
                   message("m2@riverside-fm.example", MARIA, RECENT, to=AMY),
                   staff=AMY)  # fmt: skip
    maria = source_id(sessions, "Maria L. Lopez, MD")

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.remove_account(session, workspace, amy, purge=True, actor=ACTOR)
    summary = assert_summary_exact(sessions)

    assert summary[maria][0].date() == dt.date(2026, 3, 3)


def test_retention_keeps_month_counts(sessions, tmp_path):
    synced(sessions, tmp_path)
    as_of = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    thao = source_id(sessions, "Thao Nguyen NP")
    maria = source_id(sessions, "Maria L. Lopez, MD")

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.apply_retention(session, workspace, as_of, actor=ACTOR, months=6)
    summary = assert_summary_exact(sessions)
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        touches = last_touches(session, workspace, as_of)

    assert thao not in summary
    assert summary[maria][0].date() == dt.date(2026, 11, 3)
    assert touches[thao].date() == dt.date(2026, 3, 3)


def test_remove_person_refreshes_practice(sessions, tmp_path):
    set_up(sessions, tmp_path)
    add_mbox(sessions, tmp_path / "sam.mbox",
             message("m1@riverside-fm.example", MARIA, RECENT),
             message("j1@riverside-fm.example", JANET, OLD))  # fmt: skip
    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.remove_source(session, workspace, maria, actor=ACTOR,
                              touchpoints=privacy.TouchpointHandling.DELETE)  # fmt: skip
    summary = assert_summary_exact(sessions)

    assert maria not in summary
    assert summary[riverside][0].date() == dt.date(2026, 3, 3)


def test_future_meeting_counts_once_held(sessions, tmp_path):
    set_up(sessions, tmp_path)
    soon = utcnow() + dt.timedelta(days=2)
    add_mbox(sessions, tmp_path / "sam.mbox",
             message("m1@riverside-fm.example", MARIA, OLD),
             message("m2@riverside-fm.example", MARIA,
                     soon.strftime("%a, %d %b %Y %H:%M:%S +0000")))  # fmt: skip
    maria = source_id(sessions, "Maria L. Lopez, MD")
    workspace_id = get_workspace_id(sessions)
    later = soon + dt.timedelta(days=1)

    summary = assert_summary_exact(sessions)
    with sessions() as session:
        workspace = session.get_one(Workspace, workspace_id)
        before = last_touches(session, workspace, utcnow())
        after = last_touches(session, workspace, later)
        early = last_touches(session, workspace, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    with sessions.begin() as session:
        due = last_touch.refresh_due_last_touches(session, workspace_id, later)
    with sessions() as session:
        refreshed = stored(session)

    assert summary[maria][1] is not None
    assert before[maria].date() == dt.date(2026, 3, 3)
    assert after[maria] == summary[maria][1]
    assert maria not in early
    assert due == 2
    assert refreshed[maria] == (summary[maria][1], None)


def test_migration_backfills(engine, sessions, tmp_path):
    synced(sessions, tmp_path)
    expected = assert_summary_exact(sessions)
    with engine.begin() as connection:
        connection.execute(sa.delete(SourceLastTouch))
    spec = importlib.util.spec_from_file_location("source_last_touch", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    now = utcnow()
    if engine.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)

    with engine.begin() as connection:
        connection.execute(
            sa.text(migration.BACKFILL).bindparams(
                sa.bindparam("now", value=now, type_=sa.DateTime(timezone=True))
            )
        )
    with sessions() as session:
        backfilled = stored(session)

    assert backfilled == expected
