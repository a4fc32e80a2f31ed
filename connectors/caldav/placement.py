"""Follow-up events on a CalDAV calendar, through python-caldav.

An event's UID is Warmline's key, and its resource is "<UID>.ics" in the
calendar, so the event id stored by the core is that resource's path and
`find` is a GET of it.  A create is a PUT with `If-None-Match: *`, which
a server rejects with 412 when the resource exists already (RFC 4791
section 5.3.2).  An update is a PUT with `If-Match` on the ETag just read,
so a change a person made in between is never overwritten.  Busy
times come from a time-range calendar-query with recurrences expanded:
every event that is not cancelled and not TRANSP:TRANSPARENT is busy.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zoneinfo
from typing import Any

import icalendar
from caldav.collection import Calendar as DavCalendar

from connectors.caldav.client import CaldavClient
from connectors.caldav.config import CaldavConfig
from connectors.errors import MalformedData, RemoteGone, SourceUnavailable
from connectors.placement import EventDraft, PlacedEvent

PRODID = "-//Warmline//Follow-up placement//EN"
KEY_PROPERTY = "X-WARMLINE-FOLLOW-UP"
_ICS_HEADERS = {"Content-Type": "text/calendar; charset=utf-8"}


class CaldavWriteClient(CaldavClient):
    """A CaldavClient that also reads, writes and searches calendar objects."""

    def fetch(self, url: str) -> tuple[str, str | None] | None:
        """GET a calendar object; return its text and ETag, or None if absent."""
        response = self._send(
            "read an event", url, lambda: self._dav.request(url, "GET")
        )
        if response.status == 404:
            return None
        if response.status != 200:
            raise SourceUnavailable(
                f"CalDAV GET {url} failed with status {response.status}"
            )
        return response.raw, response.headers.get("ETag")

    def store(self, url: str, text: str, condition: dict[str, str]) -> int:
        """PUT a calendar object under `condition`; return the status.

        Returns 412 when the precondition failed; raises for other failures.
        """
        headers = {**_ICS_HEADERS, **condition}
        response = self._send(
            "write an event", url, lambda: self._dav.put(url, text, headers)
        )
        if response.status in (200, 201, 204, 412):
            return int(response.status)
        raise SourceUnavailable(
            f"CalDAV PUT {url} failed with status {response.status}"
        )

    def remove(self, url: str) -> None:
        """DELETE a calendar object; one already gone is not an error."""
        response = self._send("delete an event", url, lambda: self._dav.delete(url))
        if response.status not in (200, 204, 404):
            raise SourceUnavailable(
                f"CalDAV DELETE {url} failed with status {response.status}"
            )

    def expanded_events(
        self, calendar_url: str, start: dt.datetime, end: dt.datetime
    ) -> list[str]:
        """Return the iCalendar text of each event occurrence in [start, end)."""
        calendar = DavCalendar(client=self._dav, url=calendar_url)

        def search() -> list[Any]:
            # With a synchronous DAVClient the search returns a list.
            found: Any = calendar.search(start=start, end=end, event=True, expand=True)
            assert isinstance(found, list)
            return found

        return [
            str(item.data)
            for item in self._send("search the calendar", calendar_url, search)
        ]

    def calendar_url(self, href: str) -> str:
        """Return the absolute URL of a calendar path on this server."""
        return self._url(href)


class CaldavCalendarWriter:
    """Places follow-up events on one CalDAV calendar.

    `calendar` is the calendar's path; None takes the first calendar that
    discovery finds.  All-day events are read in `time_zone`.
    """

    def __init__(
        self, config: CaldavConfig, calendar: str | None, time_zone: str = "UTC"
    ) -> None:
        self._client = CaldavWriteClient(config)
        if calendar is None:
            found = self._client.discover_calendars()
            if not found:
                raise SourceUnavailable(
                    f"CalDAV account {config.url} has no calendar to place "
                    "follow-ups on; create one or list it in the account"
                )
            calendar = found[0]
        href = calendar if calendar.endswith("/") else calendar + "/"
        self.calendar_url = self._client.calendar_url(href)
        self._zone = zoneinfo.ZoneInfo(time_zone)

    def busy(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        spans = []
        for text in self._client.expanded_events(self.calendar_url, start, end):
            for component in _events_of(text):
                span = self._busy_span(component)
                if span is not None and span[0] < end and span[1] > start:
                    spans.append(span)
        return spans

    def find(self, key: str) -> PlacedEvent | None:
        return self.get(self._href(key))

    def get(self, event_id: str) -> PlacedEvent | None:
        fetched = self._client.fetch(self._url(event_id))
        if fetched is None:
            return None
        return _placed(event_id, _single_event(fetched[0]))

    def create(self, draft: EventDraft) -> PlacedEvent:
        href = self._href(draft.key)
        text = _new_calendar(draft).to_ical().decode("utf-8")
        status = self._client.store(self._url(href), text, {"If-None-Match": "*"})
        if status == 412:
            # A run that crashed after its PUT created the event already.
            found = self.get(href)
            if found is None:
                raise RemoteGone(f"event {href} vanished while it was created")
            return found
        return PlacedEvent(href, draft.start, draft.end)

    def update(self, event_id: str, draft: EventDraft, move: bool) -> PlacedEvent:
        url = self._url(event_id)
        fetched = self._client.fetch(url)
        if fetched is None:
            raise RemoteGone(f"event {event_id} was deleted")
        text, etag = fetched
        calendar = icalendar.Calendar.from_ical(text)
        event = _first_event(calendar)
        _set(event, "SUMMARY", draft.summary)
        _set(event, "DESCRIPTION", draft.description)
        if move:
            _set(event, "DTSTART", draft.start.astimezone(dt.UTC))
            _set(event, "DTEND", draft.end.astimezone(dt.UTC))
        _set(event, "SEQUENCE", int(event.get("SEQUENCE", 0)) + 1)
        _set(event, "DTSTAMP", dt.datetime.now(dt.UTC))
        condition = {"If-Match": etag} if etag else {}
        body = calendar.to_ical().decode("utf-8")
        if self._client.store(url, body, condition) == 412:
            raise RemoteGone(f"event {event_id} changed while it was updated")
        return _placed(event_id, event)

    def delete(self, event_id: str) -> None:
        self._client.remove(self._url(event_id))

    def close(self) -> None:
        self._client.close()

    def _href(self, key: str) -> str:
        path = urllib.parse.urlsplit(self.calendar_url).path
        return path + urllib.parse.quote(key, safe="") + ".ics"

    def _url(self, href: str) -> str:
        return urllib.parse.urljoin(self.calendar_url, href)

    def _busy_span(
        self, event: icalendar.Event
    ) -> tuple[dt.datetime, dt.datetime] | None:
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            return None
        if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
            return None
        start = _moment(event.get("DTSTART"), self._zone)
        if start is None:
            return None
        end = _moment(event.get("DTEND"), self._zone)
        if end is None:
            duration = event.get("DURATION")
            length = duration.dt if duration is not None else dt.timedelta(0)
            if isinstance(event.get("DTSTART").dt, dt.datetime):
                end = start + length
            else:
                end = start + (length or dt.timedelta(days=1))
        return start, end


def _new_calendar(draft: EventDraft) -> icalendar.Calendar:
    calendar = icalendar.Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    event = icalendar.Event()
    event.add("UID", draft.key)
    event.add("DTSTAMP", dt.datetime.now(dt.UTC))
    event.add("DTSTART", draft.start.astimezone(dt.UTC))
    event.add("DTEND", draft.end.astimezone(dt.UTC))
    event.add("SUMMARY", draft.summary)
    event.add("DESCRIPTION", draft.description)
    event.add("TRANSP", "OPAQUE")
    event.add("SEQUENCE", 0)
    event.add(KEY_PROPERTY, draft.key)
    calendar.add_component(event)
    return calendar


def _events_of(text: str) -> list[icalendar.Event]:
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as error:
        raise MalformedData(f"a calendar object is not valid iCalendar: {error}") from (
            error
        )
    return [
        item for item in calendar.walk("VEVENT") if isinstance(item, icalendar.Event)
    ]


def _single_event(text: str) -> icalendar.Event:
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as error:
        raise MalformedData(f"an event is not valid iCalendar: {error}") from error
    return _first_event(calendar)


def _first_event(calendar: icalendar.Calendar) -> icalendar.Event:
    for item in calendar.walk("VEVENT"):
        if isinstance(item, icalendar.Event) and "RECURRENCE-ID" not in item:
            return item
    raise MalformedData("a calendar object contains no event")


def _set(event: icalendar.Event, name: str, value: Any) -> None:
    event.pop(name, None)
    event.add(name, value)


def _placed(event_id: str, event: icalendar.Event) -> PlacedEvent:
    start = event.get("DTSTART")
    end = event.get("DTEND")
    timed = start is not None and isinstance(start.dt, dt.datetime)
    if not timed or end is None or not isinstance(end.dt, dt.datetime):
        return PlacedEvent(event_id, None, None)
    return PlacedEvent(event_id, _aware(start.dt), _aware(end.dt))


def _moment(value: Any, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    if value is None:
        return None
    moment = value.dt
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return moment.astimezone(dt.UTC)
    if isinstance(moment, dt.date):
        return dt.datetime.combine(moment, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    return None


def _aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        # A floating time; the staff member's zone is not known here, so
        # it is read as UTC, which only matters for comparing it with ours.
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)
