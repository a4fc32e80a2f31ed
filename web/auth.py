"""Who is signed in: request dependencies for pages and the API, and CSRF checks.

Pages send a visitor without a session to the sign-in page, and the API
returns 401.  Every unsafe request must carry the session's CSRF token: forms in the
field `csrf_token`, API clients in the header `X-CSRF-Token`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, HTTPException, Request
from sqlalchemy.orm import Session

from warmline.web_models import WebRole
from web.sessions import SESSION_COOKIE, find_signed_in, tokens_match
from web.state import WebState

CSRF_HEADER = "X-CSRF-Token"
CSRF_FAILED = (
    "The form has expired or came from another site; reload the page and try again."
)


@dataclasses.dataclass(frozen=True)
class Principal:
    """The signed-in user, with the workspace every query is scoped to."""

    user_id: int
    email: str
    role: WebRole
    workspace_id: int
    staff_member_id: int | None
    timezone: str
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role is WebRole.ADMIN


class SignInRequired(Exception):
    """A page was requested without a live session."""


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def get_db(request: Request) -> Iterator[Session]:
    """Open a database session for one request; handlers commit their writes."""
    with web_state(request).sessions() as session:
        # render() reads the navigation's review count through it too, but
        # not after it is closed: exception handlers render after that.
        request.state.db = session
        try:
            yield session
        finally:
            del request.state.db


Db = Annotated[Session, Depends(get_db)]


def current_principal(request: Request, db: Session) -> Principal | None:
    state = web_state(request)
    token = state.signer.unsign(request.cookies.get(SESSION_COOKIE))
    if token is None:
        return None
    found = find_signed_in(db, token, state.config.clock())
    if found is None:
        return None
    return Principal(
        user_id=found.user_id,
        email=found.email,
        role=found.role,
        workspace_id=found.workspace_id,
        staff_member_id=found.staff_member_id,
        timezone=found.timezone,
        csrf_token=found.csrf_token,
    )


def page_user(request: Request, db: Db) -> Principal:
    principal = current_principal(request, db)
    if principal is None:
        raise SignInRequired()
    return principal


def api_user(request: Request, db: Db) -> Principal:
    principal = current_principal(request, db)
    if principal is None:
        raise HTTPException(401, "Not signed in; sign in with POST /api/session.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not tokens_match(principal.csrf_token, request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, f"Missing or wrong {CSRF_HEADER} header.")
    return principal


def form_user(
    request: Request, db: Db, csrf_token: Annotated[str, Form()] = ""
) -> Principal:
    """Return the signed-in user of a form POST after checking its CSRF token."""
    principal = page_user(request, db)
    if not tokens_match(principal.csrf_token, csrf_token):
        raise HTTPException(403, CSRF_FAILED)
    return principal


def require_admin(principal: Principal) -> Principal:
    if not principal.is_admin:
        raise HTTPException(403, "Only an admin of the workspace may do this.")
    return principal


def page_admin(principal: Annotated[Principal, Depends(page_user)]) -> Principal:
    return require_admin(principal)


def form_admin(principal: Annotated[Principal, Depends(form_user)]) -> Principal:
    return require_admin(principal)


def api_admin(principal: Annotated[Principal, Depends(api_user)]) -> Principal:
    return require_admin(principal)


PageUser = Annotated[Principal, Depends(page_user)]
FormUser = Annotated[Principal, Depends(form_user)]
ApiUser = Annotated[Principal, Depends(api_user)]
PageAdmin = Annotated[Principal, Depends(page_admin)]
FormAdmin = Annotated[Principal, Depends(form_admin)]
ApiAdmin = Annotated[Principal, Depends(api_admin)]
