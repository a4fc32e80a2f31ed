"""The workspace figures that several pages show, kept between requests.

Each is computed through warmline.kept_results, so it is reused until a
commit changes the tables it reads or ten minutes pass.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from warmline.kept_results import Kept, KeptResults
from warmline.models import StaffMember, TouchpointStatus, Workspace
from warmline.remind.cold import ColdRow, cold_rows
from warmline.review import review_count
from web.charts import BarChart
from web.services.sources import (
    SourceSearch,
    SourceStatus,
    SourceSummary,
    Tier,
    listing_order,
    search_ids,
    source_facets,
    sources_by_id,
)
from web.services.tasks import FollowUpsDue, OpenLoops, follow_ups_due, open_loops
from web.services.today import weekly_bar_chart, weekly_touchpoints
from web.services.touchpoints import TouchpointFilter, TouchpointView, list_touchpoints

log = structlog.get_logger(__name__)


def kept_cold_list(
    kept: KeptResults, db: Session, workspace: Workspace, now: dt.datetime
) -> Kept[list[ColdRow]]:
    """Return the workspace's ranked cold list as `warmline cold` prints it."""
    return kept.get(
        db, workspace.id, "cold_list", now, lambda: cold_rows(db, workspace, now)
    )


def kept_review_count(
    kept: KeptResults, db: Session, workspace_id: int, now: dt.datetime
) -> int:
    """Return the number of matches awaiting review in the workspace."""
    return kept.get(
        db,
        workspace_id,
        "review_count",
        now,
        lambda: review_count(db, workspace_id),
    ).value


def kept_weekly_chart(
    kept: KeptResults, db: Session, workspace_id: int, now: dt.datetime
) -> BarChart:
    """Return the chart of confirmed touchpoints per week and staff member."""
    return kept.get(
        db,
        workspace_id,
        "weekly_chart",
        now,
        lambda: weekly_bar_chart(weekly_touchpoints(db, workspace_id, now)),
    ).value


def kept_newest_reviews(
    kept: KeptResults, db: Session, workspace_id: int, now: dt.datetime, limit: int
) -> list[TouchpointView]:
    """Return the `limit` newest matches awaiting review.

    The views are shared between requests, so callers must not change them.
    """
    return kept.get(
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
    ).value


def kept_follow_ups_due(
    kept: KeptResults,
    db: Session,
    workspace_id: int,
    now: dt.datetime,
    today: dt.date,
    limit: int,
) -> FollowUpsDue:
    """Return the open follow-ups of every staff member due by `today`.

    `today` is the reader's local date, so one result is kept per date.
    """
    return kept.get(
        db,
        workspace_id,
        f"follow_ups_due:{limit}:{today.isoformat()}",
        now,
        lambda: follow_ups_due(db, workspace_id, today, limit),
    ).value


def kept_open_loops(
    kept: KeptResults,
    db: Session,
    workspace_id: int,
    now: dt.datetime,
    today: dt.date,
    limit: int,
) -> OpenLoops:
    """Return the workspace's open referral loops as of `today`, the reader's date."""
    return kept.get(
        db,
        workspace_id,
        f"open_loops:{limit}:{today.isoformat()}",
        now,
        lambda: open_loops(db, workspace_id, today, limit),
    ).value


def kept_listing_order(
    kept: KeptResults, db: Session, workspace_id: int, now: dt.datetime
) -> list[int]:
    """Return the ids of the workspace's sources in the Sources page's order."""
    return kept.get(
        db,
        workspace_id,
        "listing_order",
        now,
        lambda: listing_order(db, workspace_id),
    ).value


def kept_source_facets(
    kept: KeptResults, db: Session, workspace: Workspace, now: dt.datetime
) -> dict[int, tuple[SourceStatus, Tier]]:
    """Return every source's status and tier, as the Sources filters test them."""
    return kept.get(
        db,
        workspace.id,
        "source_facets",
        now,
        lambda: source_facets(db, workspace, now),
    ).value


def find_sources(
    kept: KeptResults,
    db: Session,
    workspace_id: int,
    search: SourceSearch,
    now: dt.datetime,
    limit: int,
    offset: int = 0,
) -> list[SourceSummary]:
    """Return one page of the sources that match `search`, in the listing order.

    Stored columns are searched in SQL, or the kept order is cut when there
    are none to test.  The status and tier come from the kept facets, which
    follow every commit, so a filter on them may lag a summary by the 10
    minutes that a kept result serves without a commit.
    """
    if search.in_sql:
        ids = search_ids(db, workspace_id, search)
    else:
        ids = kept_listing_order(kept, db, workspace_id, now)
    if search.derived:
        workspace = db.get_one(Workspace, workspace_id)
        facets = kept_source_facets(kept, db, workspace, now)
        ids = [
            source_id
            for source_id in ids
            if source_id in facets
            and search.status in (None, facets[source_id][0])
            and search.tier in (None, facets[source_id][1])
        ]
    return sources_by_id(db, workspace_id, ids[offset : offset + limit], now)


def reader_dates(db: Session, workspace_id: int, now: dt.datetime) -> set[dt.date]:
    """Return the dates of `now` in the time zones of the workspace's staff,
    and in UTC, the zone of users who are no staff member."""
    zones = db.scalars(
        select(StaffMember.timezone)
        .where(StaffMember.workspace_id == workspace_id)
        .distinct()
    )
    return {now.date(), *(now.astimezone(ZoneInfo(zone)).date() for zone in zones)}


def prime_in_background(
    kept: KeptResults,
    sessions: sessionmaker[Session],
    clock: Callable[[], dt.datetime],
    reviews_shown: int,
    follow_ups_shown: int,
    loops_shown: int,
) -> threading.Thread:
    """Compute every workspace's kept figures in a daemon thread, and return it.

    The `*_shown` counts are the Today page's list lengths, which name the
    kept lists.  A server process starts with nothing kept, so its first
    pages would each wait for the cold list (about 0.4 s on 10,000 sources).  Priming
    at start moves that wait off the first requests.  A request that needs
    a figure still being computed waits for it rather than computing it
    twice.  A failure is logged and left to the requests to retry.
    """

    def prime() -> None:
        try:
            with sessions() as db:
                for workspace in db.scalars(select(Workspace)).all():
                    now = clock()
                    kept_cold_list(kept, db, workspace, now)
                    kept_review_count(kept, db, workspace.id, now)
                    kept_newest_reviews(kept, db, workspace.id, now, reviews_shown)
                    kept_weekly_chart(kept, db, workspace.id, now)
                    kept_listing_order(kept, db, workspace.id, now)
                    kept_source_facets(kept, db, workspace, now)
                    for today in reader_dates(db, workspace.id, now):
                        kept_follow_ups_due(
                            kept, db, workspace.id, now, today, follow_ups_shown
                        )
                        kept_open_loops(kept, db, workspace.id, now, today, loops_shown)
        except SQLAlchemyError as error:
            log.warning("priming the kept figures failed", error=type(error).__name__)

    thread = threading.Thread(target=prime, name="prime-kept-figures", daemon=True)
    thread.start()
    return thread
