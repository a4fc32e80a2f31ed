"""The workspace figures that several pages show, kept between requests.

Each is computed through warmline.kept_results, so it is reused until a
commit changes the tables it reads or ten minutes pass.
"""

from __future__ import annotations

import datetime as dt

from fastapi import Request
from sqlalchemy.orm import Session

from warmline.kept_results import Kept
from warmline.models import TouchpointStatus, Workspace
from warmline.remind.cold import ColdRow, cold_rows
from warmline.review import review_count
from web.auth import web_state
from web.charts import BarChart
from web.services.sources import listing_order
from web.services.today import weekly_bar_chart, weekly_touchpoints
from web.services.touchpoints import TouchpointFilter, TouchpointView, list_touchpoints


def kept_cold_list(
    request: Request, db: Session, workspace: Workspace, now: dt.datetime
) -> Kept[list[ColdRow]]:
    """Return the workspace's ranked cold list as `warmline cold` prints it."""
    return web_state(request).kept.get(
        db, workspace.id, "cold_list", now, lambda: cold_rows(db, workspace, now)
    )


def kept_review_count(
    request: Request, db: Session, workspace_id: int, now: dt.datetime
) -> int:
    """Return the number of matches awaiting review in the workspace."""
    return (
        web_state(request)
        .kept.get(
            db,
            workspace_id,
            "review_count",
            now,
            lambda: review_count(db, workspace_id),
        )
        .value
    )


def kept_weekly_chart(
    request: Request, db: Session, workspace_id: int, now: dt.datetime
) -> BarChart:
    """Return the chart of confirmed touchpoints per week and staff member."""
    return (
        web_state(request)
        .kept.get(
            db,
            workspace_id,
            "weekly_chart",
            now,
            lambda: weekly_bar_chart(weekly_touchpoints(db, workspace_id, now)),
        )
        .value
    )


def kept_newest_reviews(
    request: Request, db: Session, workspace_id: int, now: dt.datetime, limit: int
) -> list[TouchpointView]:
    """Return the `limit` newest matches awaiting review.

    The views are shared between requests, so callers must not change them.
    """
    return (
        web_state(request)
        .kept.get(
            db,
            workspace_id,
            f"newest_reviews:{limit}",
            now,
            lambda: list_touchpoints(
                db,
                workspace_id,
                TouchpointFilter(status=TouchpointStatus.NEEDS_REVIEW),
                limit=limit,
            ),
        )
        .value
    )


def kept_listing_order(
    request: Request, db: Session, workspace_id: int, now: dt.datetime
) -> list[int]:
    """Return the ids of the workspace's sources in the Sources page's order."""
    return (
        web_state(request)
        .kept.get(
            db,
            workspace_id,
            "listing_order",
            now,
            lambda: listing_order(db, workspace_id),
        )
        .value
    )
