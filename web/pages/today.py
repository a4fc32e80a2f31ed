"""The Today page: relationships going cold, reviews waiting, weekly activity."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from warmline.models import Workspace
from web.auth import Db, PageUser, web_state
from web.rendering import render
from web.summaries import (
    kept_cold_list,
    kept_newest_reviews,
    kept_review_count,
    kept_weekly_chart,
)

router = APIRouter()

COLD_SHOWN = 25
REVIEWS_SHOWN = 10


@router.get("/")
def today_page(request: Request, db: Db, principal: PageUser) -> HTMLResponse:
    now = web_state(request).config.clock()
    workspace = db.get_one(Workspace, principal.workspace_id)
    kept_results = web_state(request).kept
    kept = kept_cold_list(kept_results, db, workspace, now)
    workspace_id = principal.workspace_id
    context = {
        "cold": kept.value[:COLD_SHOWN],
        "cold_total": len(kept.value),
        "cold_as_of": kept.computed_at,
        "reviews": kept_newest_reviews(
            kept_results, db, workspace_id, now, REVIEWS_SHOWN
        ),
        "review_total": kept_review_count(kept_results, db, workspace_id, now),
        "weekly": kept_weekly_chart(kept_results, db, workspace_id, now),
        "now": now,
    }
    return render(request, "today.html", principal, context)
