"""The accounts page: sync state, errors in plain words and counts per account;
connecting Google and Microsoft accounts; syncing an account now.

Connecting posts the staff member to /accounts/connect/{flow}, which keeps
the flow's state and PKCE verifier in the sealed flow cookie and redirects
to the provider.  The provider sends the browser back to
/accounts/connect/{flow}/callback, which accepts only the flow that the
same signed-in user started.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, BackgroundTasks, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from warmline import audit
from warmline.cli.app import AppContext
from warmline.models import StaffMember, Workspace
from web.auth import Db, FormUser, PageUser, Principal, web_state
from web.oidc import FLOW_COOKIE
from web.pages.common import MAX_ID, RowId, not_found, see_other
from web.pages.signin import oauth_setup, open_flow_cookie, set_flow_cookie
from web.rendering import render
from web.services.accounts import (
    CONNECTABLE,
    ConnectError,
    account_overviews,
    account_to_sync,
    connect_choices,
    connect_purposes,
    enqueue_sync,
    finish_connect,
    staff_choices,
    start_connect,
    sync_in_process,
)

log = structlog.get_logger(__name__)
router = APIRouter()

CONNECT_PURPOSE = "connect"


@router.get("/accounts")
def accounts_page(
    request: Request,
    db: Db,
    principal: PageUser,
    connected: str = "",
    syncing: int | None = None,
) -> HTMLResponse:
    return _accounts_page(request, db, principal, None, 200, connected, syncing)


def _accounts_page(
    request: Request,
    db: Db,
    principal: Principal,
    error: str | None,
    status_code: int,
    connected: str = "",
    syncing: int | None = None,
) -> HTMLResponse:
    now = web_state(request).config.clock()
    context = {
        "accounts": account_overviews(db, principal.workspace_id, now),
        "connect_choices": connect_choices(oauth_setup(request)),
        "staff": staff_choices(db, principal),
        "error": error,
        "connected": [part for part in connected.split(",") if part.isdigit()],
        "syncing": syncing,
    }
    return render(request, "accounts.html", principal, context, status_code)


def _connect_flow(request: Request, flow: str) -> str:
    if flow not in CONNECTABLE or flow not in dict(
        connect_choices(oauth_setup(request))
    ):
        raise HTTPException(404, f"Connecting {flow!r} accounts is not set up here.")
    return flow


def chosen_staff_member(
    db: Db, principal: Principal, staff_member_id: int | None
) -> StaffMember:
    """Return the staff member to connect: the one chosen, else the user's own."""
    chosen = staff_member_id or principal.staff_member_id
    allowed = {member.id: member for member in staff_choices(db, principal)}
    if chosen is None or chosen not in allowed:
        raise not_found("staff member you may connect accounts for")
    return allowed[chosen]


@router.post("/accounts/connect/{flow}")
def connect_start(
    request: Request,
    db: Db,
    principal: FormUser,
    flow: str,
    staff_member_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    member = chosen_staff_member(db, principal, staff_member_id)
    _connect_flow(request, flow)
    redirect_uri = str(request.url_for("connect_callback", flow=flow))
    try:
        setup = oauth_setup(request)
        workspace = db.get_one(Workspace, principal.workspace_id)
        purposes = connect_purposes(db, workspace, setup, flow)
        url, saved = start_connect(setup, flow, redirect_uri, member.email, purposes)
    except ConnectError as error:
        return _accounts_page(request, db, principal, str(error), 502)
    response = see_other(url)
    values = {
        "purpose": CONNECT_PURPOSE,
        "provider": flow,
        "user_id": principal.user_id,
        "staff_member_id": member.id,
        **saved,
    }
    set_flow_cookie(request, response, values)
    return response


@router.get("/accounts/connect/{flow}/callback")
def connect_callback(
    request: Request, db: Db, principal: PageUser, flow: str
) -> Response:
    _connect_flow(request, flow)
    saved = open_flow_cookie(request, CONNECT_PURPOSE, flow)
    if saved is None or saved.get("user_id") != principal.user_id:
        return _accounts_page(
            request,
            db,
            principal,
            "The connection took too long or was started by another sign-in; "
            "start again.",
            400,
        )
    member = chosen_staff_member(db, principal, int(saved["staff_member_id"]))
    redirect_uri = str(request.url_for("connect_callback", flow=flow))
    app = AppContext(
        web_state(request).sessions,
        db.scalar(select(Workspace.name).where(Workspace.id == principal.workspace_id))
        or "",
        oauth_setup(request).settings,
    )
    try:
        account_ids = finish_connect(
            app,
            oauth_setup(request),
            flow,
            saved,
            dict(request.query_params),
            redirect_uri,
            member.email,
        )
    except ConnectError as error:
        # The message may name addresses, so only its cause's type is logged.
        cause = type(error.__cause__ or error).__name__
        log.warning("connect failed", flow=flow, reason=cause)
        page = _accounts_page(request, db, principal, str(error), 400)
        page.delete_cookie(FLOW_COOKIE)
        return page
    _record_connect(db, principal, flow, account_ids)
    response = see_other("/accounts?connected=" + ",".join(map(str, account_ids)))
    response.delete_cookie(FLOW_COOKIE)
    return response


def _record_connect(
    db: Db, principal: Principal, flow: str, account_ids: list[int]
) -> None:
    workspace = db.get_one(Workspace, principal.workspace_id)
    for account_id in account_ids:
        audit.record(
            db,
            f"web:{principal.email}",
            audit.ACCOUNT_CONNECT,
            f"account:{account_id}",
            {"flow": flow, "via": "web"},
            workspace=workspace,
        )
    db.commit()


@router.post("/accounts/{account_id}/sync")
def sync_now(
    request: Request,
    db: Db,
    principal: FormUser,
    account_id: RowId,
    background: BackgroundTasks,
) -> Response:
    try:
        account_to_sync(db, principal, account_id)
    except LookupError:
        raise not_found("account") from None
    except ConnectError as error:
        return _accounts_page(request, db, principal, str(error), 409)
    setup = oauth_setup(request)
    if setup.settings.broker_url:
        enqueue_sync(setup, account_id)
    else:
        # Runs after the response is sent, in this process.
        background.add_task(
            sync_in_process, setup, web_state(request).sessions, account_id
        )
    return see_other(f"/accounts?syncing={account_id}")
