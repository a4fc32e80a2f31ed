"""Calendar v3 handler: events.list with full listings and sync tokens.

A full listing returns the confirmed and tentative events that overlap
[timeMin, timeMax).  A sync token round returns every event changed since
the token was issued, cancelled ones reduced to the fields Google keeps
for them.  `nextSyncToken` appears on the last page only; when nothing
changed, the same token value comes back.  A sync token together with
`timeMin`, `timeMax`, `orderBy`, `q`, `iCalUID`, `updatedMin`, the
extended-property filters or `showDeleted=false` is rejected with 400,
and a token issued before `invalidate_sync_tokens` gets 410.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import zoneinfo
from typing import TYPE_CHECKING, Any

from tests.emulators.google.responses import (
    ApiError,
    error_body,
    error_response,
    json_response,
)
from tests.emulators.google.state import Calendar

if TYPE_CHECKING:
    from tests.emulators.google.server import Call

FORBIDDEN_WITH_SYNC_TOKEN = (
    "timeMin",
    "timeMax",
    "orderBy",
    "q",
    "iCalUID",
    "updatedMin",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)
_CANCELLED_FIELDS = (
    "kind",
    "etag",
    "id",
    "status",
    "recurringEventId",
    "originalStartTime",
)


def list_events(
    calendar: Calendar, call: Call, empty_page: bool = False
) -> dict[str, Any]:
    size = max(1, min(int(call.param("maxResults", "250") or 250), 2500))
    sync_token = call.param("syncToken")
    with calendar.lock:
        if sync_token:
            _check_sync_query(call)
            since = _token_sequence(calendar, sync_token)
            selected = [
                _incremental_form(event)
                for event_id, event in calendar.events.items()
                if calendar.changed_at[event_id] > since
            ]
        else:
            selected = _full_listing(calendar, call)
        current = calendar.sequence
        generation = calendar.generation
        time_zone = calendar.time_zone
    offset = _page_offset(call.param("pageToken"))
    result: dict[str, Any] = {
        "kind": "calendar#events",
        "summary": calendar.id,
        "timeZone": time_zone,
        "items": [] if empty_page else selected[offset : offset + size],
    }
    if empty_page:
        result["nextPageToken"] = _encode({"offset": offset})
    elif offset + size < len(selected):
        result["nextPageToken"] = _encode({"offset": offset + size})
    else:
        result["nextSyncToken"] = _encode({"seq": current, "gen": generation})
    return result


def _check_sync_query(call: Call) -> None:
    forbidden = [name for name in FORBIDDEN_WITH_SYNC_TOKEN if call.param(name)]
    if call.param("showDeleted") == "false":
        forbidden.append("showDeleted")
    if forbidden:
        message = "Sync token cannot be used with other request restrictions."
        raise ApiError(error_response(400, message, "syncTokenWithRequestRestrictions"))


def _token_sequence(calendar: Calendar, token: str) -> int:
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode()))
        sequence, generation = int(value["seq"]), int(value["gen"])
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError(
            error_response(400, "Invalid sync token value.", "invalid")
        ) from error
    if generation != calendar.generation:
        message = "Sync token is no longer valid, a full sync is required."
        if calendar.invalidation_has_reason:
            raise ApiError(error_response(410, message, "fullSyncRequired"))
        body = error_body(410, message)
        raise ApiError(json_response(410, body))
    return sequence


def _full_listing(calendar: Calendar, call: Call) -> list[dict[str, Any]]:
    show_deleted = call.param("showDeleted") == "true"
    low = _moment(call.param("timeMin"))
    high = _moment(call.param("timeMax"))
    selected = []
    for event in calendar.events.values():
        if event.get("status") == "cancelled" and not show_deleted:
            continue
        start, end = _span(event, calendar.time_zone)
        if start is None:
            continue
        if high is not None and start >= high:
            continue
        if low is not None and (end or start) <= low:
            continue
        selected.append(event)
    return selected


def _incremental_form(event: dict[str, Any]) -> dict[str, Any]:
    if event.get("status") != "cancelled":
        return event
    return {name: event[name] for name in _CANCELLED_FIELDS if name in event}


def _span(
    event: dict[str, Any], time_zone: str
) -> tuple[dt.datetime | None, dt.datetime | None]:
    return _event_time(event.get("start"), time_zone), _event_time(
        event.get("end"), time_zone
    )


def _event_time(value: Any, time_zone: str) -> dt.datetime | None:
    if not isinstance(value, dict):
        return None
    if "dateTime" in value:
        return dt.datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
    if "date" in value:
        day = dt.date.fromisoformat(value["date"])
        return dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(time_zone))
    return None


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _page_offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise ApiError(
            error_response(400, "Invalid page token value.", "invalid")
        ) from error


def _encode(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
