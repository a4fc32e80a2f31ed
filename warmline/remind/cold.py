"""The ranked list of sources going cold, shared by `warmline cold` and `remind`."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy.orm import Session

from reminders import ReminderState, SourceHealth, rank_cold
from warmline import privacy
from warmline.models import Workspace
from warmline.remind.state import load_state


def ranked_cold(
    session: Session, workspace: Workspace, state: ReminderState
) -> list[SourceHealth]:
    """Return the cold sources of `state`, most urgent first.

    Touchpoints aged out by retention live on only as monthly counts, so a
    source's last touch is the newer of its live touches and those counts.
    """
    kept = privacy.aggregated_last_touches(session, workspace, state.as_of)
    healths = [
        _with_kept_touch(health, kept.get(health.profile.source_id))
        for health in state.healths
    ]
    return rank_cold(healths)


def _with_kept_touch(health: SourceHealth, kept: dt.datetime | None) -> SourceHealth:
    if kept is None or (health.last_touch is not None and health.last_touch >= kept):
        return health
    return dataclasses.replace(
        health,
        last_touch=kept,
        last_staff_id=None,
        days_since=(health.as_of - kept).days,
    )


def cold_sources(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[SourceHealth]:
    """Return the sources going cold as of `as_of`, most urgent first."""
    return ranked_cold(session, workspace, load_state(session, workspace, as_of))
