"""Calendar v3 handlers: events.list with full listings and sync tokens,
events.get, insert, patch and delete, and freeBusy.query.

A full listing returns the confirmed and tentative events that overlap
[timeMin, timeMax).  A sync token round returns every event changed since
the token was issued, cancelled ones reduced to the fields Google keeps
for them.  `nextSyncToken` appears on the last page only; when nothing
changed, the same token value comes back.  A sync token together with
`timeMin`, `timeMax`, `orderBy`, `q`, `iCalUID`, `updatedMin`, the
extended-property filters or `showDeleted=false` is rejected with 400,
and a token issued before `invalidate_sync_tokens` gets 410.

Writes need the calendar or calendar.events scope (403
insufficientPermissions otherwise).  A deleted event stays as a cancelled
entry: events.get still returns it, while patching or deleting it again
gets 410 "Resource has been deleted".  A full listing filters on
`privateExtendedProperty=name=value`.  freeBusy.query reports the
confirmed and tentative events that are not transparent.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import zoneinfo
from typing import TYPE_CHECKING, Any

from tests.emulators.google.responses import (
    ApiError,
    Response,
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
    filters = [
        _property_filter(text) for text in call.params("privateExtendedProperty")
    ]
    selected = []
    for event in calendar.events.values():
        if event.get("status") == "cancelled" and not show_deleted:
            continue
        private = (event.get("extendedProperties") or {}).get("private") or {}
        if any(private.get(name) != value for name, value in filters):
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


# --- writes and free/busy ---------------------------------------------------------

WRITE_SCOPES = frozenset(
    {
        "https://www.googleapis.com/auth/calendar",
        "https://www.googleapis.com/auth/calendar.events",
    }
)
WRITE_METHODS = frozenset({"events.insert", "events.patch", "events.delete"})
_event_numbers = itertools.count(1)


def resolve_method(route: str, http_method: str) -> str:
    """Return the API method of a calendar route for an HTTP method."""
    if route == "events.list" and http_method == "POST":
        return "events.insert"
    if route == "events.get":
        return {"PATCH": "events.patch", "DELETE": "events.delete"}.get(
            http_method, route
        )
    return route


def handle(calendar: Calendar, call: Call, event_id: str | None) -> Any:
    """Handle events.get, insert, patch or delete on `calendar`."""
    if call.method in WRITE_METHODS and not WRITE_SCOPES & set(call.scopes):
        raise ApiError(
            error_response(
                403,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
            )
        )
    if call.method == "events.insert":
        return _insert(calendar, _json_body(call))
    assert event_id is not None
    with calendar.lock:
        event = calendar.events.get(event_id)
        if event is None:
            raise ApiError(error_response(404, "Not Found", "notFound"))
        if call.method == "events.get":
            return event
        if event.get("status") == "cancelled":
            raise ApiError(error_response(410, "Resource has been deleted", "deleted"))
        if call.method == "events.delete":
            calendar.cancel(event_id)
            return Response(204)
        changed = {**event, **_json_body(call), "id": event_id}
        calendar.put(changed)
        return calendar.events[event_id]


def _insert(calendar: Calendar, body: dict[str, Any]) -> dict[str, Any]:
    for name in ("start", "end"):
        if not isinstance(body.get(name), dict):
            raise ApiError(error_response(400, f"Missing {name} time.", "required"))
    with calendar.lock:
        event_id = body.get("id") or f"wl{next(_event_numbers):08d}emu"
        if event_id in calendar.events:
            raise ApiError(
                error_response(
                    409, "The requested identifier already exists.", "duplicate"
                )
            )
        calendar.put({**body, "id": event_id, "status": "confirmed"})
        return calendar.events[event_id]


def requested_calendars(call: Call) -> list[str]:
    """Return the calendar ids that a freeBusy.query body requests."""
    items = _json_body(call).get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(error_response(400, "Missing items.", "required"))
    return [str(item.get("id", "")) for item in items if isinstance(item, dict)]


def free_busy(calendars: dict[str, Calendar | None], call: Call) -> dict[str, Any]:
    """Handle freeBusy.query for the requested calendars of the caller."""
    body = _json_body(call)
    low = _moment(body.get("timeMin"))
    high = _moment(body.get("timeMax"))
    if low is None or high is None:
        raise ApiError(error_response(400, "Missing timeMin or timeMax.", "required"))
    result: dict[str, Any] = {}
    for calendar_id, calendar in calendars.items():
        if calendar is None:
            result[calendar_id] = {
                "errors": [{"domain": "global", "reason": "notFound"}]
            }
            continue
        result[calendar_id] = {"busy": _busy(calendar, low, high)}
    return {
        "kind": "calendar#freeBusy",
        "timeMin": body["timeMin"],
        "timeMax": body["timeMax"],
        "calendars": result,
    }


def _busy(
    calendar: Calendar, low: dt.datetime, high: dt.datetime
) -> list[dict[str, str]]:
    spans = []
    with calendar.lock:
        for event in calendar.events.values():
            if event.get("status") == "cancelled":
                continue
            if event.get("transparency") == "transparent":
                continue
            start, end = _span(event, calendar.time_zone)
            if start is None or end is None or start >= high or end <= low:
                continue
            spans.append((max(start, low), min(end, high)))
    return [
        {"start": _stamp(start), "end": _stamp(end)} for start, end in sorted(spans)
    ]


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_body(call: Call) -> dict[str, Any]:
    try:
        value = json.loads(call.body or b"{}")
    except ValueError as error:
        raise ApiError(error_response(400, "Parse Error", "parseError")) from error
    if not isinstance(value, dict):
        raise ApiError(error_response(400, "Parse Error", "parseError"))
    return value


def _property_filter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator:
        raise ApiError(
            error_response(400, "Invalid extended property filter.", "invalid")
        )
    return name, value
