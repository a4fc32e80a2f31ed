"""Actions on the Today page's follow-ups and open loops, as form posts."""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from warmline.remind.errors import ReminderError
from warmline.remind.snooze_links import PERIODS
from web.auth import Db, FormUser, Principal, web_state
from web.pages.common import RowId, local_path, not_found, see_other
from web.services import tasks

router = APIRouter()


def audit_actor(principal: Principal) -> str:
    """Return the audit log's actor for a web user."""
    return f"web:{principal.user_id}"


def local_today(request: Request, principal: Principal) -> dt.date:
    """Return today's date in the signed-in user's time zone."""
    now = web_state(request).config.clock()
    return now.astimezone(zoneinfo.ZoneInfo(principal.timezone)).date()


@contextlib.contextmanager
def task_errors(what: str) -> Iterator[None]:
    """Turn a task action's errors into 404 (not in the workspace) and 409 (closed)."""
    try:
        yield
    except tasks.TaskNotFoundError:
        raise not_found(what) from None
    except ReminderError as error:
        raise HTTPException(409, f"{error}.") from None


ReturnTo = Annotated[str, Form(max_length=200)]
"""The Today page's path with its query, to return to after the action."""


def back(return_to: str, section: str) -> Response:
    """Redirect to `return_to` on this site (else Today) at `section`."""
    path = local_path(return_to).split("#", 1)[0]
    return see_other(f"{path}#{section}")


@router.post("/followups/{follow_up_id}/done")
def follow_up_done(
    request: Request,
    db: Db,
    principal: FormUser,
    follow_up_id: RowId,
    return_to: ReturnTo = "/",
) -> Response:
    now = web_state(request).config.clock()
    actor = audit_actor(principal)
    with task_errors("follow-up"):
        tasks.complete(db, actor, principal.workspace_id, follow_up_id, now)
    db.commit()
    return back(return_to, "followups-heading")


@router.post("/followups/{follow_up_id}/snooze")
def follow_up_snooze(
    request: Request,
    db: Db,
    principal: FormUser,
    follow_up_id: RowId,
    period: Annotated[str, Form()],
    return_to: ReturnTo = "/",
) -> Response:
    if period not in PERIODS:
        raise HTTPException(
            422, f"Unknown snooze period {period!r}; choose 2w, 1m or 3m."
        )
    today = local_today(request, principal)
    actor = audit_actor(principal)
    workspace_id = principal.workspace_id
    with task_errors("follow-up"):
        tasks.snooze(db, actor, workspace_id, follow_up_id, period, today)
    db.commit()
    return back(return_to, "followups-heading")


@router.post("/referrals/{referral_id}/close")
def referral_close(
    request: Request,
    db: Db,
    principal: FormUser,
    referral_id: RowId,
    return_to: ReturnTo = "/",
) -> Response:
    now = web_state(request).config.clock()
    actor = audit_actor(principal)
    with task_errors("referral"):
        tasks.close_loop(db, actor, principal.workspace_id, referral_id, now)
    db.commit()
    return back(return_to, "loops-heading")
