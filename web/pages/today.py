"""The Today page: relationships going cold, reviews waiting, weekly activity."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from warmline.models import TouchpointStatus, Workspace
from warmline.review import review_count
from web.auth import Db, PageUser, web_state
from web.rendering import render
from web.services.today import weekly_bar_chart, weekly_touchpoints
from web.services.touchpoints import TouchpointFilter, list_touchpoints

router = APIRouter()

COLD_SHOWN = 25
REVIEWS_SHOWN = 10


@router.get("/")
def today_page(request: Request, db: Db, principal: PageUser) -> HTMLResponse:
    now = web_state(request).config.clock()
    workspace = db.get_one(Workspace, principal.workspace_id)
    kept = web_state(request).cold_lists.cold_list(db, workspace, now)
    cold = kept.rows
    reviews = list_touchpoints(
        db,
        principal.workspace_id,
        TouchpointFilter(status=TouchpointStatus.NEEDS_REVIEW),
        limit=REVIEWS_SHOWN,
    )
    context = {
        "cold": cold[:COLD_SHOWN],
        "cold_total": len(cold),
        "cold_as_of": kept.computed_at,
        "reviews": reviews,
        "review_total": review_count(db, principal.workspace_id),
        "weekly": weekly_bar_chart(weekly_touchpoints(db, principal.workspace_id, now)),
        "now": now,
    }
    return render(request, "today.html", principal, context)
