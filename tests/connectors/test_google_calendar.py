"""GoogleCalendarReader against the emulator: sync tokens, 410, event shapes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from connectors import (
    Activity,
    ConnectorError,
    CursorExpired,
    Flag,
    ParticipantRole,
    Removed,
    ScopeListed,
    TransientError,
)
from connectors.google import CALENDAR_QUOTA, CalendarCursor, StoredCredentials
from connectors.google.client import CALENDAR_API, ApiClient
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy
from tests.emulators.google import DEFAULT_USER, Fault, GoogleEmulator
from tests.emulators.google.calendar import FORBIDDEN_WITH_SYNC_TOKEN
from tests.emulators.google.harness import (
    FAST_RETRY,
    LoopbackOnly,
    MemoryCredentialStore,
    calendar_reader,
    grant_store,
    read_all,
    settings_for,
)
from tests.emulators.google.state import Calendar

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
CHICAGO = "America/Chicago"
GROUP_CALENDAR = "c_8f2k1m@group.calendar.google.com"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackOnly]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(time_zone=CHICAGO) as emulator:
        yield emulator


@pytest.fixture
def emulator(server: GoogleEmulator) -> Iterator[GoogleEmulator]:
    user = server.user()
    user.calendars = {"primary": Calendar(DEFAULT_USER, CHICAGO)}
    server.faults.clear()
    server.calls.clear()
    yield server
    server.faults.clear()


def reader(
    emulator: GoogleEmulator,
    clock: Clock | None = None,
    store: MemoryCredentialStore | None = None,
    **options: Any,
) -> Any:
    return calendar_reader(emulator, store, clock=clock or Clock(NOW), **options)


def meeting(event_id: str, start: str, end: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "iCalUID": f"{event_id}@google.com",
        "status": "confirmed",
        "summary": f"Meeting {event_id}",
        "start": {"dateTime": start},
        "end": {"dateTime": end},
        "organizer": {"email": DEFAULT_USER, "self": True},
        **fields,
    }


def huddle(day: int) -> dict[str, Any]:
    original = f"2026-03-{day:02d}T08:00:00-05:00"
    return {
        "id": f"huddle7f3a_202603{day:02d}T130000Z",
        "status": "confirmed",
        "recurringEventId": "huddle7f3a",
        "iCalUID": "huddle7f3a@google.com",
        "summary": "Weekly huddle with Ridgeway Ortho",
        "originalStartTime": {"dateTime": original, "timeZone": CHICAGO},
        "start": {"dateTime": original},
        "end": {"dateTime": f"2026-03-{day:02d}T08:30:00-05:00"},
        "organizer": {"email": DEFAULT_USER, "self": True},
        "attendees": [
            {
                "email": "ridgeway-frontdesk@ridgeway-ortho.example",
                "responseStatus": "accepted",
            }
        ],
    }


def by_key(items: list[Any]) -> dict[str, Any]:
    return {item.provider_key: item for item in items}


def incremental_calls(emulator: GoogleEmulator) -> list[dict[str, list[str]]]:
    return [c.query for c in emulator.calls_to("events.list") if "syncToken" in c.query]


# --- cancelled items, moved instances, all-day and placeholder organizers ---------


def test_incremental_round_shapes(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    calendar.put(meeting("evtdel01", "2026-03-12T15:00:00Z", "2026-03-12T16:00:00Z"))
    for day in (16, 23):
        calendar.put(huddle(day))
    first = reader(emulator)
    read_all(first, None)
    calendar.cancel("evtdel01")
    calendar.cancel("huddle7f3a_20260323T130000Z")
    moved = huddle(16)
    moved["summary"] = "Weekly huddle with Ridgeway Ortho (moved)"
    moved["start"] = {"dateTime": "2026-03-17T09:00:00-05:00"}
    moved["end"] = {"dateTime": "2026-03-17T09:30:00-05:00"}
    calendar.put(moved)
    calendar.put(
        {
            "id": "openhouse1",
            "iCalUID": "openhouse1@google.com",
            "summary": "Ridgeway open house",
            "start": {"date": "2026-04-15"},
            "end": {"date": "2026-04-16"},
            "organizer": {"email": GROUP_CALENDAR, "displayName": "Ridgeway events"},
        }
    )
    calendar.put(
        meeting(
            "fwd77",
            "2026-03-20T15:00:00Z",
            "2026-03-20T15:30:00Z",
            summary="Visit at Cedar IM",
            organizer={
                "email": "unknownorganizer@calendar.google.com",
                "displayName": "Unknown Organizer",
            },
            privateCopy=True,
        )
    )
    emulator.faults.add(Fault("events.list", kind="empty_page"))
    second = reader(emulator)

    items = read_all(second, first.final_cursor)

    assert len(incremental_calls(emulator)) == 2
    positions = [item.position for item in items if item.position]
    assert positions == [second.final_cursor]
    assert items[-1].position == second.final_cursor
    found = by_key(items)
    assert isinstance(found["primary/evtdel01"], Removed)
    series = [i for i in items if isinstance(i, ScopeListed)]
    assert [s.prefix for s in series] == ["primary/evtdel01 "]
    assert isinstance(found["primary/huddle7f3a 2026-03-23T13:00:00Z"], Removed)
    instance = found["primary/huddle7f3a 2026-03-16T13:00:00Z"]
    assert instance.external_id == "huddle7f3a@google.com"
    assert instance.occurrence == dt.datetime(2026, 3, 16, 13, 0, tzinfo=dt.UTC)
    assert instance.occurred_at == dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC)
    assert "ridgeway-frontdesk@ridgeway-ortho.example" in instance.addresses(
        ParticipantRole.ATTENDEE
    )
    openhouse = found["primary/openhouse1"]
    assert openhouse.occurred_at == dt.datetime(2026, 4, 15, 5, 0, tzinfo=dt.UTC)
    assert Flag.ALL_DAY in openhouse.flags
    assert openhouse.participants == ()
    visit = found["primary/fwd77"]
    assert visit.addresses(ParticipantRole.ORGANIZER) == []


def test_cancelled_entry_has_no_other_fields(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    calendar.put(huddle(23))
    first = reader(emulator)
    read_all(first, None)
    calendar.cancel("huddle7f3a_20260323T130000Z")

    read_all(reader(emulator), first.final_cursor)

    served = emulator.calls_to("events.list")[-1]
    assert served.status == 200
    event = calendar.events["huddle7f3a_20260323T130000Z"]
    assert event["status"] == "cancelled"


def test_declined_meeting_is_flagged(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    attendees = [
        {"email": DEFAULT_USER, "self": True, "responseStatus": "declined"},
        {"email": "maria.lopez@riverside-fm.example", "responseStatus": "needsAction"},
        {"email": "room-2@resource.calendar.google.com", "resource": True},
    ]
    calendar.put(
        meeting(
            "lunch1",
            "2026-03-11T17:00:00Z",
            "2026-03-11T18:00:00Z",
            organizer={
                "email": "Maria.Lopez@riverside-fm.example",
                "displayName": "Maria Lopez",
            },
            attendees=attendees,
        )
    )

    items = read_all(reader(emulator), None)

    lunch = by_key(items)["primary/lunch1"]
    assert Flag.DECLINED in lunch.flags
    assert lunch.addresses(ParticipantRole.ORGANIZER) == [
        "maria.lopez@riverside-fm.example"
    ]
    responses = {
        p.address: p.response for p in lunch.participants if p.role == "attendee"
    }
    assert responses == {
        DEFAULT_USER: "declined",
        "maria.lopez@riverside-fm.example": "needs-action",
    }


# --- sync token gone (410) and forbidden parameters (400) -------------------------


@pytest.mark.parametrize("with_reason", [True, False])
def test_410_runs_full_listing(emulator: GoogleEmulator, with_reason: bool) -> None:
    calendar = emulator.user().calendars["primary"]
    for number in range(3):
        calendar.put(
            meeting(
                f"visit{number}",
                f"2026-03-0{number + 2}T15:00:00Z",
                f"2026-03-0{number + 2}T16:00:00Z",
            )
        )
    first = reader(emulator)
    read_all(first, None)
    old_state = CalendarCursor.load(first.final_cursor).states["primary"]
    del calendar.events["visit1"]
    calendar.invalidate_sync_tokens(with_reason=with_reason)
    emulator.calls.clear()
    second = reader(emulator)

    items = read_all(second, first.final_cursor)

    statuses = [c.status for c in emulator.calls_to("events.list")]
    assert statuses == [410, 200]
    full = emulator.calls_to("events.list")[-1].query
    assert full["timeMin"] == [old_state.floor.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert sorted(a.provider_key for a in items if isinstance(a, Activity)) == [
        "primary/visit0",
        "primary/visit2",
    ]
    assert isinstance(items[-1], ScopeListed)
    assert items[-1].prefix == "primary/"
    new_state = CalendarCursor.load(second.final_cursor).states["primary"]
    assert new_state.sync_token not in (None, old_state.sync_token)
    assert items[-1].position == second.final_cursor


def test_incremental_never_sends_forbidden_parameters(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    calendar.put(meeting("a1", "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"))
    first = reader(emulator)
    read_all(first, None)
    calendar.put(meeting("a2", "2026-03-03T15:00:00Z", "2026-03-03T16:00:00Z"))
    second = reader(emulator)
    read_all(second, first.final_cursor)

    calls = emulator.calls_to("events.list")

    full, incremental = calls[0].query, calls[1].query
    assert all(c.status == 200 for c in calls)
    assert "syncToken" in incremental
    for name in (*FORBIDDEN_WITH_SYNC_TOKEN, "showDeleted"):
        assert name not in incremental
    assert incremental["singleEvents"] == full["singleEvents"] == ["true"]
    assert "showDeleted" not in full
    assert incremental["maxResults"] == full["maxResults"]


def test_forbidden_parameter_is_not_retried(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    first = reader(emulator)
    read_all(first, None)
    token = CalendarCursor.load(first.final_cursor).states["primary"].sync_token
    settings = settings_for(emulator)
    client = ApiClient(
        CALENDAR_API,
        settings.calendar_endpoint,
        StoredCredentials.from_store(grant_store(emulator), settings.token_uri),
        settings,
        CALENDAR_QUOTA,
        QuotaBudget(600, 60),
        RetryPolicy(FAST_RETRY),
    )

    with pytest.raises(
        ConnectorError, match="syncTokenWithRequestRestrictions"
    ) as raised:
        client.execute(
            "events.list",
            lambda service: service.events().list(
                calendarId="primary", syncToken=token, timeMin="2026-01-01T00:00:00Z"
            ),
            "events.list",
        )
    client.close()

    assert not isinstance(raised.value, (TransientError, CursorExpired))
    assert [c.status for c in emulator.calls_to("events.list")][-1] == 400
    assert calendar.events == {}


def test_no_changes_cost_one_request(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    calendar.put(meeting("a1", "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"))
    store = grant_store(emulator)
    first = reader(emulator, store=store)
    read_all(first, None)
    before = sum(emulator.http_requests.values())
    second = reader(emulator, store=store)

    items = read_all(second, first.final_cursor)

    assert items == []
    assert sum(emulator.http_requests.values()) - before == 1
    assert second.final_cursor == first.final_cursor


def test_full_listing_repeats_after_relist_days(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    calendar.put(meeting("a1", "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"))
    clock = Clock(NOW)
    first = reader(emulator, clock)
    read_all(first, None)
    floor = CalendarCursor.load(first.final_cursor).states["primary"].floor
    clock.now = NOW + dt.timedelta(days=31)
    later = reader(emulator, clock)

    items = read_all(later, first.final_cursor)

    query = emulator.calls_to("events.list")[-1].query
    assert "syncToken" not in query
    assert query["timeMin"] == [floor.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert isinstance(items[-1], ScopeListed)
    state = CalendarCursor.load(later.final_cursor).states["primary"]
    assert state.floor == floor
    assert state.listed_at == clock.now


def test_incremental_drops_events_outside_window(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    first = reader(emulator)
    read_all(first, None)
    calendar.put(meeting("far", "2027-01-05T15:00:00Z", "2027-01-05T16:00:00Z"))
    calendar.put(meeting("near", "2026-04-05T15:00:00Z", "2026-04-05T16:00:00Z"))

    items = read_all(reader(emulator), first.final_cursor)

    assert [item.provider_key for item in items] == ["primary/near"]


def test_two_calendars_share_one_cursor(emulator: GoogleEmulator) -> None:
    user = emulator.user()
    user.calendars[GROUP_CALENDAR] = Calendar(GROUP_CALENDAR, CHICAGO)
    user.calendars["primary"].put(
        meeting("p1", "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z")
    )
    user.calendars[GROUP_CALENDAR].put(
        meeting("g1", "2026-03-03T15:00:00Z", "2026-03-03T16:00:00Z")
    )
    first = reader(emulator, calendars=("primary", GROUP_CALENDAR))

    items = read_all(first, None)

    assert {a.provider_key for a in items if isinstance(a, Activity)} == {
        "primary/p1",
        f"{GROUP_CALENDAR}/g1",
    }
    assert [s.prefix for s in items if isinstance(s, ScopeListed)] == [
        "primary/",
        f"{GROUP_CALENDAR}/",
    ]
    stored = json.loads(first.final_cursor)
    assert set(stored["calendars"]) == {"primary", GROUP_CALENDAR}


def test_calendar_server_errors_are_retried(emulator: GoogleEmulator) -> None:
    calendar = emulator.user().calendars["primary"]
    calendar.put(meeting("a1", "2026-03-02T15:00:00Z", "2026-03-02T16:00:00Z"))
    emulator.faults.add(
        Fault("events.list", status=503, reason="backendError", times=1),
        Fault("events.list", kind="drop", times=1),
        Fault(
            "events.list",
            status=403,
            reason="rateLimitExceeded",
            message="Rate Limit Exceeded",
            times=1,
        ),
    )

    items = read_all(reader(emulator), None)

    assert [item.provider_key for item in items if isinstance(item, Activity)] == [
        "primary/a1"
    ]
    assert [c.status for c in emulator.calls_to("events.list")] == [503, 200, 403, 200]
