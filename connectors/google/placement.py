"""Follow-up events on a Google calendar: Calendar v3 events and freeBusy.

Each event carries Warmline's key in a private extended property
(`extendedProperties.private`), which only this OAuth client sees and which
`events.list` can filter on with `privateExtendedProperty=name=value`.
Writing needs the calendar.events scope; freeBusy also works with
calendar.readonly.  A deleted event stays in Google as a cancelled entry,
and a request to change or delete it again gets 410 Gone, which the client
translates to CursorExpired; the writer treats both as "gone".

NOTE: an `events.insert` that timed out after Google created the event is
retried by the client's retry policy and can then create a second event.
The key lets the next run find the first one, yet the duplicate stays.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from connectors.errors import CursorExpired, MalformedData, RemoteGone
from connectors.google.client import (
    CALENDAR_API,
    ApiClient,
    CredentialsFactory,
    Resource,
)
from connectors.google.config import GoogleSettings
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy
from connectors.placement import KEY_PROPERTY, EventDraft, PlacedEvent


class GoogleCalendarWriter:
    """Places follow-up events on one Google calendar (`calendar_id`)."""

    def __init__(
        self,
        credentials: CredentialsFactory,
        settings: GoogleSettings,
        calendar_id: str = "primary",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        regime = settings.calendar_quota
        budget = QuotaBudget(
            max(1, int(regime.units_per_minute * settings.quota_share)),
            settings.quota_window,
        )
        retry = RetryPolicy(settings.retry, sleep, budget.hold)
        self.calendar_id = calendar_id
        self._client = ApiClient(
            CALENDAR_API,
            settings.calendar_endpoint,
            credentials(),
            settings,
            regime,
            budget,
            retry,
        )

    def busy(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        body = {
            "timeMin": _rfc3339(start),
            "timeMax": _rfc3339(end),
            "items": [{"id": self.calendar_id}],
        }
        response = self._call(
            "freebusy.query", lambda service: service.freebusy().query(body=body)
        )
        calendars = response.get("calendars") or {}
        found = calendars.get(self.calendar_id)
        if found is None and len(calendars) == 1:
            # Google names "primary" by the calendar's address in the reply.
            found = next(iter(calendars.values()))
        if not isinstance(found, dict):
            raise MalformedData("freeBusy reply lacks the requested calendar")
        if found.get("errors"):
            reason = found["errors"][0].get("reason", "unknown")
            raise MalformedData(f"freeBusy failed for the calendar: {reason}")
        return [
            (_parse_moment(item["start"]), _parse_moment(item["end"]))
            for item in found.get("busy", [])
        ]

    def find(self, key: str) -> PlacedEvent | None:
        response = self._call(
            "events.list",
            lambda service: service.events().list(
                calendarId=self.calendar_id,
                privateExtendedProperty=f"{KEY_PROPERTY}={key}",
                maxResults=10,
            ),
        )
        for item in response.get("items", []):
            if item.get("status") != "cancelled":
                return _placed(item)
        return None

    def get(self, event_id: str) -> PlacedEvent | None:
        try:
            item = self._call(
                "events.get",
                lambda service: service.events().get(
                    calendarId=self.calendar_id, eventId=event_id
                ),
            )
        except (RemoteGone, CursorExpired):
            return None
        if item.get("status") == "cancelled":
            return None
        return _placed(item)

    def create(self, draft: EventDraft) -> PlacedEvent:
        body = {
            **_text(draft),
            **_times(draft),
            "extendedProperties": {"private": {KEY_PROPERTY: draft.key}},
            "reminders": {"useDefault": True},
        }
        item = self._call(
            "events.insert",
            lambda service: service.events().insert(
                calendarId=self.calendar_id, body=body
            ),
        )
        return _placed(item)

    def update(self, event_id: str, draft: EventDraft, move: bool) -> PlacedEvent:
        body = {**_text(draft), **(_times(draft) if move else {})}
        try:
            item = self._call(
                "events.patch",
                lambda service: service.events().patch(
                    calendarId=self.calendar_id, eventId=event_id, body=body
                ),
            )
        except CursorExpired as error:
            raise RemoteGone(f"event {event_id} was deleted") from error
        if item.get("status") == "cancelled":
            raise RemoteGone(f"event {event_id} was deleted")
        return _placed(item)

    def delete(self, event_id: str) -> None:
        try:
            self._call(
                "events.delete",
                lambda service: service.events().delete(
                    calendarId=self.calendar_id, eventId=event_id
                ),
            )
        except (RemoteGone, CursorExpired):
            return

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, build: Callable[[Resource], Any]) -> dict[str, Any]:
        response = self._client.execute(method, build, method)
        # events.delete returns an empty body, which googleapiclient gives as "".
        return response if isinstance(response, dict) else {}


def _text(draft: EventDraft) -> dict[str, Any]:
    return {"summary": draft.summary, "description": draft.description}


def _times(draft: EventDraft) -> dict[str, Any]:
    return {
        "start": {"dateTime": _rfc3339(draft.start), "timeZone": draft.time_zone},
        "end": {"dateTime": _rfc3339(draft.end), "timeZone": draft.time_zone},
    }


def _placed(item: dict[str, Any]) -> PlacedEvent:
    event_id = item.get("id")
    if not isinstance(event_id, str):
        raise MalformedData("a Calendar event reply has no id")
    return PlacedEvent(
        event_id, _event_moment(item.get("start")), _event_moment(item.get("end"))
    )


def _event_moment(value: Any) -> dt.datetime | None:
    """Return a timed event's start or end; None for an all-day date."""
    if not isinstance(value, dict) or "dateTime" not in value:
        return None
    return _parse_moment(value["dateTime"])


def _parse_moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise MalformedData(f"time {text!r} in a Calendar reply is invalid") from error
    if moment.tzinfo is None:
        raise MalformedData(f"time {text!r} in a Calendar reply has no offset")
    return moment.astimezone(dt.UTC)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
