"""Helpers shared by the page routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Path, Request
from fastapi.responses import RedirectResponse

# Ids beyond a 32-bit integer name no row, and PostgreSQL rejects them in
# an integer comparison, so they are refused before any query.
MAX_ID = 2_147_483_647
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def see_other(url: str) -> RedirectResponse:
    """Redirect after a POST, so reloading the page does not repeat it."""
    return RedirectResponse(url, status_code=303)


def not_found(what: str) -> HTTPException:
    return HTTPException(404, f"No {what} with that id in your workspace.")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def local_path(target: str | None) -> str:
    """Return `target` if it is a path on this site, else '/' (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target:
        return "/"
    return target
