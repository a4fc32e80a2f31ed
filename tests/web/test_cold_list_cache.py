"""The site keeps each workspace's summaries until a commit changes what they read."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.web.conftest import new_client, sign_in
from tests.web.test_cold_ranking import ADMIN, AS_OF, EXAMPLES, add_admin, warmline
from warmline.audit_models import AuditRecord
from warmline.change_counter import SUMMARIES, ChangeCounter, read_counter
from warmline.kept_results import REUSE, KeptResults
from warmline.models import (
    ReferralSource,
    SourceKind,
    Touchpoint,
    TouchpointStatus,
    Workspace,
)
from warmline.remind.cold import cold_rows
from web.summaries import prime_in_background


@pytest.fixture
def demo(app, clock, database_url, sessions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    warmline(database_url, "demo", "--examples", str(EXAMPLES))
    add_admin(sessions)
    clock.now = AS_OF
    with new_client(app) as client:
        assert sign_in(client, ADMIN).status_code == 303
        yield client


def cold_names(client) -> list[str]:
    response = client.get("/api/cold")
    assert response.status_code == 200
    return [item["name"] for item in response.json()]


def counter(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        found = read_counter(session, SUMMARIES)
    assert found is not None
    return found[1]


def kept_list(app, session):
    """Read the cold list as the site does, through the app's kept results."""
    workspace = session.scalars(select(Workspace)).one()
    return app.state.web.kept.get(
        session,
        workspace.id,
        "cold_list",
        AS_OF,
        lambda: cold_rows(session, workspace, AS_OF),
    )


def test_list_kept_between_requests(app, demo, sessions):
    first = cold_names(demo)

    with sessions() as session:
        again = kept_list(app, session)
        once_more = kept_list(app, session)

    assert len(first) > 10
    assert again is once_more
    assert [row.name for row in again.value] == first


def test_commit_of_another_process_shows_at_once(demo, database_url):
    before = cold_names(demo)

    warmline(database_url, "config", "set", "default_cadence_days", "3650")

    after = cold_names(demo)
    assert len(after) < len(before)
    page = demo.get("/")
    assert f'<span class="count">{len(after)}</span>' in page.text


def test_review_decision_on_site_shows_at_once(demo, sessions):
    before = cold_names(demo)
    with sessions.begin() as session:
        source = session.scalars(
            select(ReferralSource).where(ReferralSource.name == before[0])
        ).one()
        source.cadence_days = 3650

    assert cold_names(demo)[:1] != before[:1]
    assert before[0] not in cold_names(demo)


def test_write_outside_sessions_seen_after_reuse_bound(demo, app, clock, sessions):
    before = cold_names(demo)
    engine = app.state.web.engine
    with engine.begin() as connection:
        connection.execute(
            update(ReferralSource)
            .where(ReferralSource.name == before[0])
            .values(cadence_days=3650)
        )

    assert cold_names(demo) == before
    clock.advance(REUSE)
    assert before[0] not in cold_names(demo)


def test_counter_moves_only_after_commits_of_watched_tables(demo, sessions):
    start = counter(sessions)
    with sessions() as session:
        source = session.scalars(select(ReferralSource)).first()
        assert source is not None
        source.cadence_days = 99
        session.flush()
        session.rollback()
    assert counter(sessions) == start

    with sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        session.add(
            AuditRecord(
                workspace_id=workspace.id,
                actor="test",
                action="test.unwatched",
                target="none",
            )
        )
    assert counter(sessions) == start

    with sessions.begin() as session:
        session.execute(update(ReferralSource).values(cadence_days=45))
    assert counter(sessions) == start + 1


def test_database_without_counter_row_computes_each_time(demo, app, sessions):
    with sessions.begin() as session:
        session.execute(delete(ChangeCounter))
        first = kept_list(app, session)
        second = kept_list(app, session)

    assert first is not second
    assert first.value == second.value


def test_review_badge_and_chart_follow_a_decision(demo, sessions):
    page = demo.get("/")
    waiting = int(
        page.text.split('id="review-total">')[1].split("<")[0].replace(",", "")
    )
    assert waiting > 0
    with sessions.begin() as session:
        touchpoint = session.scalars(
            select(Touchpoint).where(Touchpoint.status == TouchpointStatus.NEEDS_REVIEW)
        ).first()
        assert touchpoint is not None
        touchpoint.status = TouchpointStatus.REJECTED

    again = demo.get("/")
    assert f'id="review-total">{waiting - 1}<' in again.text


def test_sources_listing_follows_a_new_source(demo, sessions):
    before = demo.get("/sources")
    assert "Aardvark Physical Medicine" not in before.text
    with sessions.begin() as session:
        workspace = session.scalars(select(Workspace)).one()
        session.add(
            ReferralSource(
                workspace_id=workspace.id,
                kind=SourceKind.PRACTICE,
                name="Aardvark Physical Medicine",
                import_key="aardvark",
            )
        )

    after = demo.get("/sources")
    listing = after.text.split("<tbody>")[1]
    assert listing.index("Aardvark Physical Medicine") < listing.index("</tr>")


def test_priming_computes_before_the_first_request(app, demo, sessions):
    state = app.state.web
    state.kept = KeptResults()

    prime_in_background(state.kept, state.sessions, lambda: AS_OF, 10, 25, 10).join(60)

    with sessions() as session:
        workspace = session.scalars(select(Workspace)).one()
        names = (
            "cold_list",
            "review_count",
            "weekly_chart",
            "listing_order",
            f"follow_ups_due:25:{AS_OF.date().isoformat()}",
            f"open_loops:10:{AS_OF.date().isoformat()}",
        )
        for name in names:
            kept = state.kept.get(
                session,
                workspace.id,
                name,
                AS_OF,
                lambda name=name: pytest.fail(f"{name} was not primed"),
            )
            assert kept.computed_at == AS_OF
    assert cold_names(demo)
