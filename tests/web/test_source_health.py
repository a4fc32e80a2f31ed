"""Source health read for a few sources agrees with the cold list's rule."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.web.factories import NOW
from warmline.audit_models import TouchpointMonthCount
from warmline.models import Contact, ReferralSource, Workspace
from warmline.relationships import last_touches, relationships
from web.services.sources import (
    SourceSearch,
    last_touches_of,
    search_ids,
    source_facets,
    sources_by_id,
)


def test_last_touches_of_matches_workspace(sessions, clinic, other_clinic):
    with sessions() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        ids = list(
            session.scalars(
                select(ReferralSource.id).where(
                    ReferralSource.workspace_id == clinic.workspace_id
                )
            )
        )

        scoped = last_touches_of(session, clinic.workspace_id, ids, NOW)
        whole = last_touches(session, workspace, NOW)

    assert scoped == whole
    assert scoped[clinic.practice_id] < NOW


def test_last_touches_of_reads_month_counts(sessions, clinic):
    aged_out = NOW - dt.timedelta(days=400)
    with sessions.begin() as session:
        session.add(
            TouchpointMonthCount(
                workspace_id=clinic.workspace_id,
                source_id=clinic.other_practice_id,
                month=dt.date(2025, 10, 1),
                kind="email",
                direction="outbound",
                count=2,
                last_touch_at=aged_out,
            )
        )

    with sessions() as session:
        touches = last_touches_of(
            session, clinic.workspace_id, [clinic.other_practice_id], NOW
        )

    assert touches == {clinic.other_practice_id: aged_out}


def test_search_health_matches_cold_rule(sessions, clinic):
    with sessions.begin() as session:
        session.add(
            Contact(
                workspace_id=clinic.workspace_id,
                name="Alpha Front Desk",
                practice_id=clinic.practice_id,
                import_key="contact/alpha/front-desk",
            )
        )

    with sessions() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        cadences = {
            row.source_id: row.cadence_days
            for row in relationships(session, workspace, NOW)
        }
        touches = last_touches(session, workspace, NOW)

        ids = search_ids(session, clinic.workspace_id, SourceSearch())
        found = sources_by_id(session, clinic.workspace_id, ids, NOW)
        facets = source_facets(session, workspace, NOW)

    assert found
    assert any(summary.health.cadence_days is None for summary in found)
    for summary in found:
        assert summary.health.cadence_days == cadences.get(summary.id), summary.name
        assert summary.health.last_touch == touches.get(summary.id), summary.name
        # The whole-workspace figures the filters read equal the page's.
        assert facets[summary.id] == (summary.status, summary.tier), summary.name


def test_last_touches_long_after(sessions, clinic):
    """A source not touched for months keeps its old touch."""
    later = NOW + dt.timedelta(days=90)

    with sessions() as session:
        workspace = session.get_one(Workspace, clinic.workspace_id)
        now_touches = last_touches(session, workspace, NOW)
        later_touches = last_touches(session, workspace, later)

    assert later_touches == now_touches
    assert later - later_touches[clinic.practice_id] > dt.timedelta(days=30)
