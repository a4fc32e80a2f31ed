"""The API's follow-ups and open referral loops, and the actions on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from web.api import schemas
from web.api.convert import follow_up_out, loop_out
from web.auth import ApiUser, Db
from web.pages.common import RowId
from web.pages.tasks import local_today, perform
from web.services import tasks

router = APIRouter()

UNAUTHORIZED = schemas.UNAUTHORIZED
CHANGED = {**UNAUTHORIZED, 403: {}, 404: {}, 409: {}}
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


@router.get("/followups", responses=UNAUTHORIZED)
def api_follow_ups(
    request: Request,
    db: Db,
    principal: ApiUser,
    mine: bool = False,
    limit: Limit = 100,
) -> schemas.FollowUpsOut:
    """List the open follow-ups due today or earlier, earliest first.

    With `mine`, only the signed-in user's own (none for a user who is no
    staff member).
    """
    today = local_today(request, principal)
    staff_id = principal.staff_member_id if mine else None
    if mine and staff_id is None:
        return schemas.FollowUpsOut(total=0, follow_ups=[])
    due = tasks.follow_ups_due(db, principal.workspace_id, today, limit, staff_id)
    return schemas.FollowUpsOut(
        total=due.total, follow_ups=[follow_up_out(row, today) for row in due.shown]
    )


@router.post("/followups/{follow_up_id}/done", status_code=204, responses=CHANGED)
def api_follow_up_done(
    request: Request, db: Db, principal: ApiUser, follow_up_id: RowId
) -> Response:
    """Mark an open follow-up done."""
    perform(request, db, principal, "done", follow_up_id)
    return Response(status_code=204)


@router.post("/followups/{follow_up_id}/snooze", status_code=204, responses=CHANGED)
def api_follow_up_snooze(
    request: Request,
    db: Db,
    principal: ApiUser,
    follow_up_id: RowId,
    body: schemas.SnoozeIn,
) -> Response:
    """Move an open follow-up's due date 2 weeks, 1 month or 3 months on."""
    perform(request, db, principal, "snooze", follow_up_id, body.period, body.due_on)
    return Response(status_code=204)


@router.get("/loops", responses=UNAUTHORIZED)
def api_loops(
    request: Request,
    db: Db,
    principal: ApiUser,
    limit: Limit = 100,
    offset: Offset = 0,
) -> schemas.LoopsOut:
    """List the open referral loops, earliest report due first."""
    today = local_today(request, principal)
    loops = tasks.open_loops(db, principal.workspace_id, today, limit, offset)
    return schemas.LoopsOut(
        total=loops.total,
        overdue=loops.overdue,
        loops=[loop_out(row, today) for row in loops.shown],
    )


@router.post("/referrals/{referral_id}/close", status_code=204, responses=CHANGED)
def api_referral_close(
    request: Request, db: Db, principal: ApiUser, referral_id: RowId
) -> Response:
    """Record that a referral's outcome was reported back to its source."""
    perform(request, db, principal, "close", referral_id)
    return Response(status_code=204)
