"""Actions on the Today page's follow-ups and open loops, as form posts."""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import Response

from warmline.remind.errors import ReminderError
from warmline.remind.snooze_links import PERIODS
from web.auth import Db, FormUser, Principal, web_state
from web.pages.common import RowId, local_path, not_found, see_other
from web.services import tasks
from web.transactions import commit_retrying

router = APIRouter()


def audit_actor(principal: Principal) -> str:
    """Return the audit log's actor for a web user."""
    return f"web:{principal.user_id}"


def local_today(request: Request, principal: Principal) -> dt.date:
    """Return today's date in the signed-in user's time zone."""
    now = web_state(request).config.clock()
    return now.astimezone(zoneinfo.ZoneInfo(principal.timezone)).date()


@contextlib.contextmanager
def task_errors(row_kind: str) -> Iterator[None]:
    """Turn a task action's errors into 404 (not in the workspace) and 409 (closed)."""
    try:
        yield
    except tasks.TaskNotFoundError:
        raise not_found(row_kind) from None
    except ReminderError as error:
        raise HTTPException(409, f"{error}.") from None


ReturnTo = Annotated[str, Form(max_length=200)]
"""The Today page's path with its query, to return to after the action."""


def back(return_to: str, section: str) -> Response:
    """Redirect to `return_to` on this site (else Today) at `section`."""
    path = local_path(return_to).split("#", 1)[0]
    return see_other(f"{path}#{section}")


def perform(
    request: Request,
    db: Db,
    principal: Principal,
    action: Literal["done", "snooze", "close"],
    row_id: int,
    period: str = "",
    seen_due_on: dt.date | None = None,
) -> None:
    """Run one task action for the signed-in user and commit it.

    "done" and "snooze" take a follow-up id, "close" a referral id.  A
    snooze with `seen_due_on` changes nothing if the due date has moved.  Raises
    HTTPException 404 for an id of no row of the user's workspace and 409
    for a row no longer open.
    """
    actor = audit_actor(principal)
    now = web_state(request).config.clock()
    today = local_today(request, principal)
    workspace_id = principal.workspace_id

    def work() -> None:
        if action == "done":
            tasks.complete(db, actor, workspace_id, row_id, now)
        elif action == "snooze":
            tasks.snooze(db, actor, workspace_id, row_id, period, today, seen_due_on)
        else:
            tasks.close_loop(db, actor, workspace_id, row_id, now)

    with task_errors("referral" if action == "close" else "follow-up"):
        commit_retrying(db, work, f"task.{action}")


@router.post("/followups/{follow_up_id}/done")
def follow_up_done(
    request: Request,
    db: Db,
    principal: FormUser,
    follow_up_id: RowId,
    return_to: ReturnTo = "/",
) -> Response:
    perform(request, db, principal, "done", follow_up_id)
    return back(return_to, "followups-heading")


@router.post("/followups/{follow_up_id}/snooze")
def follow_up_snooze(
    request: Request,
    db: Db,
    principal: FormUser,
    follow_up_id: RowId,
    period: Annotated[str, Form()],
    due_on: Annotated[dt.date | None, Form()] = None,
    return_to: ReturnTo = "/",
) -> Response:
    if period not in PERIODS:
        raise HTTPException(
            422, f"Unknown snooze period {period!r}; choose 2w, 1m or 3m."
        )
    perform(request, db, principal, "snooze", follow_up_id, period, due_on)
    return back(return_to, "followups-heading")


@router.post("/referrals/{referral_id}/close")
def referral_close(
    request: Request,
    db: Db,
    principal: FormUser,
    referral_id: RowId,
    return_to: ReturnTo = "/",
) -> Response:
    perform(request, db, principal, "close", referral_id)
    return back(return_to, "loops-heading")
