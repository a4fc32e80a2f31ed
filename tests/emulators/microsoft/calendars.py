"""Calendars of one mailbox: single events, series with occurrences, changes.

A calendar-view delta round lists the instances (single events, occurrences
and exceptions; never series masters) that overlap the round's window.  The
next round returns what changed since, with these Graph behaviours:

- a change to a series master (including the deletion of one occurrence)
  lists every remaining instance of the series again, and a deleted
  occurrence is not reported at all;
- a changed exception lists that instance alone;
- a deleted single event or series gives `@removed` for its instances;
- an event that changed and now lies outside the window comes back as a
  stub with null fields.

`write_route` answers what Warmline's follow-up placement sends: creating
(POST .../events), changing (PATCH /events/{id}) and deleting (DELETE
/events/{id}) single events, which needs Calendars.ReadWrite; the calendar
view (GET .../calendarView) with each instance's `showAs`; and an events
listing filtered on a single-value extended property.  A POST that repeats
the `transactionId` of an event still in the store returns that event and
creates none.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import re
import secrets
import zoneinfo
from typing import TYPE_CHECKING, Any

from tests.emulators.microsoft.identity import Response

if TYPE_CHECKING:
    from tests.emulators.microsoft.mailbox import Mailbox
    from tests.emulators.microsoft.server import Request

EVENT_PREFIX = "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AEvent"

# The few Windows zone names the emulator presents times in.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "Pacific Standard Time": "America/Los_Angeles",
    "Eastern Standard Time": "America/New_York",
    "W. Europe Standard Time": "Europe/Berlin",
}


def _new_event_id() -> str:
    return EVENT_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(33)).decode()


def _new_uid() -> str:
    return "040000008200E00074C5B7101A82E008" + secrets.token_hex(28).upper()


@dataclasses.dataclass
class Calendar:
    id: str
    name: str
    is_default: bool = False


@dataclasses.dataclass
class Event:
    """A single event or a series master with its overrides."""

    id: str
    calendar_id: str
    ical_uid: str
    subject: str | None
    start: dt.datetime
    end: dt.datetime
    organizer: dict[str, Any] | None
    attendees: list[dict[str, Any]]
    time_zone: str = "UTC"
    is_all_day: bool = False
    is_cancelled: bool = False
    response: str = "organizer"
    location: str | None = None
    every: dt.timedelta | None = None  # set for a series
    count: int = 0
    exceptions: dict[dt.datetime, dict[str, Any]] = dataclasses.field(
        default_factory=dict
    )
    deleted: set[dt.datetime] = dataclasses.field(default_factory=set)
    seq: int = 0
    body: str = ""
    show_as: str = "busy"
    transaction_id: str | None = None
    properties: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def is_series(self) -> bool:
        return self.every is not None


@dataclasses.dataclass
class Change:
    seq: int
    calendar_id: str
    kind: str  # single, series, occurrence, removed
    event_id: str
    original_start: dt.datetime | None = None
    removed_ids: tuple[str, ...] = ()


class CalendarStore:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.calendars: dict[str, Calendar] = {}
        self.events: dict[str, Event] = {}
        self.changes: list[Change] = []
        self.occurrence_index: dict[str, tuple[str, dt.datetime]] = {}
        # Items served as they are in full rounds of the default calendar,
        # for shapes the model does not produce (null organizer, bad addresses).
        self.raw_items: list[dict[str, Any]] = []
        self.add_calendar("Calendar", default=True)

    @property
    def default(self) -> Calendar:
        return next(c for c in self.calendars.values() if c.is_default)

    def add_calendar(self, name: str, default: bool = False) -> Calendar:
        calendar = Calendar("AAMkACal" + secrets.token_hex(20), name, default)
        self.calendars[calendar.id] = calendar
        return calendar

    # --- changes ----------------------------------------------------------

    def add_event(
        self,
        *,
        subject: str | None,
        start: dt.datetime,
        end: dt.datetime,
        organizer: dict[str, Any] | None,
        attendees: list[dict[str, Any]] | None = None,
        calendar_id: str | None = None,
        every: dt.timedelta | None = None,
        count: int = 0,
        **options: Any,
    ) -> Event:
        with self.mailbox.lock:
            event = Event(
                id=_new_event_id(),
                calendar_id=calendar_id or self.default.id,
                ical_uid=_new_uid(),
                subject=subject,
                start=start,
                end=end,
                organizer=organizer,
                attendees=attendees or [],
                every=every,
                count=count,
                **options,
            )
            self.events[event.id] = event
            self._record(event, "series" if event.is_series else "single")
            return event

    def update_event(self, event_id: str, **fields: Any) -> None:
        with self.mailbox.lock:
            event = self.events[event_id]
            for name, value in fields.items():
                setattr(event, name, value)
            self._record(event, "series" if event.is_series else "single")

    def move_occurrence(
        self, series_id: str, original_start: dt.datetime, **overrides: Any
    ) -> None:
        """Make one occurrence an exception (moved, renamed or cancelled)."""
        with self.mailbox.lock:
            event = self.events[series_id]
            event.exceptions.setdefault(original_start, {}).update(overrides)
            self._record(event, "occurrence", original_start)

    def delete_occurrence(self, series_id: str, original_start: dt.datetime) -> None:
        """Delete one occurrence: Graph lists the series again and omits it."""
        with self.mailbox.lock:
            event = self.events[series_id]
            event.deleted.add(original_start)
            event.exceptions.pop(original_start, None)
            self._record(event, "series")

    def delete_event(self, event_id: str) -> None:
        with self.mailbox.lock:
            event = self.events.pop(event_id)
            removed = tuple(instance["id"] for instance in self.instances(event))
            seq = self.mailbox.next_seq()
            self.changes.append(
                Change(seq, event.calendar_id, "removed", event.id, None, removed)
            )

    def _record(
        self, event: Event, kind: str, original_start: dt.datetime | None = None
    ) -> None:
        event.seq = self.mailbox.next_seq()
        self.changes.append(
            Change(event.seq, event.calendar_id, kind, event.id, original_start)
        )

    # --- instances --------------------------------------------------------

    def occurrence_id(self, event: Event, original_start: dt.datetime) -> str:
        digest = hashlib.sha256(
            f"{event.id}/{original_start.isoformat()}".encode()
        ).digest()
        occurrence_id = (
            EVENT_PREFIX + base64.urlsafe_b64encode(digest + b"\x01").decode()
        )
        self.occurrence_index[occurrence_id] = (event.id, original_start)
        return occurrence_id

    def original_starts(self, event: Event) -> list[dt.datetime]:
        assert event.every is not None
        starts = [event.start + event.every * index for index in range(event.count)]
        return [start for start in starts if start not in event.deleted]

    def instances(self, event: Event) -> list[dict[str, Any]]:
        if not event.is_series:
            return [self.render(event)]
        return [
            self.render(event, original_start)
            for original_start in self.original_starts(event)
        ]

    def instance(self, instance_id: str) -> dict[str, Any] | None:
        event = self.events.get(instance_id)
        if event is not None:
            return self.render(event, master=event.is_series)
        found = self.occurrence_index.get(instance_id)
        if found is None or found[0] not in self.events:
            return None
        event = self.events[found[0]]
        if found[1] not in self.original_starts(event):
            return None
        return self.render(event, found[1])

    def render(
        self,
        event: Event,
        original_start: dt.datetime | None = None,
        master: bool = False,
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "subject": event.subject,
            "start": event.start,
            "end": event.end,
            "is_cancelled": event.is_cancelled,
        }
        item: dict[str, Any] = {
            "@odata.type": "#microsoft.graph.event",
            "@odata.etag": f'W/"{event.seq}"',
            "iCalUId": event.ical_uid,
        }
        if master:
            item.update(id=event.id, type="seriesMaster")
        elif original_start is None:
            item.update(id=event.id, type="singleInstance")
        else:
            override = event.exceptions.get(original_start, {})
            duration = event.end - event.start
            fields.update(start=original_start, end=original_start + duration)
            fields.update(override)
            occurrence_id = self.occurrence_id(event, original_start)
            # Each occurrence has its own iCalUId; only the master's is the series UID.
            own_uid = hashlib.sha1(occurrence_id.encode()).hexdigest().upper()
            item.update(
                id=occurrence_id,
                type="exception" if override else "occurrence",
                seriesMasterId=event.id,
                iCalUId=event.ical_uid[:32] + own_uid[:24],
                originalStart=original_start.astimezone(dt.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                originalStartTimeZone=event.time_zone,
            )
        item.update(
            subject=fields["subject"],
            isAllDay=event.is_all_day,
            isCancelled=fields["is_cancelled"],
            start=self._date_time(fields["start"], event),
            end=self._date_time(fields["end"], event),
            location={"displayName": event.location or ""},
            organizer=event.organizer,
            attendees=event.attendees,
            responseStatus={"response": event.response, "time": "0001-01-01T00:00:00Z"},
        )
        return item

    def _date_time(self, value: dt.datetime, event: Event) -> dict[str, str]:
        if event.is_all_day:
            text = value.strftime("%Y-%m-%dT00:00:00.0000000")
            return {"dateTime": text, "timeZone": event.time_zone}
        zone = zoneinfo.ZoneInfo(WINDOWS_ZONES.get(event.time_zone, event.time_zone))
        local = value.astimezone(zone)
        return {
            "dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"),
            "timeZone": event.time_zone,
        }

    # --- calendar view delta ----------------------------------------------

    def view_changes(
        self,
        calendar_id: str,
        window: tuple[dt.datetime, dt.datetime],
        since: int | None,
    ) -> list[dict[str, Any]]:
        """Return the items of one calendar-view delta round."""
        with self.mailbox.lock:
            if since is None:
                items = list(self.raw_items) if calendar_id == self.default.id else []
                for event in self.events.values():
                    if event.calendar_id == calendar_id:
                        items.extend(
                            i for i in self.instances(event) if overlaps(i, window)
                        )
                return items
            found: dict[str, dict[str, Any]] = {}
            for change in self.changes:
                if change.calendar_id != calendar_id or change.seq <= since:
                    continue
                for item in self._change_items(change, window):
                    found.pop(item["id"], None)
                    found[item["id"]] = item
            return list(found.values())

    def _change_items(
        self, change: Change, window: tuple[dt.datetime, dt.datetime]
    ) -> list[dict[str, Any]]:
        if change.kind == "removed":
            return [
                {"id": i, "@removed": {"reason": "deleted"}} for i in change.removed_ids
            ]
        event = self.events.get(change.event_id)
        if event is None:
            return []
        if change.kind == "single":
            item = self.render(event)
            return [item if overlaps(item, window) else _null_stub(event.id)]
        if change.kind == "series":
            return [i for i in self.instances(event) if overlaps(i, window)]
        assert change.original_start is not None
        if change.original_start not in self.original_starts(event):
            return []
        item = self.render(event, change.original_start)
        return [item if overlaps(item, window) else _null_stub(item["id"])]


def _null_stub(event_id: str) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.event",
        "id": event_id,
        "subject": None,
        "start": None,
        "end": None,
        "organizer": None,
        "attendees": None,
    }


def overlaps(item: dict[str, Any], window: tuple[dt.datetime, dt.datetime]) -> bool:
    start = _parse(item["start"])
    end = _parse(item["end"])
    return start < window[1] and end > window[0]


def _parse(value: dict[str, str]) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(WINDOWS_ZONES.get(value["timeZone"], value["timeZone"]))
    naive = dt.datetime.fromisoformat(value["dateTime"][:26])
    return naive.replace(tzinfo=zone)


# --- writes, calendar view and extended-property filters ----------------------------

WRITE_SCOPE = "Calendars.ReadWrite"
_PROPERTY_FILTER = re.compile(
    r"singleValueExtendedProperties/Any\(ep: ep/id eq '(?P<id>(?:[^']|'')*)' "
    r"and ep/value eq '(?P<value>(?:[^']|'')*)'\)"
)


def write_route(
    request: Request, store: CalendarStore, parts: list[str], scopes: frozenset[str]
) -> Response | None:
    """Handle a placement request, or return None for the read routes."""
    from tests.emulators.microsoft.graph import graph_error

    calendar_id, rest = _calendar_of(store, parts)
    if calendar_id is None:
        return None
    if request.method != "GET" and WRITE_SCOPE not in scopes:
        return graph_error(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    if rest == ["calendarView"] and request.method == "GET":
        return _calendar_view(request, store, calendar_id)
    if rest == ["events"] and request.method == "POST":
        return _create(request, store, calendar_id)
    if rest == ["events"] and "$filter" in request.query:
        return _filtered(request, store, calendar_id)
    if len(rest) == 2 and rest[0] == "events" and request.method in {"PATCH", "DELETE"}:
        event = store.events.get(rest[1])
        if event is None:
            return graph_error(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        if request.method == "DELETE":
            store.delete_event(event.id)
            return Response(204)
        return _update(request, store, event)
    return None


def _calendar_of(
    store: CalendarStore, parts: list[str]
) -> tuple[str | None, list[str]]:
    """Split a path into the calendar it names and the rest."""
    if parts[:1] == ["calendars"] and len(parts) >= 3:
        return (parts[1] if parts[1] in store.calendars else None), parts[2:]
    if parts[:1] == ["calendar"]:
        return store.default.id, parts[1:]
    if parts[:1] in (["events"], ["calendarView"]):
        return store.default.id, parts
    return None, parts


def _calendar_view(
    request: Request, store: CalendarStore, calendar_id: str
) -> Response:
    from tests.emulators.microsoft.graph import _window, graph_error

    window = _window(request.query)
    if window is None:
        return graph_error(
            400, "ErrorInvalidParameter", "startDateTime and endDateTime are required."
        )
    value = []
    with store.mailbox.lock:
        for event in store.events.values():
            if event.calendar_id != calendar_id:
                continue
            for item in store.instances(event):
                if overlaps(item, window):
                    value.append({**item, "showAs": event.show_as})
    return Response(200, {"value": value})


def _filtered(request: Request, store: CalendarStore, calendar_id: str) -> Response:
    from tests.emulators.microsoft.graph import graph_error

    match = _PROPERTY_FILTER.fullmatch(request.query["$filter"])
    if match is None:
        return graph_error(
            400,
            "BadRequest",
            "Invalid filter clause: the emulator reads one form only.",
        )
    property_id = match["id"].replace("''", "'")
    value = match["value"].replace("''", "'")
    with store.mailbox.lock:
        found = [
            store.render(event)
            for event in store.events.values()
            if event.calendar_id == calendar_id
            and event.properties.get(property_id) == value
        ]
    return Response(200, {"value": found})


def _create(request: Request, store: CalendarStore, calendar_id: str) -> Response:
    from tests.emulators.microsoft.graph import graph_error

    body = request.json or {}
    transaction_id = body.get("transactionId")
    with store.mailbox.lock:
        for event in store.events.values():
            if transaction_id and event.transaction_id == transaction_id:
                return Response(201, store.render(event))
        try:
            start, end = _written_time(body["start"]), _written_time(body["end"])
        except (KeyError, TypeError, ValueError):
            return graph_error(
                400,
                "ErrorInvalidRequest",
                "start and end must be dateTimeTimeZone values.",
            )
        user = store.mailbox.user
        event = store.add_event(
            subject=body.get("subject"),
            start=start,
            end=end,
            organizer={"emailAddress": {"name": user.name, "address": user.upn}},
            calendar_id=calendar_id,
            body=(body.get("body") or {}).get("content", ""),
            show_as=body.get("showAs", "busy"),
            transaction_id=transaction_id,
            properties={
                item["id"]: item["value"]
                for item in body.get("singleValueExtendedProperties", [])
            },
        )
        return Response(201, store.render(event))


def _update(request: Request, store: CalendarStore, event: Event) -> Response:
    body = request.json or {}
    fields: dict[str, Any] = {}
    if "subject" in body:
        fields["subject"] = body["subject"]
    if "body" in body:
        fields["body"] = (body["body"] or {}).get("content", "")
    for name in ("start", "end"):
        if name in body:
            fields[name] = _written_time(body[name])
    store.update_event(event.id, **fields)
    return Response(200, store.render(event))


def _written_time(value: dict[str, str]) -> dt.datetime:
    name = value.get("timeZone") or "UTC"
    zone = zoneinfo.ZoneInfo(WINDOWS_ZONES.get(name, name))
    naive = dt.datetime.fromisoformat(value["dateTime"][:26])
    return naive.replace(tzinfo=zone).astimezone(dt.UTC)
