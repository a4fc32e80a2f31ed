"""The stored last touch per source equals a full recompute after every write path."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.warmline import summary_support as support
from tests.warmline.test_privacy import MARIA, OLD, add_mbox, message, set_up, source_id
from warmline import last_touch, review
from warmline.last_touch import SourceLastTouch
from warmline.models import Activity, Touchpoint, Workspace, utcnow
from warmline.pipeline import sync_account
from warmline.relationships import last_touches
from warmline.workspaces import get_or_create_workspace

MIGRATION = support.MIGRATIONS / "0020_source_last_touch.py"

Split = tuple[dt.datetime | None, dt.datetime | None]


def recomputed(session: Session, now: dt.datetime) -> dict[int, Split]:
    """Derive every source's (last touch up to now, next touch after) in Python."""
    return {
        source: (
            max((t for t in found if t <= now), default=None),
            min((t for t in found if t > now), default=None),
        )
        for source, found in support.touch_times(session).items()
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


def get_workspace_id(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return get_or_create_workspace(session, "default").id


def test_sync_fills_summary(sessions, tmp_path):
    support.synced(sessions, tmp_path)

    summary = assert_summary_exact(sessions)

    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")
    assert summary[maria][0] == summary[riverside][0]
    assert summary[maria][0].date() == dt.date(2026, 11, 3)


def test_resync_moved_activity(sessions, tmp_path):
    account_id = support.mailbox_with_moved_message(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")

    report = sync_account(sessions, account_id, batch_size=10)
    summary = assert_summary_exact(sessions)

    assert report.error is None
    assert summary[maria][0].date() == dt.date(2026, 11, 4)


def test_reject_and_confirm(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    recent = support.confirmed_of(sessions, "m2@riverside-fm.example")

    support.decide(sessions, [recent], review.DecisionAction.REJECT)
    rejected = assert_summary_exact(sessions)
    support.decide(sessions, [recent], review.DecisionAction.CONFIRM)
    confirmed = assert_summary_exact(sessions)

    assert rejected[maria][0].date() == dt.date(2026, 3, 3)
    assert confirmed[maria][0].date() == dt.date(2026, 11, 3)


def test_reassign_to_other_practice(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    cedar = source_id(sessions, "Cedar Internal Medicine")
    thao = source_id(sessions, "Thao Nguyen NP")
    recent = support.confirmed_of(sessions, "m2@riverside-fm.example")

    support.reassign(sessions, recent, cedar, thao)
    summary = assert_summary_exact(sessions)

    assert summary[thao][0].date() == dt.date(2026, 11, 3)
    assert summary[cedar][0].date() == dt.date(2026, 11, 3)
    assert summary[maria][0].date() == dt.date(2026, 3, 3)


def test_reassign_to_no_person(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")
    recent = support.confirmed_of(sessions, "m2@riverside-fm.example")

    support.reassign(sessions, recent, riverside, None)
    summary = assert_summary_exact(sessions)

    assert summary[maria][0].date() == dt.date(2026, 3, 3)
    assert summary[riverside][0].date() == dt.date(2026, 11, 3)


def test_purge_account(sessions, tmp_path):
    amy = support.synced_two_accounts(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")

    support.purge_account(sessions, amy)
    summary = assert_summary_exact(sessions)

    assert summary[maria][0].date() == dt.date(2026, 3, 3)


def test_retention_keeps_month_counts(sessions, tmp_path):
    support.synced(sessions, tmp_path)
    as_of = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    thao = source_id(sessions, "Thao Nguyen NP")
    maria = source_id(sessions, "Maria L. Lopez, MD")

    support.apply_retention(sessions, as_of, months=6)
    summary = assert_summary_exact(sessions)
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        touches = last_touches(session, workspace, as_of)

    assert thao not in summary
    assert summary[maria][0].date() == dt.date(2026, 11, 3)
    assert touches[thao].date() == dt.date(2026, 3, 3)


def test_remove_person_refreshes_practice(sessions, tmp_path):
    support.synced_maria_and_janet(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")

    support.remove_source(sessions, maria)
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
    support.synced(sessions, tmp_path)
    expected = assert_summary_exact(sessions)
    with engine.begin() as connection:
        connection.execute(sa.delete(SourceLastTouch))
    migration = support.load_migration(MIGRATION, "source_last_touch")
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
