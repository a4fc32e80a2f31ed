"""The stored touchpoints per staff member and day equal a full recompute
after every write path, and the weekly chart reads them."""

from __future__ import annotations

import datetime as dt
import importlib.util
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.warmline.test_last_touch import actor, confirmed_of, synced
from tests.warmline.test_privacy import (
    ACTOR,
    AMY,
    JANET,
    MARIA,
    OLD,
    RECENT,
    add_mbox,
    message,
    set_up,
    source_id,
)
from warmline import privacy, review
from warmline.models import Activity, Touchpoint, TouchpointStatus, utcnow
from warmline.pipeline import sync_account
from warmline.touch_counts import (
    ActivityTouchDay,
    StaffDayTouchCount,
    rebuild_workspace_touch_counts,
)
from warmline.workspaces import get_or_create_workspace
from web.services.today import weekly_touchpoints

MIGRATION = (
    Path(__file__).parents[2]
    / "warmline/migrations/versions/0024_staff_day_touch_counts.py"
)

Counts = dict[tuple[int, int, dt.date], int]


def recomputed(session: Session) -> Counts:
    """Count every confirmed touchpoint by workspace, staff member and UTC day."""
    rows = session.execute(
        select(Activity.workspace_id, Activity.staff_member_id, Activity.occurred_at)
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .where(Touchpoint.status == TouchpointStatus.CONFIRMED)
    )
    return dict(
        Counter(
            (workspace_id, staff_id, occurred_at.astimezone(dt.UTC).date())
            for workspace_id, staff_id, occurred_at in rows
        )
    )


def stored(session: Session) -> Counts:
    return {
        (row.workspace_id, row.staff_member_id, row.day): row.touchpoints
        for row in session.scalars(select(StaffDayTouchCount))
    }


def assert_counts_exact(sessions: sessionmaker[Session]) -> Counts:
    with sessions() as session:
        counts = stored(session)
        expected = recomputed(session)
        per_activity = sum(session.scalars(select(ActivityTouchDay.touchpoints)).all())

    assert counts == expected
    assert per_activity == sum(expected.values())
    return counts


def days(counts: Counts) -> Counter[dt.date]:
    totals: Counter[dt.date] = Counter()
    for (_workspace, _staff, day), count in counts.items():
        totals[day] += count
    return totals


def test_sync_fills_counts(sessions, tmp_path):
    synced(sessions, tmp_path)

    counts = assert_counts_exact(sessions)

    assert days(counts) == {dt.date(2026, 3, 3): 3, dt.date(2026, 11, 3): 1}


def test_resync_moved_activity(sessions, tmp_path):
    set_up(sessions, tmp_path)
    path = tmp_path / "sam.mbox"
    account_id = add_mbox(
        sessions, path, message("m1@riverside-fm.example", MARIA, RECENT)
    )
    moved = "Wed, 4 Nov 2026 11:00:00 -0500"
    path.write_text(message("m1@riverside-fm.example", MARIA, moved), "utf-8")

    report = sync_account(sessions, account_id, batch_size=10)
    counts = assert_counts_exact(sessions)

    assert report.error is None
    assert days(counts) == {dt.date(2026, 11, 4): 1}


def test_reject_and_confirm(sessions, tmp_path):
    synced(sessions, tmp_path)
    recent = confirmed_of(sessions, "m2@riverside-fm.example")

    with sessions.begin() as session:
        review.decide(session, actor(sessions), [recent],
                      review.DecisionAction.REJECT, utcnow())  # fmt: skip
    rejected = assert_counts_exact(sessions)
    with sessions.begin() as session:
        review.decide(session, actor(sessions), [recent],
                      review.DecisionAction.CONFIRM, utcnow())  # fmt: skip
    confirmed = assert_counts_exact(sessions)

    assert dt.date(2026, 11, 3) not in days(rejected)
    assert days(confirmed)[dt.date(2026, 11, 3)] == 1


def test_reassign_keeps_one_count(sessions, tmp_path):
    synced(sessions, tmp_path)
    cedar = source_id(sessions, "Cedar Internal Medicine")
    thao = source_id(sessions, "Thao Nguyen NP")
    recent = confirmed_of(sessions, "m2@riverside-fm.example")

    with sessions.begin() as session:
        review.reassign(session, actor(sessions), recent, cedar, thao, utcnow())
    counts = assert_counts_exact(sessions)

    assert days(counts)[dt.date(2026, 11, 3)] == 1


def test_reassign_rejected_to_same_practice(sessions, tmp_path):
    synced(sessions, tmp_path)
    riverside = source_id(sessions, "Riverside Family Medicine")
    recent = confirmed_of(sessions, "m2@riverside-fm.example")
    with sessions.begin() as session:
        review.decide(session, actor(sessions), [recent],
                      review.DecisionAction.REJECT, utcnow())  # fmt: skip

    with sessions.begin() as session:
        review.reassign(session, actor(sessions), recent, riverside, None, utcnow())
    counts = assert_counts_exact(sessions)

    assert days(counts)[dt.date(2026, 11, 3)] == 1


def test_purge_account(sessions, tmp_path):
    set_up(sessions, tmp_path)
    add_mbox(sessions, tmp_path / "sam.mbox",
             message("m1@riverside-fm.example", MARIA, OLD))  # fmt: skip
    amy = add_mbox(sessions, tmp_path / "amy.mbox",
                   message("m2@riverside-fm.example", MARIA, RECENT, to=AMY),
                   staff=AMY)  # fmt: skip
    before = assert_counts_exact(sessions)

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.remove_account(session, workspace, amy, purge=True, actor=ACTOR)
    counts = assert_counts_exact(sessions)

    assert days(before)[dt.date(2026, 11, 3)] == 1
    assert days(counts) == {dt.date(2026, 3, 3): 1}


def test_retention(sessions, tmp_path):
    synced(sessions, tmp_path)
    as_of = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.apply_retention(session, workspace, as_of, actor=ACTOR, months=6)
    counts = assert_counts_exact(sessions)

    assert days(counts) == {dt.date(2026, 11, 3): 1}


def test_remove_person_and_practice(sessions, tmp_path):
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
    without_maria = assert_counts_exact(sessions)
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        privacy.remove_source(session, workspace, riverside, actor=ACTOR,
                              touchpoints=privacy.TouchpointHandling.DELETE)  # fmt: skip
    without_practice = assert_counts_exact(sessions)

    assert days(without_maria) == {dt.date(2026, 3, 3): 1}
    assert without_practice == {}


def test_chart_reads_stored_counts_and_today_live(sessions, tmp_path):
    synced(sessions, tmp_path)
    as_of = dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC)
    with sessions() as session:
        workspace_id = get_or_create_workspace(session, "default").id
        chart = weekly_touchpoints(session, workspace_id, as_of)
    # The stored counts are what the chart shows for past days.
    with sessions.begin() as session:
        session.execute(
            sa.update(StaffDayTouchCount)
            .where(StaffDayTouchCount.day == dt.date(2026, 11, 3))
            .values(touchpoints=5)
        )
    with sessions() as session:
        doctored = weekly_touchpoints(session, workspace_id, as_of)
        same_day = weekly_touchpoints(
            session, workspace_id, dt.datetime(2026, 11, 3, 20, tzinfo=dt.UTC)
        )
        before_email = weekly_touchpoints(
            session, workspace_id, dt.datetime(2026, 11, 3, 13, tzinfo=dt.UTC)
        )

    assert [sum(row.counts) for row in chart.rows] == [1]
    assert chart.rows[0].counts[-2] == 1
    assert doctored.rows[0].counts[-2] == 5
    # On the email's own day it is counted from the touchpoints, from its time.
    assert same_day.rows[0].counts[-1] == 1
    assert before_email.rows == []


def test_rebuild_and_migration_backfill(engine, sessions, tmp_path):
    synced(sessions, tmp_path)
    expected = assert_counts_exact(sessions)
    spec = importlib.util.spec_from_file_location("touch_counts_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    with engine.begin() as connection:
        connection.execute(sa.delete(StaffDayTouchCount))
        connection.execute(sa.delete(ActivityTouchDay))
        for statement in migration.backfill_statements(engine.dialect.name):
            connection.execute(sa.text(statement))
    backfilled = assert_counts_exact(sessions)
    with sessions.begin() as session:
        session.execute(sa.update(StaffDayTouchCount).values(touchpoints=9))
        workspace_id = get_or_create_workspace(session, "default").id
        rebuild_workspace_touch_counts(session, workspace_id)
    rebuilt = assert_counts_exact(sessions)

    assert backfilled == rebuilt == expected
