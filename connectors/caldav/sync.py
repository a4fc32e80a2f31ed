"""Sync the calendars of one CalDAV account as meeting activities.

Unit of sync: one account, holding one state per calendar collection in a
JSON cursor (see connectors.caldav.cursor).  The calendars are the ones
the account lists, or else every calendar that discovery finds.  Each
occurrence is keyed "calendar-href|object-href|occurrence key", so one
calendar object with many occurrences has many sightings, and one
ScopeListed on "calendar-href|object-href|" drops them all.

States of a calendar and their transitions:

- new: no state.  A full listing follows.
- listing: a PROPFIND Depth 1 lists every object with its ETag, and
  calendar-multiget fetches the objects whose ETag differs from the stored
  one, in batches.  Objects stored but no longer listed are removed.  The
  listing ends with a ScopeListed for the whole calendar.  A listing cut
  short resumes from its stored state, with the same `since`.
- synced with a token: the server offers WebDAV sync (RFC 6578), and the
  state contains the DAV:sync-token taken just before the last listing or
  returned by the last report.  A sync-collection report lists the members
  changed and removed since then.  A response truncated by a 507 on the
  collection (RFC 6578 section 3.6) is followed with the token that came
  with it, and only the last token is stored.  Changed objects whose ETag
  differs are fetched; a 404 member is removed.
- synced by ETag: the server offers no sync token, so every read is a
  listing that fetches changed ETags only.

What resets a cursor: a token the server rejects (403 or 409 with
DAV:valid-sync-token, 403 with DAV:supported-report, or a 418) or a report
still truncated without a new token starts a listing of that calendar.
A cursor of another version, or one that cannot be read, starts a listing
of every calendar.  A calendar no longer found is dropped with a
ScopeListed on its prefix.  When the window moves (once a day with the
default one), the objects whose occurrences depend on it are fetched again.

After the items of an object read again, a ScopeListed on its prefix
drops the occurrences it no longer has, such as a cancelled one.  Few items
carry a position: the first item of each multiget batch, whose position
covers everything before the batch and lists the batch's objects as being
read; the last item of each calendar, whose position covers the calendar;
and the ScopeListed of a dropped calendar.  The reader holds no database
transaction; the pipeline commits each batch of items in a transaction of
its own, and a read never waits on the database.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
import zoneinfo
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.caldav.client import CaldavClient, SyncTokenRejected
from connectors.caldav.config import CaldavConfig
from connectors.caldav.cursor import (
    CalendarState,
    ListingState,
    SyncState,
    window_key,
)
from connectors.caldav.hrefs import calendar_prefix, object_prefix
from connectors.caldav.objects import read_object
from connectors.calendar import Window, load_iana_zone
from connectors.errors import RemoteGone, SourceUnavailable
from connectors.records import Activity, Item, Quarantined, ScopeListed

log = structlog.get_logger(__name__)

MAX_SYNC_PAGES = 1000
"""Maximum number of sync-collection responses followed in one read of a
calendar.  Google sends about 230 events per response, so this allows some
230,000 changes before the calendar is listed instead."""


class CaldavReader(Reader):
    """Reads the meeting occurrences of the calendars of one CalDAV account."""

    def __init__(
        self, config: CaldavConfig, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__()
        self.config = config
        self._sleep = sleep

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        """Yield the changes of every calendar since `cursor`.

        Raises NeedsReauthorization when the server rejects the password,
        SourceUnavailable when the account's URL or calendars are wrong,
        and TransientError when the server cannot be reached.
        """
        started = _now()
        window = Window.around(
            started, self.config.window_start, self.config.window_end
        )
        zone = load_iana_zone(self.config.default_timezone)
        if zone is None:
            raise SourceUnavailable(
                f"time zone {self.config.default_timezone!r} set for CalDAV "
                f"account {self.config.url} is unknown; set an IANA name such "
                "as America/Chicago"
            )
        state = self._load_state(cursor)
        client = CaldavClient(self.config, sleep=self._sleep)
        try:
            yield from self._read_calendars(client, state, window, zone, progress)
        finally:
            client.close()
        self.final_cursor = state.dump()

    def _read_calendars(
        self,
        client: CaldavClient,
        state: SyncState,
        window: Window,
        zone: zoneinfo.ZoneInfo,
        progress: ProgressCallback | None,
    ) -> Iterator[Item]:
        calendars = self._calendars(client)
        yield from _drop_calendars(state, set(state.calendars) - set(calendars))
        totals: Counter[str] = Counter()
        if progress is not None:
            progress(0, len(calendars))
        for done, href in enumerate(calendars, 1):
            sync = CalendarSync(
                client, state, href, window, zone, self.config.multiget_size
            )
            try:
                yield from sync.run()
            except RemoteGone as gone:
                if self.config.calendars is not None:
                    raise SourceUnavailable(
                        f"calendar {href} not found on CalDAV server "
                        f"{self.config.url}; fix the account's calendar list"
                    ) from gone
                log.warning("caldav calendar gone during sync", calendar=href)
            totals.update(sync.counts)
            if progress is not None:
                progress(done, len(calendars))
        log.info("caldav account read", calendars=len(calendars), **totals)

    def _calendars(self, client: CaldavClient) -> list[str]:
        if self.config.calendars is not None:
            return list(self.config.calendars)
        calendars = client.discover_calendars()
        if not calendars:
            # Dropping every calendar on an empty discovery would delete the
            # account's meetings over what may be a wrong URL.
            raise SourceUnavailable(
                f"no calendars found for CalDAV user {self.config.username!r} "
                f"at {self.config.url}; check the account's URL, or list its "
                "calendars in the account's settings"
            )
        return calendars

    def _load_state(self, cursor: str | None) -> SyncState:
        try:
            return SyncState.load(cursor)
        except ValueError as error:
            log.warning(
                "caldav cursor unreadable, listing every calendar", error=str(error)
            )
            return SyncState()


class CalendarSync:
    """One read of one calendar: its changes, then its window-dependent objects.

    `counts` records what the read did, for the logs.
    """

    def __init__(
        self,
        client: CaldavClient,
        state: SyncState,
        href: str,
        window: Window,
        zone: zoneinfo.ZoneInfo,
        batch_size: int,
    ) -> None:
        self.client = client
        self.state = state
        self.href = href
        self.window = window
        self.zone = zone
        self.batch_size = batch_size
        self.calendar = state.calendars.setdefault(href, CalendarState())
        # Objects fetched in this read, or requested and left out of the
        # response, so that no later step of the read requests them again.
        self.requested_hrefs: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.log = log.bind(calendar=href)

    def run(self) -> Iterator[Item]:
        """Yield the calendar's items; the last carries the calendar's cursor."""
        return _with_last_position(self._items(), self.state.dump)

    def _items(self) -> Iterator[Item]:
        properties = self.client.calendar_properties(self.href)
        incremental = (
            self.calendar.listing is None
            and self.calendar.sync_token is not None
            and properties.sync_token is not None
        )
        if not incremental:
            yield from self._listing(properties.sync_token)
        elif properties.sync_token != self.calendar.sync_token:
            try:
                changes = self._collect_changes()
            except (SyncTokenRejected, _SyncIncomplete) as rejected:
                self.log.warning("caldav sync token unusable", error=str(rejected))
                yield from self._listing(properties.sync_token)
            else:
                yield from self._apply_changes(changes)
        yield from self._read_unfinished()
        if self.calendar.window != window_key(self.window):
            hrefs = sorted(self.calendar.window_dependent - self.requested_hrefs)
            if hrefs:
                self.counts["window_rereads"] += len(hrefs)
            yield from self._read_objects(hrefs, {})
            self.calendar.window = window_key(self.window)
        self.log.info("caldav calendar read", **self.counts)

    def _read_unfinished(self) -> Iterator[Item]:
        """Fetch the objects whose last read did not finish.

        A sync token moves past such an object, because the server counts
        it as delivered, so only its empty ETag in the state recalls it.
        """
        hrefs = sorted(
            href
            for href, etag in self.calendar.etags.items()
            if not etag and href not in self.requested_hrefs
        )
        if hrefs:
            self.counts["unfinished"] += len(hrefs)
        yield from self._read_objects(hrefs, {})

    def _collect_changes(self) -> _Changes:
        """Gather every page of a sync-collection report.

        Raises _SyncIncomplete when the server truncates its response
        without giving a new token, which would repeat the same page.
        """
        token = self.calendar.sync_token
        changed: dict[str, str | None] = {}
        removed: set[str] = set()
        for _page in range(MAX_SYNC_PAGES):
            page = self.client.sync_collection(self.href, token or "")
            for href in page.removed:
                changed.pop(href, None)
                removed.add(href)
            for href, etag in page.changed.items():
                removed.discard(href)
                changed[href] = etag
            if not page.sync_token:
                raise _SyncIncomplete("the response has no sync token")
            if not page.truncated:
                return _Changes(changed, removed, page.sync_token)
            if page.sync_token == token:
                raise _SyncIncomplete("a truncated response repeats the token")
            self.counts["truncated_pages"] += 1
            token = page.sync_token
        raise _SyncIncomplete(f"still truncated after {MAX_SYNC_PAGES} responses")

    def _apply_changes(self, changes: _Changes) -> Iterator[Item]:
        self.counts["incremental"] = 1
        since = _now()
        for href in sorted(changes.removed):
            yield self._removal(href, since)
        stale = [
            href
            for href, etag in changes.changed.items()
            if etag is None or self.calendar.etags.get(href) != etag
        ]
        yield from self._read_objects(sorted(stale), changes.changed)
        self.calendar.sync_token = changes.sync_token

    def _listing(self, sync_token: str | None) -> Iterator[Item]:
        """List every object and fetch the changed ones.

        `sync_token` was read before the listing, so it covers what the
        listing finds and is stored once the listing is done.
        """
        self.counts["listing"] = 1
        listing = self.calendar.listing
        if listing is None:
            listing = ListingState(_now(), from_scratch=not self.calendar.etags)
            self.calendar.listing = listing
        listed = self.client.list_etags(self.href)
        since = _now()
        for href in sorted(set(self.calendar.etags) - set(listed)):
            yield self._removal(href, since)
        stale = [
            href
            for href, etag in listed.items()
            if etag is None or self.calendar.etags.get(href) != etag
        ]
        yield from self._read_objects(sorted(stale), listed)
        if listing.from_scratch:
            self.calendar.listed_since = listing.since
        self.calendar.listing = None
        self.calendar.sync_token = sync_token
        if self.calendar.listed_since is not None:
            # Every object listed now was read after `listed_since`, so a
            # sighting older than it belongs to an object gone unnoticed.
            prefix = calendar_prefix(self.href)
            yield ScopeListed(prefix, since=self.calendar.listed_since)

    def _read_objects(
        self, hrefs: list[str], listed: Mapping[str, str | None]
    ) -> Iterator[Item]:
        """Fetch and read objects in multiget batches.

        Before each batch, the objects not yet known enter the state with an
        empty ETag.  The batch's first item carries that state as its
        position, so a read cut short within the batch fetches its objects
        again, or removes those that have gone meanwhile.
        """
        for start in range(0, len(hrefs), self.batch_size):
            batch = hrefs[start : start + self.batch_size]
            known = {href for href in batch if href in self.calendar.etags}
            for href in batch:
                self.calendar.etags.setdefault(href, "")
            position = self.state.dump()
            items = self._read_batch(batch, known, listed)
            yield from _with_first_position(items, position)

    def _read_batch(
        self, batch: list[str], known: set[str], listed: Mapping[str, str | None]
    ) -> Iterator[Item]:
        since = _now()
        result = self.client.multiget(self.href, batch)
        reread = []
        self.requested_hrefs.update(batch)
        for href in batch:
            if href in result.missing:
                yield self._removal(href, since)
                continue
            found = result.found.get(href)
            if found is None:
                # Left out of the response: its empty or old ETag in the
                # state makes the next read fetch it again.
                self.counts["not_returned"] += 1
                self.log.warning("caldav object not returned", href=href)
                continue
            read = read_object(self.href, href, found.data, self.window, self.zone)
            self._count(read.items)
            yield from read.items
            self.calendar.etags[href] = found.etag or listed.get(href) or ""
            if read.window_dependent:
                self.calendar.window_dependent.add(href)
            else:
                self.calendar.window_dependent.discard(href)
            if href in known:
                reread.append(href)
        for href in reread:
            yield ScopeListed(object_prefix(self.href, href), since=since)

    def _removal(self, href: str, since: dt.datetime) -> ScopeListed:
        self.calendar.forget(href)
        self.counts["removed"] += 1
        return ScopeListed(object_prefix(self.href, href), since=since)

    def _count(self, items: Iterable[Item]) -> None:
        self.counts["objects"] += 1
        for item in items:
            if isinstance(item, Activity):
                self.counts["occurrences"] += 1
            elif isinstance(item, Quarantined):
                self.counts["quarantined"] += 1


@dataclasses.dataclass(frozen=True)
class _Changes:
    """The members a sync-collection report listed, and its last token."""

    changed: dict[str, str | None]
    removed: set[str]
    sync_token: str


class _SyncIncomplete(Exception):
    """The sync-collection report cannot be followed to its end."""


def _drop_calendars(state: SyncState, hrefs: set[str]) -> Iterator[Item]:
    """Drop the calendars no longer read, and every sighting from them."""
    for href in sorted(hrefs):
        del state.calendars[href]
        log.info("caldav calendar dropped", calendar=href)
        yield ScopeListed(calendar_prefix(href), since=_now(), position=state.dump())


def _with_first_position(items: Iterator[Item], position: str) -> Iterator[Item]:
    first = True
    for item in items:
        if first:
            item = _with_position(item, position)
            first = False
        yield item


def _with_last_position(
    items: Iterator[Item], position: Callable[[], str]
) -> Iterator[Item]:
    """Yield `items`, holding each back until the next one, and give the last
    one the position that `position` returns once `items` is exhausted."""
    held: Item | None = None
    try:
        for item in items:
            if held is not None:
                yield held
            held = item
    except Exception:
        # The state already counts the held item, so it must still go out.
        if held is not None:
            yield held
        raise
    if held is not None:
        yield _with_position(held, position())


def _with_position(item: Item, position: str) -> Item:
    if isinstance(item, Activity):
        item.position = position
        return item
    return dataclasses.replace(item, position=position)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
