"""Snooze links from the daily digest, usable without signing in.

`GET /digest/follow-ups/<id>/snooze?token=...` shows a confirmation page
and changes nothing, because mail scanners fetch the links in a message.
The page's POST button snoozes the follow-up.  The signed token is the
credential (see warmline.remind.snooze_links): an invalid token gets 400,
an expired one or one for another follow-up or staff member gets 403.
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from warmline.remind.errors import ReminderError
from warmline.remind.followups import follow_up_views
from warmline.remind.snooze_links import (
    PERIODS,
    SnoozeLinkError,
    granted_follow_up,
    read_grant,
    snooze_by_link,
)
from web.auth import Db, web_state
from web.rendering import render

log = structlog.get_logger(__name__)

router = APIRouter(include_in_schema=False)

NO_STORE = {"cache-control": "no-store"}


@router.get("/digest/follow-ups/{follow_up_id}/snooze")
def confirm_snooze(
    follow_up_id: int, request: Request, db: Db, token: str = Query("")
) -> HTMLResponse:
    """Show what the link would snooze, with a button that does it."""
    state = web_state(request)
    try:
        grant = read_grant(
            state.config.session_key, token, follow_up_id, state.config.clock()
        )
        workspace, _member, follow_up = granted_follow_up(db, grant)
    except SnoozeLinkError as error:
        return _link_rejected(request, follow_up_id, error)
    view = follow_up_views(db, workspace, ids=[follow_up.id])[0]
    context = {
        "view": view,
        "period": PERIODS[grant.period],
        "token": token,
        "done": False,
    }
    return _page(request, context)


@router.post("/digest/follow-ups/{follow_up_id}/snooze")
def snooze(
    follow_up_id: int, request: Request, db: Db, token: str = Form("")
) -> HTMLResponse:
    """Snooze the follow-up once; a repeated POST shows the same result."""
    state = web_state(request)
    now = state.config.clock()
    try:
        grant = read_grant(state.config.session_key, token, follow_up_id, now)
        result = snooze_by_link(db, grant, token, now)
    except SnoozeLinkError as error:
        db.rollback()
        return _link_rejected(request, follow_up_id, error)
    except ReminderError as error:
        db.rollback()
        log.info("snooze link not applied", follow_up_id=follow_up_id, error=str(error))
        return _error(request, 409, str(error))
    db.commit()
    context = {
        "view": result.view,
        "period": PERIODS[grant.period],
        "done": True,
        "repeated": result.repeated,
    }
    return _page(request, context)


def _page(request: Request, context: dict[str, object]) -> HTMLResponse:
    response = render(request, "digest_snooze.html", None, context)
    response.headers.update(NO_STORE)
    return response


def _link_rejected(
    request: Request, follow_up_id: int, error: SnoozeLinkError
) -> HTMLResponse:
    log.info(
        "snooze link rejected",
        follow_up_id=follow_up_id,
        status=error.status,
        error=str(error),
    )
    return _error(request, error.status, str(error))


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    context = {"status": status, "message": message}
    response = render(request, "error.html", None, context, status)
    response.headers.update(NO_STORE)
    return response
