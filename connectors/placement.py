"""Writing follow-up events to a calendar: the records and the writer interface.

A `CalendarWriter` places events on one calendar of one account and reads
that calendar's busy times.  Each event carries Warmline's `key` for its
follow-up, so that an event created by a run that crashed before it stored
the event's id can be found again (`find`) instead of created twice:

- Google Calendar: a private extended property;
- Microsoft Graph: a single-value extended property, and the key as the
  event's transactionId, which makes Graph ignore a repeated create;
- CalDAV: the event's UID, which also names its resource.

Times are aware datetimes in UTC on the way in and out.  Writers raise the
errors of connectors.errors and nothing else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Protocol

KEY_PROPERTY = "warmlineFollowUp"
"""Name of the extended property that contains the key (Google and Graph)."""


@dataclasses.dataclass(frozen=True)
class EventDraft:
    """The event Warmline wants on the calendar for one follow-up.

    `time_zone` is the IANA zone the event is shown in, the staff member's.
    """

    key: str
    summary: str
    description: str
    start: dt.datetime
    end: dt.datetime
    time_zone: str


@dataclasses.dataclass(frozen=True)
class PlacedEvent:
    """An event as it is on the calendar now.

    `start` and `end` are None when the event is no longer a timed event,
    such as after a person turned it into an all-day event.
    """

    event_id: str
    start: dt.datetime | None
    end: dt.datetime | None


class CalendarWriter(Protocol):
    """Places and removes follow-up events on one calendar."""

    def busy(
        self, start: dt.datetime, end: dt.datetime
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        """Return the busy intervals between `start` and `end`."""

    def find(self, key: str) -> PlacedEvent | None:
        """Return the event that carries `key`, or None."""

    def get(self, event_id: str) -> PlacedEvent | None:
        """Return the event, or None when it was deleted."""

    def create(self, draft: EventDraft) -> PlacedEvent:
        """Create the event and return it."""

    def update(self, event_id: str, draft: EventDraft, move: bool) -> PlacedEvent:
        """Change the event's text, and its times too when `move` is true.

        Raises RemoteGone when the event no longer exists.
        """

    def delete(self, event_id: str) -> None:
        """Delete the event; an event already gone is not an error."""

    def close(self) -> None:
        """Release the writer's connections."""
