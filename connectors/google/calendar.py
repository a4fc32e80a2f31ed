"""Google Calendar sync engine: meeting occurrences of one or more calendars.

Unit of sync: one calendar ("primary" and any other calendar id the
account lists), read with `events.list` and singleEvents=true, so each
occurrence of a recurring event is its own item.  Provider keys start with
"{calendar id}/" (see `events.event_key`).

States per calendar, kept together in the cursor (see `CalendarCursor`):

- none: a full listing starts.
- full listing: pages of events from `timeMin` to `timeMax`, the same
  query on every page.  `timeMin` is the calendar's floor: the earliest
  start it was ever listed from, 180 days before the first listing by
  default, so that every stored occurrence falls inside each later listing.
  `timeMax` is 60 days ahead by default.  A page's last item carries the
  next page's token.  The last page contains `nextSyncToken`; after it comes
  `ScopeListed(prefix="{calendar}/", since)`, which drops the stored
  occurrences that the listing no longer contains.
- incremental: `events.list` with the `syncToken` and without `timeMin`,
  `timeMax`, `orderBy`, `q`, `updatedMin`, `iCalUID`, `showDeleted` or
  extended-property filters, which Google rejects with 400 next to a sync
  token.  `singleEvents` and `maxResults` stay as in the full listing.  A
  page may be empty and still have a next page; only the last page has the
  new `nextSyncToken`, and only that page's last item carries a position.
  Cancelled entries remove their keys; a cancelled entry without
  `recurringEventId` also removes every stored instance of that series.
  Changed events that start before the floor or after the listing horizon
  are left out, so the store holds exactly what the next full listing can
  confirm.

What resets a cursor: a 410 on `events.list` (whatever the `reason` in
its body) starts a full listing of that calendar only.  A full listing also
runs every `calendar_relist_days` (30 by default), because occurrences that
were beyond the horizon and never changed appear in no sync token round.
The relist interval is shorter than the horizon, so each occurrence is
listed before it starts.

Transactions: the reader opens none; the pipeline commits each batch of
items with the position of its last item.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.calendar import load_iana_zone
from connectors.errors import (
    ConnectorError,
    CursorExpired,
    MalformedData,
    NeedsReauthorization,
    TransientError,
)
from connectors.google.client import (
    CALENDAR_API,
    ApiClient,
    CredentialsFactory,
    ReadStats,
)
from connectors.google.config import GoogleSettings
from connectors.google.events import event_activity, event_key, series_prefix
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy
from connectors.records import Item, Quarantined, Removed, ScopeListed

log = structlog.get_logger(__name__)

CURSOR_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Listing:
    """A full listing in progress: its query window and next page."""

    since: dt.datetime
    time_min: dt.datetime
    time_max: dt.datetime
    page_token: str | None = None


@dataclasses.dataclass(frozen=True)
class CalendarState:
    """One calendar's state: its floor, sync token and any listing under way."""

    floor: dt.datetime
    sync_token: str | None = None
    listed_at: dt.datetime | None = None
    listing: Listing | None = None


class CalendarCursor:
    """The states of an account's calendars, stored as one JSON object.

    {"v": 1, "calendars": {"primary": {"floor": ISO 8601, "sync_token": ...,
    "listed_at": ISO 8601, "listing": null or {"since", "time_min",
    "time_max", "page_token"}}}}
    """

    def __init__(self, states: Mapping[str, CalendarState] | None = None) -> None:
        self.states: dict[str, CalendarState] = dict(states or {})

    def dump(self) -> str:
        calendars = {
            calendar_id: _state_json(state)
            for calendar_id, state in self.states.items()
        }
        return json.dumps(
            {"v": CURSOR_VERSION, "calendars": calendars}, separators=(",", ":")
        )

    @classmethod
    def load(cls, text: str | None) -> CalendarCursor:
        """Read a stored cursor; an empty one (full listings) for none or junk."""
        if not text:
            return cls()
        try:
            value = json.loads(text)
            if value.get("v") != CURSOR_VERSION:
                raise ValueError(f"cursor version {value.get('v')!r}")
            states = {
                str(calendar_id): _state_from_json(state)
                for calendar_id, state in value["calendars"].items()
            }
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("calendar cursor unreadable; full sync", error=str(error))
            return cls()
        return cls(states)


class _Run:
    def __init__(self, reader: GoogleCalendarReader) -> None:
        settings = reader.settings
        regime = settings.calendar_quota
        limit = max(1, int(regime.units_per_minute * settings.quota_share))
        self.budget = QuotaBudget(limit, settings.quota_window)
        retry = RetryPolicy(settings.retry, reader.sleep, self.budget.hold)
        self.client = ApiClient(
            CALENDAR_API,
            settings.calendar_endpoint,
            reader.credentials(),
            settings,
            regime,
            self.budget,
            retry,
        )


class GoogleCalendarReader(Reader):
    """Reads the occurrences of an account's Google calendars since a cursor.

    `calendars` are calendar ids ("primary" is the user's own).
    `default_timezone` (an IANA name) is used when a response names no
    zone that tzdata has.  `clock` returns the current aware UTC time.  It
    also dates `ScopeListed.since`, which the pipeline compares with its own
    clock, so only tests without a database may pass a fixed one.
    """

    def __init__(
        self,
        credentials: CredentialsFactory,
        settings: GoogleSettings | None = None,
        calendars: Sequence[str] = ("primary",),
        default_timezone: str = "UTC",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        if not calendars:
            raise ValueError("a calendar account needs at least one calendar id")
        self.credentials = credentials
        self.settings = settings or GoogleSettings()
        self.calendars = tuple(calendars)
        self.default_zone = load_iana_zone(default_timezone) or zoneinfo.ZoneInfo("UTC")
        self.sleep = sleep
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.stats = ReadStats()

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        state = CalendarCursor.load(cursor)
        run = _Run(self)
        self.stats = ReadStats()
        try:
            for number, calendar_id in enumerate(self.calendars):
                yield from self._read_calendar(run, state, calendar_id)
                if progress is not None:
                    progress(number + 1, len(self.calendars))
            self.final_cursor = state.dump()
        finally:
            self.stats.requests = run.client.requests
            self.stats.quota_units = run.budget.total_units
            run.client.close()

    def _read_calendar(
        self, run: _Run, cursor: CalendarCursor, calendar_id: str
    ) -> Iterator[Item]:
        bound = log.bind(calendar=calendar_id, provider="google_calendar")
        state = cursor.states.get(calendar_id)
        now = self.clock()
        if state is None:
            state = CalendarState(floor=_midnight(now) - self._back)
            cursor.states[calendar_id] = state
        relist_due = state.listed_at is None or (
            now - state.listed_at
            >= dt.timedelta(days=self.settings.calendar_relist_days)
        )
        if state.listing is None and state.sync_token and not relist_due:
            try:
                yield from self._incremental(run, cursor, calendar_id, state)
                return
            except CursorExpired as error:
                bound.warning("sync token expired; full sync", error=str(error))
        elif state.listing is None and state.sync_token:
            bound.info("periodic full listing", listed_at=str(state.listed_at))
        yield from self._full_listing(run, cursor, calendar_id, state)

    # --- incremental ------------------------------------------------------------

    def _incremental(
        self,
        run: _Run,
        cursor: CalendarCursor,
        calendar_id: str,
        state: CalendarState,
    ) -> Iterator[Item]:
        assert state.sync_token is not None
        horizon = _midnight(self.clock()) + self._ahead
        page_token: str | None = None

        def keep(start: dt.datetime) -> bool:
            return state.floor <= start < horizon

        while True:
            response = self._list(
                run, calendar_id, {"syncToken": state.sync_token}, page_token
            )
            items = self._items(calendar_id, response, self._zone(response), keep)
            page_token = response.get("nextPageToken")
            if page_token:
                yield from items
                continue
            cursor.states[calendar_id] = dataclasses.replace(
                state, sync_token=_next_sync_token(response)
            )
            yield from _with_position(items, cursor.dump())
            return

    # --- full listing -----------------------------------------------------------

    def _full_listing(
        self,
        run: _Run,
        cursor: CalendarCursor,
        calendar_id: str,
        state: CalendarState,
    ) -> Iterator[Item]:
        listing = state.listing
        if listing is None:
            now = self.clock()
            time_min = min(state.floor, _midnight(now) - self._back)
            listing = Listing(now, time_min, _midnight(now) + self._ahead)
            state = dataclasses.replace(state, floor=time_min, listing=listing)
            log.info("calendar full listing started", calendar=calendar_id)
        query = {
            "timeMin": _rfc3339(listing.time_min),
            "timeMax": _rfc3339(listing.time_max),
        }
        page_token = listing.page_token
        while True:
            response = self._listing_page(run, calendar_id, query, page_token)
            items = self._items(calendar_id, response, self._zone(response), None)
            page_token = response.get("nextPageToken")
            if page_token:
                listing = dataclasses.replace(listing, page_token=page_token)
                cursor.states[calendar_id] = dataclasses.replace(state, listing=listing)
                yield from _with_position(items, cursor.dump())
                continue
            cursor.states[calendar_id] = CalendarState(
                floor=state.floor,
                sync_token=_next_sync_token(response),
                listed_at=listing.since,
            )
            yield from items
            yield ScopeListed(
                prefix=f"{calendar_id}/", since=listing.since, position=cursor.dump()
            )
            log.info("calendar full listing finished", calendar=calendar_id)
            return

    def _listing_page(
        self,
        run: _Run,
        calendar_id: str,
        query: dict[str, Any],
        page_token: str | None,
    ) -> dict[str, Any]:
        try:
            return self._list(run, calendar_id, query, page_token)
        except (TransientError, NeedsReauthorization):
            raise
        except ConnectorError as error:
            if page_token is None:
                raise
            # A page token saved by an earlier read may have expired; the
            # listing starts again from its first page, with the same `since`.
            log.warning(
                "stored page token rejected; listing restarts", error=str(error)
            )
            return self._list(run, calendar_id, query, None)

    # --- shared -----------------------------------------------------------------

    def _list(
        self,
        run: _Run,
        calendar_id: str,
        query: Mapping[str, Any],
        page_token: str | None,
    ) -> dict[str, Any]:
        parameters = {
            "calendarId": calendar_id,
            "singleEvents": True,
            "maxResults": self.settings.calendar_page_size,
            **query,
        }
        if page_token:
            parameters["pageToken"] = page_token
        return run.client.execute(
            "events.list",
            lambda service: service.events().list(**parameters),
            f"events.list {calendar_id}",
        )

    def _items(
        self,
        calendar_id: str,
        response: Mapping[str, Any],
        zone: dt.tzinfo,
        keep: Callable[[dt.datetime], bool] | None,
    ) -> list[Item]:
        items: list[Item] = []
        for event in response.get("items") or []:
            if not isinstance(event, Mapping):
                continue
            key = event_key(calendar_id, event, zone)
            if event.get("status") == "cancelled":
                items.append(Removed(key))
                prefix = series_prefix(calendar_id, event)
                if prefix is not None:
                    items.append(ScopeListed(prefix=prefix, since=self.clock()))
                continue
            try:
                activity = event_activity(calendar_id, event, zone)
            except MalformedData as error:
                items.append(Quarantined(key, str(error)))
                continue
            if keep is None or keep(activity.occurred_at):
                items.append(activity)
        return items

    def _zone(self, response: Mapping[str, Any]) -> dt.tzinfo:
        name = response.get("timeZone")
        zone = load_iana_zone(name) if isinstance(name, str) else None
        return zone or self.default_zone

    @property
    def _back(self) -> dt.timedelta:
        return dt.timedelta(days=self.settings.calendar_days_back)

    @property
    def _ahead(self) -> dt.timedelta:
        return dt.timedelta(days=self.settings.calendar_days_ahead)


def _with_position(items: list[Item], position: str) -> Iterator[Item]:
    """Yield `items`, the last one carrying `position`."""
    if items:
        items[-1] = dataclasses.replace(items[-1], position=position)
    yield from items


def _next_sync_token(response: Mapping[str, Any]) -> str:
    token = response.get("nextSyncToken")
    if not isinstance(token, str) or not token:
        raise ConnectorError(
            "events.list returned a last page without nextSyncToken; "
            "the calendar cannot be synced incrementally"
        )
    return token


def _midnight(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _state_json(state: CalendarState) -> dict[str, Any]:
    listing = None
    if state.listing is not None:
        listing = {
            "since": state.listing.since.isoformat(),
            "time_min": state.listing.time_min.isoformat(),
            "time_max": state.listing.time_max.isoformat(),
            "page_token": state.listing.page_token,
        }
    return {
        "floor": state.floor.isoformat(),
        "sync_token": state.sync_token,
        "listed_at": state.listed_at.isoformat() if state.listed_at else None,
        "listing": listing,
    }


def _state_from_json(value: Mapping[str, Any]) -> CalendarState:
    listing = None
    if value.get("listing"):
        raw = value["listing"]
        listing = Listing(
            since=_aware(raw["since"]),
            time_min=_aware(raw["time_min"]),
            time_max=_aware(raw["time_max"]),
            page_token=raw.get("page_token"),
        )
    listed_at = value.get("listed_at")
    return CalendarState(
        floor=_aware(value["floor"]),
        sync_token=value.get("sync_token"),
        listed_at=_aware(listed_at) if listed_at else None,
        listing=listing,
    )


def _aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"time {text!r} in the cursor has no offset")
    return moment
