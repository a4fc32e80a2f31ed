"""Follow-up events on an Outlook calendar through Microsoft Graph.

Each event carries Warmline's key twice: as the `transactionId` of the
create request, which Graph uses to ignore a repeated POST of the same
event, and in a single-value extended property (`KEY_PROPERTY_ID`), which
`$filter` can search.  Writing needs Calendars.ReadWrite.  The busy times
come from the calendar view: every event counts unless it is cancelled or
shown as free or working elsewhere.  Times go out and come back in UTC
(`Prefer: outlook.timezone="UTC"`).

NOTE: Graph's documentation does not say how long it remembers a
transactionId.  A follow-up handed away and back places a new event under
the same key on the first calendar, which Graph might take for a repeat of
the first, deleted event; the emulator forgets deleted events at once.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any

import httpx

from connectors.calendar import load_iana_zone
from connectors.calendar.timezones import iana_name_for_windows_id
from connectors.errors import MalformedData, RemoteGone
from connectors.microsoft.client import GraphClient
from connectors.placement import KEY_PROPERTY, EventDraft, PlacedEvent

KEY_PROPERTY_ID = f"String {{5b7e6f0a-3c1d-4e8b-9f2a-6d4c8b1e0a37}} Name {KEY_PROPERTY}"
"""Graph's id of the extended property: type, Warmline's property set, name."""

UTC_TIMES = 'outlook.timezone="UTC"'
FREE_STATES = frozenset({"free", "workingelsewhere"})
_EVENT_FIELDS = "id,start,end,isCancelled,isAllDay"


class GraphWriteClient(GraphClient):
    """A GraphClient that also sends POST, PATCH and DELETE requests."""

    def send_json(
        self, method: str, url: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send one request; return its JSON object, or {} for 204 No Content."""
        response: httpx.Response = self._send(
            method, url, prefer=(UTC_TIMES,), json_body=body
        )
        if response.status_code == 204 or not response.content:
            return {}
        value = response.json()
        if not isinstance(value, dict):
            raise MalformedData(f"Graph {method} reply is not a JSON object")
        return value


class OutlookCalendarWriter:
    """Places follow-up events on one Outlook calendar ("" is the default one)."""

    def __init__(self, client: GraphWriteClient, calendar_id: str = "") -> None:
        self._client = client
        if calendar_id:
            self._calendar_path = "/calendars/" + _quote(calendar_id)
        else:
            self._calendar_path = "/calendar"

    def busy(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        params = {
            "startDateTime": _stamp(start),
            "endDateTime": _stamp(end),
            "$select": "start,end,showAs,isCancelled",
            "$top": "200",
        }
        url: str | None = self._client.url(
            self._calendar_path + "/calendarView", params
        )
        spans = []
        while url:
            page = self._client.get(url, prefer=(UTC_TIMES,))
            for item in page.get("value", []):
                if item.get("isCancelled"):
                    continue
                if str(item.get("showAs", "busy")).lower() in FREE_STATES:
                    continue
                begin, finish = _moment(item.get("start")), _moment(item.get("end"))
                if begin is not None and finish is not None:
                    spans.append((begin, finish))
            url = page.get("@odata.nextLink")
        return spans

    def find(self, key: str) -> PlacedEvent | None:
        condition = (
            f"singleValueExtendedProperties/Any(ep: ep/id eq '{KEY_PROPERTY_ID}' "
            f"and ep/value eq '{_odata_text(key)}')"
        )
        params = {"$filter": condition, "$select": _EVENT_FIELDS}
        url = self._client.url(self._calendar_path + "/events", params)
        page = self._client.get(url, prefer=(UTC_TIMES,))
        for item in page.get("value", []):
            if not item.get("isCancelled"):
                return _placed(item)
        return None

    def get(self, event_id: str) -> PlacedEvent | None:
        url = self._client.url(
            f"/events/{_quote(event_id)}", {"$select": _EVENT_FIELDS}
        )
        try:
            item = self._client.get(url, prefer=(UTC_TIMES,))
        except RemoteGone:
            return None
        if item.get("isCancelled"):
            return None
        return _placed(item)

    def create(self, draft: EventDraft) -> PlacedEvent:
        body = {
            **_text(draft),
            **_times(draft),
            "showAs": "busy",
            "transactionId": draft.key,
            "singleValueExtendedProperties": [
                {"id": KEY_PROPERTY_ID, "value": draft.key}
            ],
        }
        url = self._client.url(self._calendar_path + "/events")
        return _placed(self._client.send_json("POST", url, body))

    def update(self, event_id: str, draft: EventDraft, move: bool) -> PlacedEvent:
        body = {**_text(draft), **(_times(draft) if move else {})}
        url = self._client.url(f"/events/{_quote(event_id)}")
        return _placed(self._client.send_json("PATCH", url, body))

    def delete(self, event_id: str) -> None:
        url = self._client.url(f"/events/{_quote(event_id)}")
        try:
            self._client.send_json("DELETE", url)
        except RemoteGone:
            return

    def close(self) -> None:
        self._client.close()


def _text(draft: EventDraft) -> dict[str, Any]:
    return {
        "subject": draft.summary,
        "body": {"contentType": "text", "content": draft.description},
    }


def _times(draft: EventDraft) -> dict[str, Any]:
    return {
        "start": {"dateTime": _local_stamp(draft.start), "timeZone": "UTC"},
        "end": {"dateTime": _local_stamp(draft.end), "timeZone": "UTC"},
    }


def _placed(item: dict[str, Any]) -> PlacedEvent:
    event_id = item.get("id")
    if not isinstance(event_id, str):
        raise MalformedData("a Graph event reply has no id")
    if item.get("isAllDay"):
        return PlacedEvent(event_id, None, None)
    return PlacedEvent(event_id, _moment(item.get("start")), _moment(item.get("end")))


def _moment(value: Any) -> dt.datetime | None:
    """Return a Graph dateTimeTimeZone value as an aware UTC datetime."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    name = str(value.get("timeZone") or "UTC")
    zone = load_iana_zone(name) or load_iana_zone(iana_name_for_windows_id(name) or "")
    if zone is None:
        raise MalformedData(f"time zone {name!r} in a Graph event is unknown")
    try:
        # Graph writes seven fractional digits, one more than Python reads.
        naive = dt.datetime.fromisoformat(str(value["dateTime"])[:26])
    except ValueError as error:
        raise MalformedData(
            f"time {value['dateTime']!r} in a Graph event is invalid"
        ) from error
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)


def _local_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quote(item_id: str) -> str:
    return urllib.parse.quote(item_id, safe="")


def _odata_text(value: str) -> str:
    """Escape a value for a single-quoted OData string literal."""
    return value.replace("'", "''")
