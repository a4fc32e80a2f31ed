"""Outlook calendars over Microsoft Graph: calendar-view delta per calendar.

Unit of sync: one calendar of one mailbox (the default calendar unless the
account names others), over a window from `days_back` days before the day
of the read to `days_ahead` days after it.  Graph encodes the window in the
delta token, so it cannot move within a round.  Each calendar's state in
the cursor is one of:

- new: no link.  The next read starts a full round with
  GET /calendarView/delta?startDateTime=...&endDateTime=... for the window.
- in a round: the link is the round's newest @odata.nextLink.
- synced: the link is the @odata.deltaLink; the next read starts an
  incremental round from it.

What resets a cursor: 410 Gone, or the codes syncStateNotFound or
resyncRequired, restart that calendar's full round at once.  The window
moves too: when its start is `window_refresh_days` or more behind the
target window, the next read that finds the calendar synced starts a full
round over the target window.

Keys: a single event is keyed by its immutable id.  An occurrence or
exception of a series is keyed by its series master id and originalStart,
which stay the same when that one occurrence is moved, while `occurred_at`
follows the move.  Its external id is the series master's iCalUId, fetched
once per series in JSON batches, because Graph gives each occurrence an
iCalUId of its own.  The cursor maps each instance id in the window to its
key and start, since a `@removed` entry carries only the id.

Removals: `@removed`, a cancelled event or occurrence (isCancelled), and a
changed event that moved out of the window (Graph returns it with null
fields) each yield `Removed` for the instance's key.  When a full round
ends, instances of the window that it did not list yield `Removed`, and
instances that start before the window are forgotten without one, so a
rolling window keeps past meetings.

Deleted occurrences: Graph reports no `@removed` for one deleted occurrence
of a series.  Deleting it changes the series master, and a changed master
makes the next incremental round list the series' remaining occurrences
again.  So when an incremental round lists an item of type "occurrence" (an
unmodified occurrence changes only with its master), the reader takes the
series' known instances that the round did not list, and asks GET
/events/{master}/instances for the window.  Those it does not return are
deleted and yield `Removed`.

Positions follow the mail reader: the cursor goes into a position when a
round ends and at most once per `checkpoint_items` items otherwise.  The
reader holds no database transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.parse
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.calendar import TimezoneResolver, load_iana_zone, occurrence_key, to_utc
from connectors.errors import (
    CursorExpired,
    MalformedData,
    RemoteGone,
    SourceUnavailable,
)
from connectors.microsoft import fields
from connectors.microsoft.client import BatchRequest, GraphClient
from connectors.microsoft.state import pack_ids, pack_json, unpack_ids, unpack_json
from connectors.records import (
    Activity,
    ActivityKind,
    Flag,
    Item,
    Participant,
    ParticipantRole,
    Quarantined,
    Removed,
)

log = structlog.get_logger(__name__)

CURSOR_VERSION = 1
DEFAULT_CALENDAR = ""  # the mailbox's default calendar
DAYS_BACK = 180
DAYS_AHEAD = 60
WINDOW_REFRESH_DAYS = 7
MAX_RESTARTS = 2
OCCURRENCE_TYPES = frozenset({"occurrence", "exception"})


@dataclasses.dataclass
class CalendarState:
    """One calendar's part of the cursor.

    `known` maps each instance id in the window to [key, start as POSIX
    seconds, series master id or ""].  `listed` collects the ids of a full
    round.  `relisted` collects, per series, the ids an incremental round
    listed, and `triggered` the series of which it listed an unmodified
    occurrence.
    `uids` maps series master ids to the series' iCalUId.
    """

    name: str
    id: str | None = None
    display_name: str | None = None
    link: str | None = None
    in_round: bool = False
    full: bool = True
    window: tuple[dt.datetime, dt.datetime] | None = None
    known: dict[str, list[Any]] = dataclasses.field(default_factory=dict)
    listed: set[str] = dataclasses.field(default_factory=set)
    relisted: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    triggered: set[str] = dataclasses.field(default_factory=set)
    uids: dict[str, str] = dataclasses.field(default_factory=dict)

    def restart(self, window: tuple[dt.datetime, dt.datetime]) -> None:
        self.window = window
        self.link = None
        self.in_round = False
        self.full = True
        self.listed = set()
        self.relisted = {}
        self.triggered = set()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "display_name": self.display_name,
            "link": self.link,
            "in_round": self.in_round,
            "full": self.full,
            "window": [value.isoformat() for value in self.window]
            if self.window
            else None,
            "known": pack_json(self.known),
            "listed": pack_ids(self.listed),
            "relisted": pack_json({k: sorted(v) for k, v in self.relisted.items()}),
            "triggered": sorted(self.triggered),
            "uids": pack_json(self.uids),
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> CalendarState:
        window = data.get("window")
        return cls(
            name=name,
            id=data.get("id"),
            display_name=data.get("display_name"),
            link=data.get("link"),
            in_round=bool(data.get("in_round")),
            full=bool(data.get("full", True)),
            window=(
                (
                    dt.datetime.fromisoformat(window[0]),
                    dt.datetime.fromisoformat(window[1]),
                )
                if window
                else None
            ),
            known=unpack_json(data.get("known"), {}),
            listed=unpack_ids(data.get("listed")),
            relisted={
                k: set(v) for k, v in unpack_json(data.get("relisted"), {}).items()
            },
            triggered=set(data.get("triggered", [])),
            uids=unpack_json(data.get("uids"), {}),
        )


def decode_cursor(cursor: str | None) -> dict[str, CalendarState]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except json.JSONDecodeError as error:
        raise CursorExpired("the Outlook calendar cursor is not JSON") from error
    if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION:
        raise CursorExpired("the Outlook calendar cursor has another version")
    return {
        name: CalendarState.from_json(name, value)
        for name, value in data.get("calendars", {}).items()
    }


def encode_cursor(calendars: dict[str, CalendarState]) -> str:
    return json.dumps(
        {
            "version": CURSOR_VERSION,
            "calendars": {name: state.to_json() for name, state in calendars.items()},
        },
        separators=(",", ":"),
    )


class OutlookCalendarReader(Reader):
    """Reads the meeting occurrences of Outlook calendars through Graph delta.

    `calendars` are calendar names; "" is the default calendar.
    `default_timezone` (IANA) places all-day events: one starts at midnight
    of its date there.  `now` returns the current aware time; tests fix it.
    """

    def __init__(
        self,
        client: GraphClient,
        *,
        calendars: Sequence[str] = (DEFAULT_CALENDAR,),
        default_timezone: str = "UTC",
        days_back: int = DAYS_BACK,
        days_ahead: int = DAYS_AHEAD,
        window_refresh_days: int = WINDOW_REFRESH_DAYS,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        zone = load_iana_zone(default_timezone)
        if zone is None:
            raise ValueError(
                f"unknown time zone {default_timezone!r}; use an IANA name"
            )
        if days_back < 0 or days_ahead <= 0:
            raise ValueError("days_back must be 0 or more and days_ahead more than 0")
        self._client = client
        self._names = list(dict.fromkeys(name.strip() for name in calendars)) or [""]
        self._zone: zoneinfo.ZoneInfo = zone
        self._days_back = days_back
        self._days_ahead = days_ahead
        self._refresh = dt.timedelta(days=window_refresh_days)
        self._now = now or (lambda: dt.datetime.now(dt.UTC))
        self._resolver = TimezoneResolver()
        self._log = log.bind(mailbox=client.mailbox)
        self._calendars: dict[str, CalendarState] = {}
        self._since_checkpoint = 0

    @property
    def client(self) -> GraphClient:
        """The Graph client of this mailbox, also used for its subscriptions."""
        return self._client

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        try:
            known = decode_cursor(cursor)
        except CursorExpired as error:
            self._log.warning("calendar cursor unreadable; full sync", error=str(error))
            known = {}
        self._calendars = {
            name: known.get(name) or CalendarState(name) for name in self._names
        }
        try:
            self._resolve_calendars()
            done = 0
            for name in self._names:
                for item in self._read_calendar(self._calendars[name]):
                    done += 1
                    yield item
                if progress is not None:
                    progress(done, None)
        finally:
            self._client.close()
        self.final_cursor = encode_cursor(self._calendars)

    # --- calendars and windows ---------------------------------------------------

    def _resolve_calendars(self) -> None:
        missing = [c for c in self._calendars.values() if c.id is None]
        if not missing:
            return
        by_name: dict[str, dict[str, Any]] = {}
        url: str | None = self._client.url(
            "/calendars", {"$select": "id,name", "$top": "100"}
        )
        while url:
            page = self._client.get(url)
            for calendar in page.get("value", []):
                by_name.setdefault(
                    str(calendar.get("name") or "").strip().lower(), calendar
                )
                if calendar.get("isDefaultCalendar"):
                    by_name.setdefault(DEFAULT_CALENDAR, calendar)
            url = page.get("@odata.nextLink")
        for state in missing:
            if state.name == DEFAULT_CALENDAR:
                state.id, state.display_name = "", "default calendar"
                continue
            found = by_name.get(state.name.lower())
            if not found:
                raise SourceUnavailable(
                    f"calendar {state.name!r} not found in {self._client.mailbox}; "
                    "check the account's calendar names"
                )
            state.id = str(found["id"])
            state.display_name = str(found.get("name") or state.name)

    def _target_window(self) -> tuple[dt.datetime, dt.datetime]:
        midnight = (
            self._now()
            .astimezone(dt.UTC)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        return (
            midnight - dt.timedelta(days=self._days_back),
            midnight + dt.timedelta(days=self._days_ahead),
        )

    def _check_window(self, state: CalendarState) -> None:
        target = self._target_window()
        if state.window is None:
            state.restart(target)
        elif not state.in_round and target[0] - state.window[0] >= self._refresh:
            self._log.info(
                "calendar window moves; full round", calendar=state.display_name
            )
            state.restart(target)

    # --- rounds -------------------------------------------------------------------

    def _read_calendar(self, state: CalendarState) -> Iterator[Item]:
        self._check_window(state)
        restarts = 0
        while True:
            try:
                yield from self._read_round(state)
                return
            except CursorExpired as error:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    raise
                self._log.warning(
                    "calendar delta expired; full round restarts",
                    calendar=state.display_name,
                    error=str(error),
                )
                assert state.window is not None
                state.restart(state.window)

    def _read_round(self, state: CalendarState) -> Iterator[Item]:
        url = state.link or self._initial_url(state)
        # Times come back in UTC; the event's own timeZone field still says
        # which zone it was made in, and all-day events keep their dates.
        prefer = [
            f"odata.maxpagesize={self._client.config.page_size}",
            'outlook.timezone="UTC"',
        ]
        while True:
            page = self._client.get(url, prefer)
            value = page.get("value")
            next_link = page.get("@odata.nextLink")
            delta_link = page.get("@odata.deltaLink")
            if not isinstance(value, list) or bool(next_link) == bool(delta_link):
                raise MalformedData(
                    f"a calendar delta page of {state.display_name!r} has no value "
                    "list or not exactly one of nextLink and deltaLink"
                )
            items = self._page_items(state, value)
            state.link = str(next_link or delta_link)
            state.in_round = bool(next_link)
            if delta_link:
                items.extend(self._end_round(state))
            yield from self._with_position(items, bool(delta_link))
            if delta_link:
                self._log.info(
                    "calendar round finished",
                    calendar=state.display_name,
                    instances=len(state.known),
                )
                return
            url = str(next_link)

    def _initial_url(self, state: CalendarState) -> str:
        assert state.window is not None
        params = {
            "startDateTime": _graph_time(state.window[0]),
            "endDateTime": _graph_time(state.window[1]),
        }
        if state.id:
            calendar_id = urllib.parse.quote(state.id, safe="")
            return self._client.url(
                f"/calendars/{calendar_id}/calendarView/delta", params
            )
        return self._client.url("/calendarView/delta", params)

    def _with_position(self, items: list[Item], round_ended: bool) -> Iterator[Item]:
        self._since_checkpoint += len(items)
        checkpoint = round_ended or (
            self._since_checkpoint >= self._client.config.checkpoint_items
        )
        if items and checkpoint:
            items[-1] = dataclasses.replace(
                items[-1], position=encode_cursor(self._calendars)
            )
            self._since_checkpoint = 0
        yield from items

    # --- items ----------------------------------------------------------------------

    def _page_items(self, state: CalendarState, value: list[Any]) -> list[Item]:
        entries = [raw for raw in value if isinstance(raw, dict) and raw.get("id")]
        series = {
            str(raw["seriesMasterId"])
            for raw in entries
            if raw.get("type") in OCCURRENCE_TYPES
            and raw.get("seriesMasterId")
            and str(raw["seriesMasterId"]) not in state.uids
        }
        self._fetch_series_uids(state, sorted(series))
        items: list[Item] = []
        for raw in entries:
            items.extend(self._items_of(state, raw))
        return items

    def _items_of(self, state: CalendarState, raw: dict[str, Any]) -> list[Item]:
        instance_id = str(raw["id"])
        if "@removed" in raw or raw.get("start") is None:
            return self._forget(state, instance_id)
        kind = raw.get("type")
        if kind == "seriesMaster":
            return []
        series_id = (
            str(raw.get("seriesMasterId") or "") if kind in OCCURRENCE_TYPES else ""
        )
        try:
            key = instance_key(raw)
        except ValueError as error:
            return [Quarantined(instance_id, f"unreadable originalStart: {error}")]
        if state.full:
            state.listed.add(instance_id)
        elif series_id:
            state.relisted.setdefault(series_id, set()).add(instance_id)
            if kind == "occurrence":
                state.triggered.add(series_id)
        if raw.get("isCancelled") is True:
            state.known.pop(instance_id, None)
            return [Removed(key)]
        item = event_item(
            raw, key, state.uids.get(series_id), self._resolver, self._zone
        )
        if isinstance(item, Activity):
            start = int(item.occurred_at.timestamp())
            state.known[instance_id] = [key, start, series_id]
        return [item]

    def _forget(self, state: CalendarState, instance_id: str) -> list[Item]:
        entry = state.known.pop(instance_id, None)
        state.listed.discard(instance_id)
        # A single event's key is its id, so an unknown id still names it.
        return [Removed(entry[0] if entry else instance_id)]

    def _end_round(self, state: CalendarState) -> list[Item]:
        assert state.window is not None
        removals: list[Item] = []
        if state.full:
            window_start = state.window[0].timestamp()
            for instance_id in sorted(set(state.known) - state.listed):
                key, start, _series = state.known.pop(instance_id)
                if start >= window_start:
                    removals.append(Removed(key))
            state.listed = set()
            state.full = False
        else:
            for series_id in sorted(state.triggered):
                removals.extend(self._deleted_occurrences(state, series_id))
        state.relisted = {}
        state.triggered = set()
        if removals:
            self._log.info(
                "calendar removals", calendar=state.display_name, count=len(removals)
            )
        return removals

    def _deleted_occurrences(self, state: CalendarState, series_id: str) -> list[Item]:
        """Remove the series' known occurrences that Graph no longer has."""
        # NOTE: this relies on a deletion re-listing the series' other
        # occurrences.  A deletion Graph reports with no change to any
        # occurrence in the window is only found by the next full round.
        listed = state.relisted.get(series_id, set())
        candidates = {
            instance_id
            for instance_id, (_key, _start, series) in state.known.items()
            if series == series_id and instance_id not in listed
        }
        if not candidates:
            return []
        current = self._instance_ids(state, series_id)
        gone = sorted(candidates - current)
        return [Removed(state.known.pop(instance_id)[0]) for instance_id in gone]

    def _instance_ids(self, state: CalendarState, series_id: str) -> set[str]:
        assert state.window is not None
        params = {
            "startDateTime": _graph_time(state.window[0]),
            "endDateTime": _graph_time(state.window[1]),
            "$select": "id",
        }
        master = urllib.parse.quote(series_id, safe="")
        url: str | None = self._client.url(f"/events/{master}/instances", params)
        found: set[str] = set()
        try:
            while url:
                page = self._client.get(url)
                found.update(str(raw.get("id")) for raw in page.get("value", []))
                url = page.get("@odata.nextLink")
        except RemoteGone:
            return set()
        return found

    def _fetch_series_uids(self, state: CalendarState, series_ids: list[str]) -> None:
        if not series_ids:
            return
        requests = [
            BatchRequest(
                id=str(index),
                url=f"{self._client.user_path}/events/{_quote(series_id)}"
                "?$select=iCalUId",
                headers={"Prefer": 'IdType="ImmutableId"'},
            )
            for index, series_id in enumerate(series_ids)
        ]
        responses = self._client.batch(requests)
        for request, series_id in zip(requests, series_ids, strict=True):
            response = responses[request.id]
            if response.status == 404:
                state.uids[series_id] = ""
            elif response.status >= 300 or not isinstance(response.body, dict):
                raise response.error(f"GET of series master {series_id}")
            else:
                state.uids[series_id] = str(response.body.get("iCalUId") or "")


def _quote(item_id: str) -> str:
    return urllib.parse.quote(item_id, safe="")


def _graph_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def instance_key(raw: dict[str, Any]) -> str:
    """Return the provider key of a calendar-view instance.

    An occurrence or exception is keyed by its series master id and
    originalStart; anything else by its own id.  Raises ValueError when an
    occurrence's originalStart cannot be read.
    """
    if raw.get("type") in OCCURRENCE_TYPES and raw.get("seriesMasterId"):
        original = fields.timestamp(raw.get("originalStart"))
        if original is None:
            raise ValueError("missing")
        return occurrence_key(str(raw["seriesMasterId"]), original)
    return str(raw["id"])


def event_item(
    raw: dict[str, Any],
    key: str,
    series_uid: str | None,
    resolver: TimezoneResolver,
    default_zone: dt.tzinfo,
) -> Item:
    """Build the activity of one calendar-view instance.

    `series_uid` is the series master's iCalUId for an occurrence ("" or
    None when unknown, and then the occurrence's own iCalUId is used).
    All-day events start at midnight of their date in `default_zone`; the
    zone Graph names for them is ignored, since it does not move the date.
    """
    defects: list[str] = []
    all_day = raw.get("isAllDay") is True
    try:
        start, end = _times(raw, all_day, resolver, default_zone, defects)
        original = (
            fields.timestamp(raw.get("originalStart"))
            if raw.get("seriesMasterId")
            else None
        )
    except ValueError as error:
        return Quarantined(key, f"unreadable start or end: {error}")
    if start is None:
        return Quarantined(key, "event has no start")
    occurrence = None
    if original is not None and raw.get("type") in OCCURRENCE_TYPES:
        occurrence = to_utc(original.date(), default_zone) if all_day else original
    external_id = _external_id(raw, occurrence is not None, series_uid, defects)
    flags = set()
    if all_day:
        flags.add(Flag.ALL_DAY)
    response = raw.get("responseStatus")
    if (
        isinstance(response, dict)
        and str(response.get("response") or "").lower() == "declined"
    ):
        flags.add(Flag.DECLINED)
    location = raw.get("location")
    place = (
        fields.clean_name(location.get("displayName"))
        if isinstance(location, dict)
        else None
    )
    subject = raw.get("subject")
    return Activity(
        kind=ActivityKind.MEETING,
        provider_key=key,
        external_id=external_id,
        occurred_at=start,
        participants=tuple(_participants(raw, defects)),
        subject=subject.strip() or None if isinstance(subject, str) else None,
        occurrence=occurrence,
        ends_at=end,
        location=place,
        flags=frozenset(flags),
        defects=tuple(defects),
    )


def _times(
    raw: dict[str, Any],
    all_day: bool,
    resolver: TimezoneResolver,
    default_zone: dt.tzinfo,
    defects: list[str],
) -> tuple[dt.datetime | None, dt.datetime | None]:
    if not all_day:
        return (
            fields.zoned_time(raw.get("start"), resolver, defects),
            fields.zoned_time(raw.get("end"), resolver, defects),
        )
    dates = [fields.local_date_time(raw.get(name)) for name in ("start", "end")]
    return tuple(  # type: ignore[return-value]
        to_utc(value[0].date(), default_zone) if value else None for value in dates
    )


def _external_id(
    raw: dict[str, Any], is_occurrence: bool, series_uid: str | None, defects: list[str]
) -> str:
    own = str(raw.get("iCalUId") or "")
    if is_occurrence:
        if series_uid:
            return series_uid
        defects.append("series iCalUId unknown; the occurrence's own iCalUId is used")
    return own or str(raw["id"])


def _participants(raw: dict[str, Any], defects: list[str]) -> list[Participant]:
    found = fields.recipients(
        raw.get("organizer"), ParticipantRole.ORGANIZER, "organizer", defects
    )
    people = raw.get("attendees")
    if isinstance(people, list):
        # Rooms and equipment are attendees of type "resource", not people.
        people = [
            p for p in people if isinstance(p, dict) and p.get("type") != "resource"
        ]
    found += fields.recipients(people, ParticipantRole.ATTENDEE, "attendees", defects)
    return found
