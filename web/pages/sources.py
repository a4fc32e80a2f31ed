"""Sources pages: search and filter, and one source's timeline and people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from warmline.models import SourceKind
from warmline.workspaces import workspace_settings
from web.auth import Db, PageUser, web_state
from web.pages.common import MAX_ID, RowId, not_found
from web.rendering import render
from web.services.sources import (
    TIERS,
    SourceSearch,
    SourceStatus,
    get_source,
    monthly_referrals,
    owners,
    referrals_bar_chart,
)
from web.services.touchpoints import TouchpointFilter, list_touchpoints
from web.summaries import find_sources
from web.text import clean_text

router = APIRouter()

PAGE_SIZE = 100
STATUS_LABELS = {"cold": "going cold", "warm": "warm", "never": "never touched"}
TIMELINE_SIZE = 50
"""Touchpoints per page of a source's timeline, newest first."""


@router.get("/sources")
def sources_page(
    request: Request,
    db: Db,
    principal: PageUser,
    q: Annotated[str, Query(max_length=200)] = "",
    owner: Annotated[str, Query(max_length=12)] = "",
    type: Annotated[str, Query(max_length=20)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    tier: Annotated[str, Query(max_length=20)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    # Empty select boxes submit '', so the filters are read as text, and a
    # value that names nothing is read as any.
    owner_id = int(owner) if owner.isdigit() and 0 < int(owner) <= MAX_ID else None
    kind = SourceKind(type) if type in {kind.value for kind in SourceKind} else None
    search = SourceSearch(
        clean_text(q).strip(),
        owner_id,
        kind,
        SourceStatus(status) if status in set(SourceStatus) else None,
        next((value for value in TIERS if value == tier), None),
    )
    now = web_state(request).config.clock()
    offset = (page - 1) * PAGE_SIZE
    kept_results = web_state(request).kept
    settings = workspace_settings(db, principal.workspace_id)
    found = find_sources(
        kept_results, db, principal.workspace_id, search, now, PAGE_SIZE + 1, offset
    )
    context = {
        "sources": found[:PAGE_SIZE],
        "has_next": len(found) > PAGE_SIZE,
        "page": page,
        "search": search,
        "owners": owners(db, principal.workspace_id),
        "kinds": list(SourceKind),
        "statuses": list(SourceStatus),
        "status_labels": STATUS_LABELS,
        "tiers": TIERS,
        "tier_1": settings["tier_1_referrals"],
        "tier_2": settings["tier_2_referrals"],
    }
    return render(request, "sources.html", principal, context)


@router.get("/sources/{source_id}")
def source_page(
    request: Request,
    db: Db,
    principal: PageUser,
    source_id: RowId,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    now = web_state(request).config.clock()
    detail = get_source(db, principal.workspace_id, source_id, now)
    if detail is None:
        raise not_found("source")
    timeline = list_touchpoints(
        db,
        principal.workspace_id,
        TouchpointFilter(source_id=source_id),
        limit=TIMELINE_SIZE + 1,
        offset=(page - 1) * TIMELINE_SIZE,
    )
    starts, counts = monthly_referrals(db, principal.workspace_id, detail.source, now)
    context = {
        "detail": detail,
        "timeline": timeline[:TIMELINE_SIZE],
        "timeline_page": page,
        "timeline_has_next": len(timeline) > TIMELINE_SIZE,
        "referrals": referrals_bar_chart(detail.source.name, starts, counts),
    }
    return render(request, "source.html", principal, context)
