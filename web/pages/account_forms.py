"""Adding IMAP mailboxes and CalDAV calendars with a password, from the site.

The forms record the same accounts as `warmline accounts add imap` and
`warmline accounts add caldav`: the account row through warmline.accounts,
the password encrypted in the credential store, and an audit record.
Members add accounts for their own staff member, admins for anyone in the
workspace.  Signing in to IMAP with a Google or Microsoft grant stays on the
command line, because it runs the provider's consent for the IMAP scope.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from warmline import accounts, audit
from warmline.models import Workspace
from warmline.secrets import DatabaseCredentialStore, load_secret_box
from web.auth import Db, FormUser, PageUser, Principal, web_state
from web.pages.accounts import chosen_staff_member
from web.pages.common import MAX_ID, see_other
from web.pages.signin import oauth_setup
from web.rendering import render
from web.services.accounts import staff_choices

log = structlog.get_logger(__name__)
router = APIRouter()

KINDS = {"imap": "IMAP mailbox", "caldav": "CalDAV calendar"}
Text = Annotated[str, Form(max_length=500)]


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise HTTPException(404, f"No form for {kind!r} accounts; use imap or caldav.")
    return kind


def _form_page(
    request: Request,
    db: Db,
    principal: Principal,
    kind: str,
    values: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "kind": kind,
        "label": KINDS[kind],
        "staff": staff_choices(db, principal),
        "values": values,
        "error": error,
    }
    return render(request, "account_add.html", principal, context, status_code)


@router.get("/accounts/add/{kind}")
def add_form(request: Request, db: Db, principal: PageUser, kind: str) -> HTMLResponse:
    return _form_page(request, db, principal, _kind(kind), {})


@router.post("/accounts/add/{kind}")
def add_account(
    request: Request,
    db: Db,
    principal: FormUser,
    kind: str,
    username: Text,
    password: Annotated[str, Form(max_length=1000)],
    host: Text = "",
    port: Annotated[str, Form(max_length=5)] = "",
    security: Annotated[str, Form(max_length=10)] = "tls",
    folders: Text = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    staff_member_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Record the account and its encrypted password, then show the accounts."""
    _kind(kind)
    values = {
        "host": host,
        "port": port,
        "security": security,
        "folders": folders,
        "url": url,
        "username": username,
    }
    member = chosen_staff_member(db, principal, staff_member_id)
    workspace = db.get_one(Workspace, principal.workspace_id)

    try:
        if not password:
            raise accounts.AccountError("the password is missing; type the password")
        if kind == "imap":
            account, created = accounts.add_imap_account(
                db, workspace, member, _imap_input(values)
            )
        else:
            account, created = accounts.add_caldav_account(
                db,
                workspace,
                member,
                accounts.CaldavAccountInput(url=url.strip(), username=username),
            )
    except accounts.AccountError as error:
        db.rollback()
        return _form_page(request, db, principal, kind, values, str(error), 422)

    audit.record(
        db,
        f"web:{principal.user_id}",
        audit.ACCOUNT_ADD,
        f"account:{account.id}",
        {"provider": account.provider, "created": created, "via": "web"},
        workspace=workspace,
    )
    db.commit()

    settings = oauth_setup(request).settings
    box = load_secret_box(settings.secret_keys, Path(settings.secret_key_file))
    DatabaseCredentialStore(web_state(request).sessions, account.id, box).save(password)
    log.info("account added", account_id=account.id, provider=account.provider)
    return see_other(f"/accounts?connected={account.id}")


def _imap_input(values: dict[str, str]) -> accounts.ImapAccountInput:
    host = values["host"].strip()
    if not host:
        raise accounts.AccountError(
            "the server name is missing; type e.g. imap.example.com"
        )
    port_text = values["port"].strip()
    if port_text and not port_text.isdigit():
        raise accounts.AccountError(
            f"port {port_text!r} is not a number; leave it empty for the default"
        )
    folders = tuple(
        part.strip() for part in values["folders"].split(",") if part.strip()
    )
    return accounts.ImapAccountInput(
        host=host,
        username=values["username"].strip(),
        port=int(port_text) if port_text else None,
        security=values["security"],
        folders=folders,
    )
