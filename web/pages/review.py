"""The review queue: confirm, reject or reassign touchpoints that need review.

Each item has its own small forms and the queue has a bulk form, so every
action works without JavaScript.  With htmx loaded, a decision swaps the
queue in place, and review.js adds keyboard shortcuts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from warmline import review
from warmline.models import TouchpointStatus
from warmline.web_models import DecisionAction
from web.auth import Db, FormUser, PageUser, Principal, web_state
from web.pages.common import MAX_ID, RowId, local_path, not_found, see_other
from web.rendering import render
from web.services.touchpoints import TouchpointFilter, list_touchpoints
from web.transactions import commit_retrying

router = APIRouter()

PAGE_SIZE = 50
FormId = Annotated[int, Field(ge=1, le=MAX_ID)]


def actor(principal: Principal) -> review.Actor:
    return review.Actor(
        principal.workspace_id, principal.user_id, principal.staff_member_id
    )


@router.get("/review")
def review_page(
    request: Request,
    db: Db,
    principal: PageUser,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    done: Annotated[str, Query(max_length=20)] = "",
    count: Annotated[int, Query(ge=0, le=review.MAX_BULK)] = 0,
    learned: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> HTMLResponse:
    queue = list_touchpoints(
        db,
        principal.workspace_id,
        TouchpointFilter(status=TouchpointStatus.NEEDS_REVIEW),
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
        with_participants=True,
    )
    done_text = {"confirm": "confirmed", "reject": "rejected", "reassign": "reassigned"}
    context = {
        "queue": queue[:PAGE_SIZE],
        "has_next": len(queue) > PAGE_SIZE,
        "page": page,
        "choices": review.reassign_choices(db, principal.workspace_id),
        "done": done_text.get(done),
        "count": count,
        "learned": learned,
    }
    return render(request, "review.html", principal, context)


@router.post("/review/decide")
def review_decide(
    request: Request,
    db: Db,
    principal: FormUser,
    action: Annotated[DecisionAction, Form()],
    touchpoint_id: Annotated[list[FormId] | None, Form()] = None,
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    """Confirm or reject one touchpoint or the selected ones."""
    ids = touchpoint_id or []
    if not ids:
        return see_other(local_path(next))
    now = web_state(request).config.clock()
    try:
        outcome = commit_retrying(
            db,
            lambda: review.decide(db, actor(principal), ids, action, now),
            "review.decide",
        )
    except review.NotFoundError as error:
        raise not_found("touchpoint") from error
    except review.DecisionError as error:
        raise HTTPException(422, str(error)) from error
    return see_other(
        _after(next, action, len(outcome.touchpoints), len(outcome.lessons))
    )


def _after(next_path: str, action: DecisionAction, count: int, learned: int = 0) -> str:
    path = local_path(next_path)
    if path.split("?")[0] != "/review":
        return path
    return f"/review?done={action.value}&count={count}&learned={learned}"


@router.post("/review/{touchpoint_id}/reassign")
def review_reassign(
    request: Request,
    db: Db,
    principal: FormUser,
    touchpoint_id: RowId,
    target: Annotated[str, Form(max_length=40, pattern=r"^\d{1,10}(:\d{1,10})?$")],
    next: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    """Link the touchpoint to the practice, or practice:person, in `target`."""
    practice_text, _, person_text = target.partition(":")
    practice_id = int(practice_text)
    person_id = int(person_text) if person_text else None
    if practice_id > MAX_ID or (person_id or 0) > MAX_ID:
        raise not_found("practice")
    now = web_state(request).config.clock()
    try:
        outcome = commit_retrying(
            db,
            lambda: review.reassign(
                db, actor(principal), touchpoint_id, practice_id, person_id, now
            ),
            "review.reassign",
        )
    except review.NotFoundError as error:
        raise HTTPException(404, f"{error}; reload the page") from error
    except review.DecisionError as error:
        raise HTTPException(422, str(error)) from error
    learned = len(outcome.lessons)
    return see_other(_after(next, DecisionAction.REASSIGN, 1, learned))
