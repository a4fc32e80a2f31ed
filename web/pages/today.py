"""The Today page: follow-ups due, relationships going cold, open referral loops,
reviews waiting and weekly activity."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from warmline.models import Workspace
from warmline.remind.snooze_links import PERIODS
from web.auth import Db, PageUser, web_state
from web.pages.tasks import local_today
from web.rendering import render
from web.services.tasks import follow_ups_due
from web.summaries import (
    kept_cold_list,
    kept_follow_ups_due,
    kept_newest_reviews,
    kept_open_loops,
    kept_review_count,
    kept_weekly_chart,
)

router = APIRouter()

COLD_SHOWN = 25
REVIEWS_SHOWN = 10
FOLLOW_UPS_SHOWN = 25
LOOPS_SHOWN = 10


@router.get("/")
def today_page(
    request: Request,
    db: Db,
    principal: PageUser,
    followups: Annotated[Literal["all", "mine"], Query()] = "all",
) -> HTMLResponse:
    now = web_state(request).config.clock()
    workspace = db.get_one(Workspace, principal.workspace_id)
    kept_results = web_state(request).kept
    kept = kept_cold_list(kept_results, db, workspace, now)
    workspace_id = principal.workspace_id
    # Due dates and overdue days are counted on the reader's own date.
    today = local_today(request, principal)
    mine = followups == "mine" and principal.staff_member_id is not None
    if mine:
        due = follow_ups_due(
            db, workspace_id, today, FOLLOW_UPS_SHOWN, principal.staff_member_id
        )
    else:
        due = kept_follow_ups_due(
            kept_results, db, workspace_id, now, today, FOLLOW_UPS_SHOWN
        )
    context = {
        "follow_ups": due,
        "follow_ups_mine": mine,
        "return_to": "/?followups=mine" if mine else "/",
        "periods": PERIODS,
        "today": today,
        "loops": kept_open_loops(
            kept_results, db, workspace_id, now, today, LOOPS_SHOWN
        ),
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
