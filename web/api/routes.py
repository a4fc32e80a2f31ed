"""The JSON API under /api: the same data and actions as the pages.

Authentication is the site's session cookie, started with POST /api/session;
unsafe requests also carry the session's CSRF token in X-CSRF-Token.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Literal

from fastapi import (
    APIRouter,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)

from warmline import review
from warmline.csvfile import CsvInputError
from warmline.models import SourceKind, TouchpointStatus, Workspace
from warmline.remind.cold import cold_rows
from warmline.web_models import DecisionAction, UploadKind
from web import signin
from web.api import schemas
from web.api.convert import (
    account_out,
    source_detail_out,
    source_out,
    touchpoint_out,
    upload_out,
)
from web.auth import ApiAdmin, ApiUser, Db, web_state
from web.pages.common import MAX_ID, RowId, client_address, not_found
from web.pages.imports import read_upload
from web.pages.review import actor
from web.pages.signin import set_session_cookie
from web.pages.tasks import local_today
from web.services import imports
from web.services.accounts import account_overviews
from web.services.sources import SourceSearch, SourceStatus, get_source
from web.services.touchpoints import (
    MAX_PAGE,
    TouchpointFilter,
    get_touchpoint,
    list_touchpoints,
)
from web.sessions import SESSION_COOKIE
from web.summaries import find_sources, kept_cold_list
from web.text import clean_text
from web.transactions import commit_retrying
from web.users import staff_member_id

router = APIRouter(prefix="/api", tags=["api"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
UNAUTHORIZED = schemas.UNAUTHORIZED


@router.post("/session", responses={401: {}, 429: {}})
def api_sign_in(
    request: Request, db: Db, body: schemas.SignInIn, response: Response
) -> schemas.MeOut:
    """Sign in with an address and password; sets the session cookie."""
    state = web_state(request)
    outcome = signin.sign_in(
        db, state, body.email, body.password, client_address(request)
    )
    if outcome.token is None:
        headers = None
        if outcome.retry_after is not None:
            seconds = int(outcome.retry_after.total_seconds()) + 1
            headers = {"Retry-After": str(seconds)}
        status = 401 if outcome.retry_after is None else 429
        raise HTTPException(status, outcome.message, headers=headers)
    set_session_cookie(request, response, outcome.token)
    user = outcome.user
    assert user is not None and outcome.csrf_token is not None
    return schemas.MeOut(
        email=user.email,
        role=user.role.value,
        workspace_id=user.workspace_id,
        staff_member_id=staff_member_id(db, user),
        csrf_token=outcome.csrf_token,
    )


@router.delete("/session", status_code=204, responses=UNAUTHORIZED)
def api_sign_out(request: Request, db: Db, principal: ApiUser) -> Response:
    state = web_state(request)
    signin.sign_out(db, state.signer.unsign(request.cookies.get(SESSION_COOKIE)))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/me", responses=UNAUTHORIZED)
def api_me(principal: ApiUser) -> schemas.MeOut:
    return schemas.MeOut(
        email=principal.email,
        role=principal.role.value,
        workspace_id=principal.workspace_id,
        staff_member_id=principal.staff_member_id,
        csrf_token=principal.csrf_token,
    )


@router.get("/sources", responses=UNAUTHORIZED)
def api_sources(
    request: Request,
    db: Db,
    principal: ApiUser,
    q: Annotated[str, Query(max_length=200)] = "",
    owner_id: OptionalId = None,
    kind: Literal["practice", "provider", "contact"] | None = None,
    status: Literal["cold", "warm", "never"] | None = None,
    tier: Literal["1", "2", "3", "none"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[schemas.SourceOut]:
    """Search sources by name, address, domain or practice; filter by owner,
    kind, status and tier."""
    search = SourceSearch(
        clean_text(q).strip(),
        owner_id,
        SourceKind(kind) if kind else None,
        SourceStatus(status) if status else None,
        tier,
    )
    state = web_state(request)
    now = state.config.clock()
    found = find_sources(
        state.kept, db, principal.workspace_id, search, now, limit, offset
    )
    return [source_out(summary) for summary in found]


@router.get("/sources/{source_id}", responses={**UNAUTHORIZED, 404: {}})
def api_source(
    request: Request, db: Db, principal: ApiUser, source_id: RowId
) -> schemas.SourceDetailOut:
    """Return one source with its people, cadence and days since the last touch."""
    now = web_state(request).config.clock()
    detail = get_source(db, principal.workspace_id, source_id, now)
    if detail is None:
        raise not_found("source")
    return source_detail_out(detail.source, detail.summary, detail.people)


@router.get("/touchpoints", responses=UNAUTHORIZED)
def api_touchpoints(
    db: Db,
    principal: ApiUser,
    status: Literal["confirmed", "needs_review", "rejected"] | None = None,
    source_id: OptionalId = None,
    staff_member_id: OptionalId = None,
    kind: Literal["email", "meeting"] | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[schemas.TouchpointOut]:
    """Touchpoints newest first; `source_id` matches the practice or a person."""
    where = TouchpointFilter(
        status=TouchpointStatus(status) if status else None,
        source_id=source_id,
        staff_member_id=staff_member_id,
        kind=kind,
        since=since,
        until=until,
    )
    views = list_touchpoints(db, principal.workspace_id, where, limit, offset)
    return [touchpoint_out(view) for view in views]


@router.get("/touchpoints/{touchpoint_id}", responses={**UNAUTHORIZED, 404: {}})
def api_touchpoint(
    db: Db, principal: ApiUser, touchpoint_id: RowId
) -> schemas.TouchpointOut:
    view = get_touchpoint(db, principal.workspace_id, touchpoint_id)
    if view is None:
        raise not_found("touchpoint")
    return touchpoint_out(view)


@router.post("/touchpoints/decisions", responses={**UNAUTHORIZED, 403: {}, 404: {}})
def api_decide(
    request: Request, db: Db, principal: ApiUser, body: schemas.DecisionIn
) -> schemas.DecisionResultOut:
    """Confirm or reject touchpoints; none changes if one id is not found."""
    action = DecisionAction(body.action)
    now = web_state(request).config.clock()
    ids = body.touchpoint_ids
    try:
        outcome = commit_retrying(
            db,
            lambda: review.decide(db, actor(principal), ids, action, now),
            "review.decide",
        )
    except review.NotFoundError as error:
        raise not_found("touchpoint") from error
    return schemas.DecisionResultOut(
        decided=sorted(touchpoint.id for touchpoint in outcome.touchpoints),
        status="confirmed" if action is DecisionAction.CONFIRM else "rejected",
        learned=[str(lesson) for lesson in outcome.lessons],
    )


@router.post(
    "/touchpoints/{touchpoint_id}/reassign",
    responses={**UNAUTHORIZED, 403: {}, 404: {}, 422: {}},
)
def api_reassign(
    request: Request,
    db: Db,
    principal: ApiUser,
    touchpoint_id: RowId,
    body: schemas.ReassignIn,
) -> schemas.TouchpointOut:
    """Link the activity to another practice or person; returns the new link."""
    now = web_state(request).config.clock()
    try:
        outcome = commit_retrying(
            db,
            lambda: review.reassign(
                db,
                actor(principal),
                touchpoint_id,
                body.practice_id,
                body.person_id,
                now,
            ),
            "review.reassign",
        )
    except review.NotFoundError as error:
        raise HTTPException(404, str(error)) from error
    except review.DecisionError as error:
        raise HTTPException(422, str(error)) from error
    view = get_touchpoint(db, principal.workspace_id, outcome.touchpoints[0].id)
    assert view is not None
    return touchpoint_out(view)


@router.get("/accounts", responses=UNAUTHORIZED)
def api_accounts(
    request: Request, db: Db, principal: ApiUser
) -> list[schemas.AccountOut]:
    now = web_state(request).config.clock()
    return [
        account_out(row) for row in account_overviews(db, principal.workspace_id, now)
    ]


@router.get("/cold", responses=UNAUTHORIZED)
def api_cold(
    request: Request, db: Db, principal: ApiUser, as_of: dt.date | None = None
) -> list[schemas.ColdOut]:
    """Sources past their cadence, ranked as `warmline cold` ranks them.

    The rank weighs how far past its cadence a source is by its referrals
    of the last year; sources never touched come last.  `as_of` is a date,
    read as the end of that day in UTC; the default is now.
    """
    workspace = db.get_one(Workspace, principal.workspace_id)
    if as_of is None:
        now = web_state(request).config.clock()
        rows = kept_cold_list(web_state(request).kept, db, workspace, now).value
    else:
        now = dt.datetime.combine(as_of, dt.time.max, dt.UTC)
        rows = cold_rows(db, workspace, now)
    return [schemas.ColdOut.model_validate(dataclasses.asdict(row)) for row in rows]


@router.post("/imports", status_code=201, responses={**UNAUTHORIZED, 403: {}, 413: {}})
async def api_upload(
    request: Request,
    db: Db,
    principal: ApiAdmin,
    file: Annotated[UploadFile, File()],
    kind: Annotated[UploadKind, Form()] = UploadKind.SOURCES,
) -> schemas.UploadOut:
    """Upload a sources or referrals CSV and return its preview; nothing is imported."""
    state = web_state(request)
    data = await read_upload(file, state.config.upload_max_bytes)
    try:
        upload = imports.store_upload(
            db,
            principal.workspace_id,
            principal.user_id,
            file.filename or f"{kind.value}.csv",
            data,
            state.config.upload_max_bytes,
            kind,
        )
    except imports.UploadError as error:
        raise HTTPException(
            413 if len(data) > state.config.upload_max_bytes else 422, str(error)
        ) from error
    db.commit()
    today = local_today(request, principal)
    preview = imports.preview_upload(
        state.sessions, principal.workspace_id, upload, today
    )
    return upload_out(upload, preview)


@router.get("/imports/{upload_id}", responses={**UNAUTHORIZED, 403: {}, 404: {}})
def api_upload_preview(
    request: Request, db: Db, principal: ApiAdmin, upload_id: RowId
) -> schemas.UploadOut:
    upload = imports.get_upload(db, principal.workspace_id, upload_id)
    if upload is None:
        raise not_found("upload")
    preview = None
    if upload.imported_at is None:
        preview = imports.preview_upload(
            web_state(request).sessions,
            principal.workspace_id,
            upload,
            local_today(request, principal),
        )
    return upload_out(upload, preview)


@router.post(
    "/imports/{upload_id}/confirm",
    responses={**UNAUTHORIZED, 403: {}, 404: {}, 409: {}, 422: {}},
)
def api_upload_confirm(
    request: Request, db: Db, principal: ApiAdmin, upload_id: RowId
) -> schemas.UploadOut:
    """Import a previewed upload; nothing is written if any row is invalid."""
    upload = imports.get_upload(db, principal.workspace_id, upload_id)
    if upload is None:
        raise not_found("upload")
    if upload.imported_at is not None:
        raise HTTPException(409, "This file was imported already.")
    today = local_today(request, principal)
    try:
        imports.import_upload(db, principal.workspace_id, upload, today)
    except CsvInputError as error:
        db.rollback()
        raise HTTPException(
            422, f"Nothing was imported: {imports.error_text(error)}"
        ) from error
    db.commit()
    return upload_out(upload, None)
