"""The stored touchpoints per staff member and day equal a full recompute
after every write path, and the weekly chart reads them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.warmline import summary_support as support
from tests.warmline.test_privacy import source_id
from warmline import review
from warmline.models import Activity, Touchpoint, TouchpointStatus
from warmline.pipeline import sync_account
from warmline.touch_counts import (
    ActivityTouchDay,
    StaffDayTouchCount,
    rebuild_workspace_touch_counts,
)
from warmline.workspaces import get_or_create_workspace
from web.services.today import weekly_touchpoints

MIGRATION = support.MIGRATIONS / "0024_staff_day_touch_counts.py"

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
    support.synced(sessions, tmp_path)

    counts = assert_counts_exact(sessions)

    assert days(counts) == {dt.date(2026, 3, 3): 3, dt.date(2026, 11, 3): 1}


def test_resync_moved_activity(sessions, tmp_path):
    account_id = support.mailbox_with_moved_message(sessions, tmp_path)

    report = sync_account(sessions, account_id, batch_size=10)
    counts = assert_counts_exact(sessions)

    assert report.error is None
    assert days(counts) == {dt.date(2026, 11, 4): 1}


def test_reject_and_confirm(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    recent = support.confirmed_of(sessions, "m2@riverside-fm.example")

    support.decide(sessions, [recent], review.DecisionAction.REJECT)
    rejected = assert_counts_exact(sessions)
    support.decide(sessions, [recent], review.DecisionAction.CONFIRM)
    confirmed = assert_counts_exact(sessions)

    assert dt.date(2026, 11, 3) not in days(rejected)
    assert days(confirmed)[dt.date(2026, 11, 3)] == 1


def test_reassign_keeps_one_count(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    cedar = source_id(sessions, "Cedar Internal Medicine")
    thao = source_id(sessions, "Thao Nguyen NP")
    recent = support.confirmed_of(sessions, "m2@riverside-fm.example")

    support.reassign(sessions, recent, cedar, thao)
    counts = assert_counts_exact(sessions)

    assert days(counts)[dt.date(2026, 11, 3)] == 1


def test_reassign_rejected_to_same_practice(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    riverside = source_id(sessions, "Riverside Family Medicine")
    recent = support.confirmed_of(sessions, "m2@riverside-fm.example")
    support.decide(sessions, [recent], review.DecisionAction.REJECT)

    support.reassign(sessions, recent, riverside, None)
    counts = assert_counts_exact(sessions)

    assert days(counts)[dt.date(2026, 11, 3)] == 1


def test_purge_account(sessions, tmp_path):
    amy = support.synced_two_accounts(sessions, tmp_path)
    before = assert_counts_exact(sessions)

    support.purge_account(sessions, amy)
    counts = assert_counts_exact(sessions)

    assert days(before)[dt.date(2026, 11, 3)] == 1
    assert days(counts) == {dt.date(2026, 3, 3): 1}


def test_retention(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    as_of = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    support.apply_retention(sessions, as_of, months=6)
    counts = assert_counts_exact(sessions)

    assert days(counts) == {dt.date(2026, 11, 3): 1}


def test_remove_person_and_practice(sessions, tmp_path):
    support.synced_maria_and_janet(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")

    support.remove_source(sessions, maria)
    without_maria = assert_counts_exact(sessions)
    support.remove_source(sessions, riverside)
    without_practice = assert_counts_exact(sessions)

    assert days(without_maria) == {dt.date(2026, 3, 3): 1}
    assert without_practice == {}


def test_chart_reads_stored_counts_and_today_live(sessions, tmp_path):
    support.synced(sessions, tmp_path)
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
    support.synced(sessions, tmp_path)
    expected = assert_counts_exact(sessions)
    migration = support.load_migration(MIGRATION, "touch_counts_migration")

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
