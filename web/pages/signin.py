"""Sign-in and sign-out pages, and sign-in with Google or Microsoft.

The sign-in form is protected from cross-site posts by a token that is both
in the form and in a signed cookie set with the form (double submit).  A
provider sign-in starts at /signin/oidc/{provider}, which stores the flow's
state, nonce and PKCE verifier in the encrypted flow cookie (web.oidc) and
redirects to the provider; the provider sends the browser back to
/signin/oidc/{provider}/callback.
"""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from web import signin
from web.auth import Db, FormUser, current_principal, web_state
from web.oidc import (
    FLOW_COOKIE,
    FLOW_LIFETIME,
    OAuthSetup,
    OidcClient,
    PendingSignIn,
    SignInError,
)
from web.pages.common import client_address, local_path, see_other
from web.rendering import render
from web.sessions import SESSION_COOKIE, SIGNIN_COOKIE, new_token, tokens_match

log = structlog.get_logger(__name__)
router = APIRouter()

SIGN_IN_PURPOSE = "sign_in"


def _signin_form(
    request: Request, next_path: str, error: str | None, status_code: int
) -> HTMLResponse:
    state = web_state(request)
    token = new_token()
    response = render(
        request,
        "signin.html",
        None,
        {
            "signin_token": token,
            "next": next_path,
            "error": error,
            "providers": oauth_setup(request).sign_in_choices(),
        },
        status_code,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        state.signer.sign(token),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/signin")
def signin_page(request: Request, db: Db, next: str = "/") -> Response:
    if current_principal(request, db) is not None:
        return see_other(local_path(next))
    return _signin_form(request, local_path(next), None, 200)


@router.post("/signin")
def signin_submit(
    request: Request,
    db: Db,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    signin_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    state = web_state(request)
    expected = state.signer.unsign(request.cookies.get(SIGNIN_COOKIE))
    if expected is None or not tokens_match(expected, signin_token):
        return _signin_form(
            request,
            local_path(next),
            "The sign-in form expired; enter your address and password again.",
            400,
        )
    outcome = signin.sign_in(db, state, email, password, client_address(request))
    if outcome.token is None:
        status = 401 if outcome.retry_after is None else 429
        response = _signin_form(request, local_path(next), outcome.message, status)
        if outcome.retry_after is not None:
            response.headers["Retry-After"] = str(
                int(outcome.retry_after.total_seconds()) + 1
            )
        return response
    redirect = see_other(local_path(next))
    redirect.delete_cookie(SIGNIN_COOKIE)
    set_session_cookie(request, redirect, outcome.token)
    return redirect


def oauth_setup(request: Request) -> OAuthSetup:
    setup: OAuthSetup = request.app.state.oauth
    return setup


def set_flow_cookie(
    request: Request, response: Response, values: dict[str, Any]
) -> None:
    """Store an OAuth flow's values, sealed, until its callback arrives."""
    sealed = oauth_setup(request).cookies.seal(
        values, web_state(request).config.clock()
    )
    response.set_cookie(
        FLOW_COOKIE,
        sealed,
        max_age=int(FLOW_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def open_flow_cookie(
    request: Request, purpose: str, provider: str
) -> dict[str, Any] | None:
    """Return the flow cookie's values if they belong to this purpose and provider."""
    values = oauth_setup(request).cookies.open(
        request.cookies.get(FLOW_COOKIE), web_state(request).config.clock()
    )
    if values is None:
        return None
    if values.get("purpose") != purpose or values.get("provider") != provider:
        return None
    return values


def _provider_client(request: Request, provider: str) -> OidcClient:
    client = oauth_setup(request).client(provider)
    if client is None:
        raise HTTPException(
            404, f"Sign-in with {provider!r} is not set up on this site."
        )
    return client


@router.get("/signin/oidc/{provider}")
def provider_signin_start(request: Request, provider: str, next: str = "/") -> Response:
    client = _provider_client(request, provider)
    pending = PendingSignIn.new()
    redirect_uri = str(request.url_for("provider_signin_callback", provider=provider))
    try:
        url = client.authorization_url(redirect_uri, pending)
    except SignInError as error:
        return _signin_form(request, local_path(next), str(error), 502)
    response = see_other(url)
    set_flow_cookie(
        request,
        response,
        {
            "purpose": SIGN_IN_PURPOSE,
            "provider": provider,
            "state": pending.state,
            "nonce": pending.nonce,
            "verifier": pending.verifier,
            "next": local_path(next),
        },
    )
    return response


@router.get("/signin/oidc/{provider}/callback")
def provider_signin_callback(request: Request, db: Db, provider: str) -> Response:
    client = _provider_client(request, provider)
    flow = open_flow_cookie(request, SIGN_IN_PURPOSE, provider)
    if flow is None:
        return _signin_form(
            request,
            "/",
            "The sign-in took too long or was started in another browser; start again.",
            400,
        )
    next_path = local_path(flow.get("next"))
    pending = PendingSignIn(flow["state"], flow["nonce"], flow["verifier"])
    redirect_uri = str(request.url_for("provider_signin_callback", provider=provider))
    state = web_state(request)
    try:
        claims = client.sign_in(
            dict(request.query_params), pending, redirect_uri, state.config.clock()
        )
    except SignInError as error:
        log.warning("provider sign-in failed", provider=provider, error=str(error))
        return _without_flow(_signin_form(request, next_path, str(error), 400))
    outcome = signin.provider_sign_in(db, state, provider, claims)
    if outcome.token is None:
        return _without_flow(_signin_form(request, next_path, outcome.message, 403))
    redirect = _without_flow(see_other(next_path))
    set_session_cookie(request, redirect, outcome.token)
    return redirect


def _without_flow(response: Response) -> Response:
    # A flow's code and state are single-use.
    response.delete_cookie(FLOW_COOKIE)
    return response


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    state = web_state(request)
    response.set_cookie(
        SESSION_COOKIE,
        state.signer.sign(token),
        max_age=int(state.config.session_lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


@router.post("/signout")
def signout_submit(request: Request, db: Db, principal: FormUser) -> Response:
    state = web_state(request)
    signin.sign_out(db, state.signer.unsign(request.cookies.get(SESSION_COOKIE)))
    response = see_other("/signin")
    response.delete_cookie(SESSION_COOKIE)
    return response
