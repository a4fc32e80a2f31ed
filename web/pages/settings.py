"""The settings page (admins only): cadences, thresholds, exclusions, privacy."""

from __future__ import annotations

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from warmline.models import Workspace
from warmline.workspaces import workspace_settings
from web.auth import Db, FormAdmin, PageAdmin, Principal, web_state
from web.pages.common import see_other
from web.rendering import render
from web.services import settings as service
from web.text import clean_text

router = APIRouter()
log = structlog.get_logger(__name__)

MAX_FIELD_LENGTH = 4000


@router.get("/settings")
def settings_page(
    request: Request,
    db: Db,
    principal: PageAdmin,
    saved: Annotated[int | None, Query(ge=0, le=100)] = None,
) -> HTMLResponse:
    return _render(request, db, principal, saved=saved)


@router.post("/settings")
async def settings_save(request: Request, db: Db, principal: FormAdmin) -> Response:
    form = await request.form()
    texts = {
        name: clean_text(str(form[name]))[:MAX_FIELD_LENGTH]
        for name in service.EDITABLE
        if name in form
    }
    workspace = db.get_one(Workspace, principal.workspace_id)
    changed, errors = service.save_settings(db, workspace, texts, principal.email)
    if errors:
        db.rollback()
        log.info("settings rejected", user_id=principal.user_id, fields=list(errors))
        return _render(request, db, principal, texts=texts, errors=errors)
    db.commit()
    log.info("settings changed", user_id=principal.user_id, names=changed)
    return see_other(f"/settings?saved={len(changed)}")


def _render(
    request: Request,
    db: Db,
    principal: Principal,
    texts: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    saved: int | None = None,
) -> HTMLResponse:
    workspace = db.get_one(Workspace, principal.workspace_id)
    values = workspace_settings(db, workspace)
    context: dict[str, Any] = {
        "groups": service.form_groups(values, texts, errors),
        "fixed": service.fixed_values(web_state(request).config.digest_hour),
        "errors": errors or {},
        "saved": saved,
    }
    return render(request, "settings.html", principal, context, 422 if errors else 200)
