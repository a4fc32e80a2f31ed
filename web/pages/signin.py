"""Sign-in and sign-out pages.

The sign-in form is protected from cross-site posts by a token that is both
in the form and in a signed cookie set with the form (double submit).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from web import signin
from web.auth import Db, FormUser, current_principal, web_state
from web.pages.common import client_address, local_path, see_other
from web.rendering import render
from web.sessions import SESSION_COOKIE, SIGNIN_COOKIE, new_token, tokens_match

router = APIRouter()

# NOTE: sign-in with Google or Microsoft (OpenID Connect) is not built.  Its
# routes would go here and start a session for the user whose verified
# address the identity provider returns.


def _signin_form(
    request: Request, next_path: str, error: str | None, status_code: int
) -> HTMLResponse:
    state = web_state(request)
    token = new_token()
    response = render(
        request,
        "signin.html",
        None,
        {"signin_token": token, "next": next_path, "error": error},
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
