"""Jinja2 templates and the filters and shared values every page uses."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from web.auth import Principal, web_state
from web.summaries import kept_review_count

TEMPLATES = Path(__file__).parent / "templates"


def local_time(value: dt.datetime | None, zone: str = "UTC") -> str:
    """Format an aware datetime in a time zone, e.g. '2026-11-24 08:30 CST'."""
    if value is None:
        return ""
    return value.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def duration(value: dt.timedelta | None) -> str:
    """Format a timedelta coarsely: '45 minutes', '5 hours', '3 days'."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    if seconds < 3600:
        return f"{max(seconds // 60, 0)} minutes"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} hours"
    return f"{seconds // 86400} days"


def build_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["local_time"] = local_time
    templates.env.filters["duration"] = duration
    return templates


def render(
    request: Request,
    name: str,
    principal: Principal | None,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """Render a page with the signed-in user, CSRF token and review count."""
    state = web_state(request)
    values: dict[str, Any] = {"principal": principal, "pending_reviews": None}
    if principal is not None:
        values["pending_reviews"] = _pending_reviews(request, principal)
        values["csrf_token"] = principal.csrf_token
        values["zone"] = principal.timezone
    values.update(context or {})
    return state.templates.TemplateResponse(
        request, name, values, status_code=status_code
    )


def _pending_reviews(request: Request, principal: Principal) -> int:
    """Return the navigation's review count through the request's own session."""
    state = web_state(request)
    now = state.config.clock()
    db = getattr(request.state, "db", None)
    if isinstance(db, Session):
        return kept_review_count(
            web_state(request).kept, db, principal.workspace_id, now
        )
    with state.sessions() as session:
        return kept_review_count(
            web_state(request).kept, session, principal.workspace_id, now
        )
