"""The stored learned cadences equal a full recompute after every write path,
and the stored cold ranking equals the one over every touch."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reminders import CadenceBasis, SourceHealth
from reminders.cadence import LEARNING_WINDOW, learned_interval
from tests.warmline import summary_support as support
from tests.warmline.test_privacy import (
    AMY,
    JANET,
    MARIA,
    THAO,
    add_mbox,
    message,
    set_up,
    source_id,
)
from warmline import learned_cadence, remind, review
from warmline.cli import main
from warmline.learned_cadence import SourceLearnedCadence
from warmline.models import Workspace, utcnow
from warmline.remind.state import load_state
from warmline.workspaces import get_or_create_workspace

EXAMPLES = Path(__file__).parents[2] / "examples"
FIRST_VISIT = dt.datetime(2026, 6, 2, 14, 0, tzinfo=dt.UTC)


def rfc2822(moment: dt.datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def maria_weekly(
    weeks: int, start: dt.datetime = FIRST_VISIT, prefix: str = "w"
) -> list[str]:
    """Return one message from Maria a week, with two on the first day."""
    messages = [message(f"{prefix}x@riverside-fm.example", MARIA, rfc2822(start))]
    for week in range(weeks):
        moment = start + dt.timedelta(days=7 * week, hours=week % 3)
        messages.append(
            message(f"{prefix}{week}@riverside-fm.example", MARIA, rfc2822(moment))
        )
    return messages


def synced(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    set_up(sessions, tmp_path)
    add_mbox(
        sessions,
        tmp_path / "sam.mbox",
        *maria_weekly(10),
        message("j1@riverside-fm.example", JANET, rfc2822(FIRST_VISIT)),
        message("t1@cedar-im.example", THAO, "Tue, 3 Mar 2026 09:15:00 -0500"),
    )


def expected_row(
    times: list[dt.datetime], moment: dt.datetime
) -> tuple[int, int | None, dt.datetime | None]:
    """Recompute (touch days, median gap, valid until) the way the CLI learns."""
    inside = [t for t in times if moment - LEARNING_WINDOW < t <= moment]
    ahead = [t for t in times if t > moment]
    limits = [min(inside) + LEARNING_WINDOW] if inside else []
    limits += [min(ahead)] if ahead else []
    return (
        len({t.date() for t in inside}),
        learned_interval(inside, moment, 2),
        min(limits, default=None),
    )


def assert_rows_exact(sessions: sessionmaker[Session]) -> dict[int, tuple]:
    """Check every touched source's row against a recompute; return the rows."""
    with sessions() as session:
        rows = {
            row.source_id: row for row in session.scalars(select(SourceLearnedCadence))
        }
        times = support.touch_times(session)

    for source, found in times.items():
        assert source in rows, source
        row = rows[source]
        assert row.refreshed_at <= utcnow()
        stored = (row.touch_days, row.median_gap_days, row.valid_until)
        assert stored == expected_row(found, row.refreshed_at), source
    untouched = set(rows) - set(times)
    for source in untouched:
        assert rows[source].touch_days == 0, source
    return {
        source: (row.touch_days, row.median_gap_days) for source, row in rows.items()
    }


def comparable(health: SourceHealth) -> SourceHealth:
    # The stored ranking does not know who touched a source last.
    return dataclasses.replace(health, last_staff_id=None)


def assert_rankings_equal(sessions: sessionmaker[Session], as_of: dt.datetime) -> list:
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        stored = remind.cold_sources(session, workspace, as_of)
        state = load_state(session, workspace, as_of)
        full = remind.ranked_cold(session, workspace, state)

    assert [h.profile.source_id for h in full] == [h.profile.source_id for h in stored]
    for expected, found in zip(full, stored, strict=True):
        for field in dataclasses.fields(SourceHealth):
            expected_value = getattr(comparable(expected), field.name)
            found_value = getattr(found, field.name)
            assert found_value == expected_value, (expected.profile.name, field.name)
    return stored


def test_sync_stores_learned_figures(sessions, tmp_path):
    synced(sessions, tmp_path)

    rows = assert_rows_exact(sessions)
    ranked = assert_rankings_equal(sessions, utcnow())

    maria = source_id(sessions, "Maria L. Lopez, MD")
    riverside = source_id(sessions, "Riverside Family Medicine")
    assert rows[maria] == (10, 7)
    assert rows[riverside] == (10, 7)
    by_id = {health.profile.source_id: health for health in ranked}
    assert by_id[maria].cadence.basis is CadenceBasis.LEARNED
    assert by_id[maria].cadence.days == 7


def test_reject_confirm_and_reassign(sessions, tmp_path):
    synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    cedar = source_id(sessions, "Cedar Internal Medicine")
    thao = source_id(sessions, "Thao Nguyen NP")
    latest = support.confirmed_of(sessions, "w9@riverside-fm.example")
    earlier = support.confirmed_of(sessions, "w4@riverside-fm.example")

    support.decide(sessions, [latest, earlier], review.DecisionAction.REJECT)
    rejected = assert_rows_exact(sessions)
    assert_rankings_equal(sessions, utcnow())
    support.decide(sessions, [latest], review.DecisionAction.CONFIRM)
    confirmed = assert_rows_exact(sessions)
    support.reassign(sessions, latest, cedar, thao)
    reassigned = assert_rows_exact(sessions)
    ranked = assert_rankings_equal(sessions, utcnow())

    assert rejected[maria][0] == 8
    assert confirmed[maria][0] == 9
    assert reassigned[maria][0] == 8
    assert reassigned[thao][0] == 2
    assert {health.profile.source_id for health in ranked} >= {thao}


def test_purge_and_remove_source(sessions, tmp_path):
    synced(sessions, tmp_path)
    amy = add_mbox(sessions, tmp_path / "amy.mbox",
                   *maria_weekly(3, FIRST_VISIT + dt.timedelta(days=100), "a"),
                   staff=AMY)  # fmt: skip
    maria = source_id(sessions, "Maria L. Lopez, MD")
    before = assert_rows_exact(sessions)

    support.purge_account(sessions, amy)
    purged = assert_rows_exact(sessions)
    support.remove_source(sessions, maria)
    removed = assert_rows_exact(sessions)
    assert_rankings_equal(sessions, utcnow())

    assert before[maria][0] == 13
    assert purged[maria][0] == 10
    assert maria not in removed


def test_retention_keeps_rows_exact(sessions, tmp_path):
    synced(sessions, tmp_path)
    as_of = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    support.apply_retention(sessions, as_of, months=5)
    rows = assert_rows_exact(sessions)

    maria = source_id(sessions, "Maria L. Lopez, MD")
    assert rows[maria][0] < 10
    assert_rankings_equal(sessions, as_of)


def test_expired_rows_derived_then_refreshed(sessions, tmp_path):
    synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    with sessions() as session:
        first_expiry = session.get_one(SourceLearnedCadence, maria).valid_until
    assert first_expiry is not None
    later = first_expiry + dt.timedelta(days=60)
    with sessions() as session:
        workspace_id = get_or_create_workspace(session, "default").id
        times = support.touch_times(session)

    derived = assert_rankings_equal(sessions, later)
    with sessions.begin() as session:
        due = learned_cadence.refresh_due_learned_cadences(session, workspace_id, later)
    with sessions() as session:
        row = session.get_one(SourceLearnedCadence, maria)
    refreshed = assert_rankings_equal(sessions, later)

    assert due >= 2
    assert row.refreshed_at == later
    assert (row.touch_days, row.median_gap_days, row.valid_until) == expected_row(
        times[maria], later
    )
    assert refreshed == derived


def test_expired_row_read_within_allowance(sessions, tmp_path):
    synced(sessions, tmp_path)
    maria = source_id(sessions, "Maria L. Lopez, MD")
    with sessions.begin() as session:
        workspace_id = get_or_create_workspace(session, "default").id
        row = session.get_one(SourceLearnedCadence, maria)
        refreshed = row.refreshed_at
        # A marker value that shows whether the row was read or derived.
        row.touch_days = 99
        row.valid_until = refreshed + dt.timedelta(hours=1)
    within = refreshed + learned_cadence.STALE_ALLOWANCE - dt.timedelta(minutes=1)
    beyond = refreshed + learned_cadence.STALE_ALLOWANCE + dt.timedelta(minutes=1)

    with sessions() as session:
        read = learned_cadence.learned_figures(session, workspace_id, within, [maria])
        derived = learned_cadence.learned_figures(
            session, workspace_id, beyond, [maria]
        )

    assert read[maria].touch_days == 99
    assert derived[maria].touch_days == 10
    assert derived[maria].median_gap_days == 7


def test_missing_rows_derived_then_filled(engine, sessions, tmp_path):
    synced(sessions, tmp_path)
    expected = assert_rows_exact(sessions)
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(sa.delete(SourceLearnedCadence))

    derived = assert_rankings_equal(sessions, now)
    with sessions.begin() as session:
        workspace_id = get_or_create_workspace(session, "default").id
        learned_cadence.refresh_due_learned_cadences(session, workspace_id)
    filled = assert_rows_exact(sessions)

    assert filled
    assert filled == {key: value for key, value in expected.items() if key in filled}
    assert any(health.cadence.basis is CadenceBasis.LEARNED for health in derived)


def test_demo_rankings_equal(database_url, sessions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        main, ["--database", database_url, "demo", "--examples", str(EXAMPLES)]
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        main,
        ["--database", database_url, "referrals", "import",
         str(EXAMPLES / "referrals.csv")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    assert_rows_exact(sessions)
    judged: list[SourceHealth] = []
    for as_of in (
        dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 1, tzinfo=dt.UTC),
        utcnow(),
        dt.datetime(2027, 9, 1, tzinfo=dt.UTC),
    ):
        ranked = assert_rankings_equal(sessions, as_of)
        assert ranked, as_of
        judged.extend(ranked)
    with sessions() as session:
        workspace = session.scalars(select(Workspace)).one()
        bases = {
            health.cadence.basis
            for health in remind.cold_sources(session, workspace, utcnow())
        }
    assert CadenceBasis.LEARNED in bases or CadenceBasis.DEFAULT in bases
    assert any(health.referrals_year for health in judged)
    assert any(health.trend is not None for health in judged)
    assert any(health.last_referral_on for health in judged)
