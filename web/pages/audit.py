"""The audit log page for admins: filter by action and date, page, export CSV.

Dates are calendar days in UTC, both ends included.  The CSV download is
the same file as `warmline audit export` writes, and is itself audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from warmline import audit
from warmline.models import Workspace
from web.auth import Db, PageAdmin, Principal, web_state
from web.rendering import render

router = APIRouter()

PAGE_SIZE = 50

# Actions are dotted lower-case names such as "account.purge".
ActionParam = Annotated[str, Query(max_length=64, pattern=r"^[a-z_.]*$")]
DateParam = Annotated[str, Query(max_length=10)]


@dataclasses.dataclass(frozen=True)
class AuditQuery:
    """The filter as typed, kept to fill the form and the page links."""

    action: str
    since: str
    until: str

    def record_filter(self) -> audit.RecordFilter:
        since = _parse_day(self.since, "from")
        until = _parse_day(self.until, "to")
        if since is not None and until is not None and until < since:
            raise HTTPException(
                400, f"The date 'to' ({self.until}) is before 'from' ({self.since})."
            )
        return audit.RecordFilter(
            action=self.action or None,
            since=_start_of(since),
            until=_start_of(until + dt.timedelta(days=1)) if until else None,
        )


def _parse_day(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise HTTPException(
            400, f"Invalid date {value!r} for '{field}'; use YYYY-MM-DD."
        ) from error


def _start_of(day: dt.date | None) -> dt.datetime | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@router.get("/audit")
def audit_page(
    request: Request,
    db: Db,
    principal: PageAdmin,
    action: ActionParam = "",
    since: DateParam = "",
    until: DateParam = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    search = AuditQuery(action, since, until)
    found = audit.query_records(
        db,
        principal.workspace_id,
        search.record_filter(),
        newest_first=True,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    context = {
        "records": [
            (entry.occurred_at, audit.record_row(entry)) for entry in found[:PAGE_SIZE]
        ],
        "has_next": len(found) > PAGE_SIZE,
        "page": page,
        "search": search,
        "actions": audit.recorded_actions(db, principal.workspace_id),
    }
    return render(request, "audit.html", principal, context)


@router.get("/audit.csv")
def audit_csv(
    request: Request,
    db: Db,
    principal: PageAdmin,
    action: ActionParam = "",
    since: DateParam = "",
    until: DateParam = "",
) -> Response:
    """Download the matching records as CSV, oldest first, and audit the export."""
    search = AuditQuery(action, since, until)
    records = audit.query_records(db, principal.workspace_id, search.record_filter())
    buffer = io.StringIO()
    count = audit.write_csv(records, buffer)
    _record_export(db, principal, search, count)
    db.commit()
    day = web_state(request).config.clock().strftime("%Y%m%d")
    return Response(
        # A byte-order mark, as in the command's export, so Excel reads UTF-8.
        content="\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="warmline-audit-{day}.csv"'
        },
    )


def _record_export(
    db: Session, principal: Principal, search: AuditQuery, count: int
) -> None:
    details: dict[str, object] = {"format": "csv", "rows": count, "via": "web"}
    details.update({key: value for key, value in vars(search).items() if value})
    workspace = db.get_one(Workspace, principal.workspace_id)
    audit.record(
        db,
        principal.email,
        audit.AUDIT_EXPORT,
        f"workspace:{workspace.id}",
        details,
        workspace=workspace,
    )
