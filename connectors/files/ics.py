"""Read an exported .ics calendar file as meeting activities.

Unit of sync: one .ics file, exported by Google Calendar, Outlook, Exchange,
Apple Calendar, Zimbra or any other iCalendar producer.  The file is the
calendar's whole content (`full_listing`), so an occurrence the file no longer
contains is gone from the calendar.

States: none between reads.  The cursor is a hash of the file's bytes, the
window and the default zone.  A read whose cursor equals the current hash
yields nothing and keeps the cursor.  Any other read yields every occurrence
in the window, so a change of the window (once a day, with the default one)
or of `CURSOR_VERSION` leads to a full read.  Items carry no position,
because a read cut short cannot be resumed.  Only `final_cursor`, set once
the whole file has been read, covers the read.

Limits: icalendar parses the whole file into memory before the first
occurrence is yielded, so memory use grows with the file size.  Occurrences
are then yielded one at a time, and each recurrence rule is expanded only
within the window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from collections.abc import Iterator
from pathlib import Path

import structlog

from connectors.base import ProgressCallback, Reader
from connectors.calendar import (
    Window,
    context_for,
    load_iana_zone,
    parse_calendar,
    read_series,
    series_of,
)
from connectors.errors import MalformedData, SourceUnavailable
from connectors.records import Activity, Item, Quarantined

log = structlog.get_logger(__name__)

CURSOR_VERSION = "ics-1"
"""Prefix of every cursor.  Change it when a change to this reader should
make every .ics account read its file again."""


class IcsReader(Reader):
    """Reads the meeting occurrences of one .ics file.

    `default_timezone` (an IANA name) is the zone for all-day dates, floating
    times and time zones the file does not define.  The window runs from
    `window_start` to `window_end`, both aware datetimes.  A bound left out
    defaults to three years before the read or one year after it.
    """

    full_listing = True

    def __init__(
        self,
        path: Path,
        *,
        default_timezone: str = "UTC",
        window_start: dt.datetime | None = None,
        window_end: dt.datetime | None = None,
    ) -> None:
        super().__init__()
        self.path = Path(path)
        self.default_timezone = default_timezone
        self.window_start = window_start
        self.window_end = window_end
        # Checked here so that a naive bound fails at once, not at read time.
        Window.around(dt.datetime.now(dt.UTC), window_start, window_end)

    def read(
        self, cursor: str | None, progress: ProgressCallback | None = None
    ) -> Iterator[Item]:
        """Yield the file's occurrences in the window, unless `cursor` is current.

        Raises SourceUnavailable when the file cannot be read, is not
        iCalendar, or the default zone is unknown.
        """
        zone = self._default_zone()
        window = Window.around(
            dt.datetime.now(dt.UTC), self.window_start, self.window_end
        )
        data = self._read_bytes()
        current = self._cursor(data, window)
        if cursor == current:
            self.final_cursor = current
            return
        try:
            parsed = parse_calendar(data)
        except MalformedData as error:
            raise SourceUnavailable(
                f"calendar file {self.path} cannot be read: {error}; "
                "export the calendar as an .ics file again"
            ) from error
        context = context_for(parsed.calendar, window, zone, parsed.defects)
        all_series = series_of(parsed.calendar)
        total = sum(len(events) for events in all_series)
        done = activities = quarantined = 0
        if progress is not None:
            progress(done, total)
        for events in all_series:
            for item in read_series(events, context):
                if isinstance(item, Activity):
                    activities += 1
                elif isinstance(item, Quarantined):
                    quarantined += 1
                yield item
            done += len(events)
            if progress is not None:
                progress(done, total)
        self.final_cursor = current
        log.info(
            "ics file read",
            path=str(self.path),
            events=total,
            occurrences=activities,
            quarantined=quarantined,
        )

    def _default_zone(self) -> zoneinfo.ZoneInfo:
        zone = load_iana_zone(self.default_timezone)
        if zone is None:
            raise SourceUnavailable(
                f"time zone {self.default_timezone!r} set for calendar file "
                f"{self.path} is unknown; set an IANA name such as America/Chicago"
            )
        return zone

    def _read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError as error:
            raise SourceUnavailable(
                f"calendar file {self.path} not found; check the account's path "
                "or export the calendar there again"
            ) from error
        except IsADirectoryError as error:
            raise SourceUnavailable(
                f"calendar file {self.path} is a directory; set the path of "
                "an .ics file"
            ) from error
        except PermissionError as error:
            raise SourceUnavailable(
                f"calendar file {self.path} cannot be read: permission denied; "
                "let the Warmline service read it"
            ) from error
        except OSError as error:
            raise SourceUnavailable(
                f"calendar file {self.path} cannot be read: {error.strerror}; "
                "check the file and the disk"
            ) from error

    def _cursor(self, data: bytes, window: Window) -> str:
        digest = hashlib.sha256(data)
        settings = (
            f"\n{window.start.isoformat()}\n{window.end.isoformat()}"
            f"\n{self.default_timezone}"
        )
        digest.update(settings.encode())
        return f"{CURSOR_VERSION}:{digest.hexdigest()}"
