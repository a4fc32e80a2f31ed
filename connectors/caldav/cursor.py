"""The CalDAV cursor: one JSON document with the sync state of each calendar.

    {"version": "caldav-1",
     "calendars": {
       "/dav/sam/work/": {
         "sync_token": "http://radicale.org/ns/sync/4f1c...",
         "etags": {"/dav/sam/work/a.ics": "\\"e1\\"", "/dav/sam/work/b.ics": ""},
         "window_dependent": ["/dav/sam/work/a.ics"],
         "window": ["2023-05-01T00:00:00+00:00", "2027-05-01T00:00:00+00:00"],
         "listed_since": "2026-05-01T08:00:00+00:00",
         "listing": {"since": "2026-05-02T08:00:00+00:00", "from_scratch": false}}}}

`sync_token` is the WebDAV sync token (RFC 6578) that covers `etags`, or
null where the server offers none.  `etags` maps each object href whose
occurrences were yielded to the ETag it had when read.  An empty ETag marks
an object whose read started but did not finish, or that came without an
ETag, so it is read again next time and removed if it has gone meanwhile.
`window_dependent` lists the objects whose occurrences change when the
window moves (recurring events, events after the window's end), and
`window` is the window the objects were last read in.  `listing` is set
while a full listing of the calendar is in progress.  `listed_since` is
when the last listing that read every object began, so every sighting of
the calendar older than it is stale.

NOTE: the cursor grows by some 130 bytes per object (264 KiB for 2,000
objects in benchmarks/bench_caldav.py) and is serialized once per multiget
batch, so very large calendars make each position costly to build and store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from connectors.calendar import Window

CURSOR_VERSION = "caldav-1"
"""Version of the cursor format.  A cursor of another version is dropped,
and every calendar is listed again."""


@dataclasses.dataclass
class ListingState:
    """A full listing of one calendar, kept so that a crashed one can resume.

    `since` is when the listing began.  `from_scratch` is true when no
    object was known at that time, so the listing reads every object.
    """

    since: dt.datetime
    from_scratch: bool


@dataclasses.dataclass
class CalendarState:
    """The sync state of one calendar collection."""

    sync_token: str | None = None
    etags: dict[str, str] = dataclasses.field(default_factory=dict)
    window_dependent: set[str] = dataclasses.field(default_factory=set)
    window: tuple[str, str] | None = None
    listed_since: dt.datetime | None = None
    listing: ListingState | None = None

    def forget(self, href: str) -> None:
        """Drop everything known about one object."""
        self.etags.pop(href, None)
        self.window_dependent.discard(href)


@dataclasses.dataclass
class SyncState:
    """The sync state of every calendar of one account, by calendar href."""

    calendars: dict[str, CalendarState] = dataclasses.field(default_factory=dict)

    def dump(self) -> str:
        """Serialize the state as a cursor string."""
        document = {
            "version": CURSOR_VERSION,
            "calendars": {
                href: _dump_calendar(state) for href, state in self.calendars.items()
            },
        }
        return json.dumps(document, separators=(",", ":"), sort_keys=True)

    @classmethod
    def load(cls, cursor: str | None) -> SyncState:
        """Read a cursor string, or return an empty state for None.

        Raises ValueError when the cursor is not a CalDAV cursor of this
        version.
        """
        if cursor is None:
            return cls()
        try:
            document = json.loads(cursor)
        except json.JSONDecodeError as error:
            raise ValueError(f"cursor is not JSON: {error}") from error
        if not isinstance(document, dict):
            raise ValueError("cursor is not a JSON object")
        version = document.get("version")
        if version != CURSOR_VERSION:
            raise ValueError(f"cursor version {version!r} is not {CURSOR_VERSION}")
        try:
            calendars = {
                str(href): _load_calendar(state)
                for href, state in document["calendars"].items()
            }
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise ValueError(f"cursor has an invalid shape: {error!r}") from error
        return cls(calendars)


def window_key(window: Window) -> tuple[str, str]:
    """Return the form in which a window is stored in the cursor."""
    return (window.start.isoformat(), window.end.isoformat())


def _dump_calendar(state: CalendarState) -> dict[str, Any]:
    listing = None
    if state.listing is not None:
        listing = {
            "since": state.listing.since.isoformat(),
            "from_scratch": state.listing.from_scratch,
        }
    return {
        "sync_token": state.sync_token,
        "etags": state.etags,
        "window_dependent": sorted(state.window_dependent),
        "window": list(state.window) if state.window else None,
        "listed_since": _dump_time(state.listed_since),
        "listing": listing,
    }


def _load_calendar(data: dict[str, Any]) -> CalendarState:
    listing = None
    if data.get("listing") is not None:
        listing = ListingState(
            since=_load_time(data["listing"]["since"]),
            from_scratch=bool(data["listing"]["from_scratch"]),
        )
    window = data.get("window")
    etags = data.get("etags") or {}
    return CalendarState(
        sync_token=data.get("sync_token"),
        etags={str(href): str(etag) for href, etag in etags.items()},
        window_dependent={str(href) for href in data.get("window_dependent") or ()},
        window=(str(window[0]), str(window[1])) if window else None,
        listed_since=_load_optional_time(data.get("listed_since")),
        listing=listing,
    )


def _dump_time(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _load_optional_time(value: str | None) -> dt.datetime | None:
    return _load_time(value) if value is not None else None


def _load_time(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.utcoffset() is None:
        raise TypeError(f"time {value!r} has no UTC offset")
    return moment.astimezone(dt.UTC)
