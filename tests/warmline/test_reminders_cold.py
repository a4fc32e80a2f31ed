"""The cold ranking over the database, shared by `warmline cold` and `remind`."""

from __future__ import annotations

import datetime as dt

from tests.warmline.test_privacy import (
    AS_OF,
    apply_retention,
    retention_setup,
    source_id,
)
from warmline import remind
from warmline.workspaces import get_or_create_workspace


def cold_by_id(sessions):  # type: ignore[no-untyped-def]
    with sessions() as session:
        workspace = get_or_create_workspace(session, "default")
        found = remind.cold_sources(session, workspace, AS_OF)
    return {health.profile.source_id: health for health in found}


def test_aged_out_touch_still_ranks(sessions, tmp_path):
    retention_setup(sessions, tmp_path)
    cedar = source_id(sessions, "Cedar Internal Medicine")
    before = cold_by_id(sessions)[cedar]

    apply_retention(sessions, AS_OF, months=6)

    after = cold_by_id(sessions)[cedar]
    assert before.last_touch == dt.datetime(2026, 4, 6, 15, tzinfo=dt.UTC)
    assert after.last_touch == before.last_touch
    assert after.days_since == before.days_since
    assert not after.never_touched
    assert after.priority == before.priority
