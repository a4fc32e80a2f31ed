"""Sources pages: search and filter, and one source's timeline and people."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from warmline.models import SourceKind
from web.auth import Db, PageUser, web_state
from web.pages.common import MAX_ID, RowId, not_found
from web.rendering import render
from web.services.sources import (
    SourceSearch,
    get_source,
    monthly_referrals,
    owners,
    referrals_bar_chart,
    search_sources,
    sources_by_id,
)
from web.services.touchpoints import TouchpointFilter, list_touchpoints
from web.summaries import kept_listing_order
from web.text import clean_text

router = APIRouter()

PAGE_SIZE = 100
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
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    # Empty select boxes submit '', so owner and type are read as text.
    owner_id = int(owner) if owner.isdigit() and 0 < int(owner) <= MAX_ID else None
    kind = SourceKind(type) if type in {kind.value for kind in SourceKind} else None
    search = SourceSearch(clean_text(q).strip(), owner_id, kind)
    now = web_state(request).config.clock()
    offset = (page - 1) * PAGE_SIZE
    if search == SourceSearch():
        order = kept_listing_order(
            web_state(request).kept, db, principal.workspace_id, now
        )
        ids = order[offset : offset + PAGE_SIZE + 1]
        found = sources_by_id(db, principal.workspace_id, ids, now)
    else:
        found = search_sources(
            db, principal.workspace_id, search, now, PAGE_SIZE + 1, offset
        )
    context = {
        "sources": found[:PAGE_SIZE],
        "has_next": len(found) > PAGE_SIZE,
        "page": page,
        "search": search,
        "owners": owners(db, principal.workspace_id),
        "kinds": list(SourceKind),
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
