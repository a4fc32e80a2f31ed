"""The accounts page: sync state, errors in plain words, and counts per account."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from web.auth import Db, PageUser, web_state
from web.rendering import render
from web.services.accounts import account_overviews

router = APIRouter()

# NOTE: connecting a Google or Microsoft account from the site is not built;
# the connect flows in warmline/providers/ run from the command line.


@router.get("/accounts")
def accounts_page(request: Request, db: Db, principal: PageUser) -> HTMLResponse:
    now = web_state(request).config.clock()
    overviews = account_overviews(db, principal.workspace_id, now)
    return render(request, "accounts.html", principal, {"accounts": overviews})
