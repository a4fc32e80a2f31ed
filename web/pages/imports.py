"""Imports: upload a sources or referrals CSV, preview and confirm it (admins only)."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from warmline.csvfile import CsvInputError
from warmline.web_models import UploadKind
from web.auth import Db, FormAdmin, PageAdmin, web_state
from web.pages.common import RowId, not_found, see_other
from web.pages.tasks import local_today
from web.rendering import render
from web.services import imports

router = APIRouter()
log = structlog.get_logger(__name__)


@router.get("/imports")
def imports_page(request: Request, db: Db, principal: PageAdmin) -> HTMLResponse:
    uploads = imports.recent_uploads(db, principal.workspace_id)
    return render(request, "imports.html", principal, {"uploads": uploads})


async def read_upload(file: UploadFile, max_bytes: int) -> bytes:
    """Read at most one byte past the limit, so an oversized file is not kept."""
    return await file.read(max_bytes + 1)


@router.post("/imports")
async def imports_upload(
    request: Request,
    db: Db,
    principal: FormAdmin,
    file: Annotated[UploadFile, File()],
    kind: Annotated[UploadKind, Form()] = UploadKind.SOURCES,
) -> Response:
    max_bytes = web_state(request).config.upload_max_bytes
    data = await read_upload(file, max_bytes)
    try:
        upload = imports.store_upload(
            db,
            principal.workspace_id,
            principal.user_id,
            file.filename or f"{kind.value}.csv",
            data,
            max_bytes,
            kind,
        )
    except imports.UploadError as error:
        log.warning("upload rejected", user_id=principal.user_id, error=str(error))
        uploads = imports.recent_uploads(db, principal.workspace_id)
        context = {"uploads": uploads, "error": str(error)}
        return render(request, "imports.html", principal, context, 400)
    db.commit()
    return see_other(f"/imports/{upload.id}")


@router.get("/imports/{upload_id}")
def import_preview(
    request: Request, db: Db, principal: PageAdmin, upload_id: RowId
) -> HTMLResponse:
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
    context = {"upload": upload, "preview": preview}
    return render(request, "import_preview.html", principal, context)


@router.post("/imports/{upload_id}/confirm")
def import_confirm(
    request: Request, db: Db, principal: FormAdmin, upload_id: RowId
) -> Response:
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
    return see_other(f"/imports/{upload.id}")
