"""Outlook calendars through Graph calendar-view delta, against the local emulator."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import Activity, Flag, Item, ParticipantRole, Removed
from connectors.calendar import TimezoneResolver
from connectors.microsoft import GraphClient, OutlookCalendarReader
from connectors.microsoft.calendar import event_item, instance_key
from tests.emulators.microsoft import FakeClock, GraphEmulator, Mailbox, address
from tests.emulators.microsoft.harness import (
    CLIENT_ID,
    LoopbackGuard,
    SignedIn,
    sign_in,
)

DATA = Path(__file__).parent.parent / "data" / "microsoft"
NOW = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
THAO = address("Thao Nguyen", "thao.nguyen@cedar-im.example")


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def emulator(
    tmp_path_factory: pytest.TempPathFactory, clock: FakeClock
) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-calendar"), clock)
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGuard]:
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture
def user(
    emulator: GraphEmulator, request: pytest.FixtureRequest
) -> Iterator[tuple[Mailbox, SignedIn]]:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40]
    upn = f"{name}@brookside-pt.example"
    mailbox = emulator.add_user(upn, "Priya Natarajan")
    yield mailbox, sign_in(emulator, upn)
    emulator.faults.clear()


def reader(
    client: GraphClient, now: dt.datetime = NOW, **options: object
) -> OutlookCalendarReader:
    return OutlookCalendarReader(client, now=lambda: now, **options)  # type: ignore[arg-type]


def read(
    client: GraphClient, cursor: str | None, now: dt.datetime = NOW, **options: object
) -> tuple[list[Item], str]:
    calendar_reader = reader(client, now, **options)
    items = list(calendar_reader.read(cursor))
    assert calendar_reader.final_cursor is not None
    return items, calendar_reader.final_cursor


def activities(items: list[Item]) -> dict[str, Activity]:
    return {item.provider_key: item for item in items if isinstance(item, Activity)}


def removed(items: list[Item]) -> list[str]:
    return [item.provider_key for item in items if isinstance(item, Removed)]


def weekly(mailbox: Mailbox, first: dt.datetime, count: int = 4, **options: object):
    return mailbox.calendars.add_event(
        subject="Weekly huddle - Cedar IM",
        start=first,
        end=first + dt.timedelta(hours=1),
        organizer=THAO,
        attendees=[
            {
                "type": "required",
                "emailAddress": {
                    "name": "Priya Natarajan",
                    "address": "priya.n@brookside-pt.example",
                },
                "status": {"response": "accepted"},
            }
        ],
        every=dt.timedelta(days=7),
        count=count,
        **options,
    )


def test_organizer_missing_names_and_cancelled(emulator, clock, user):
    mailbox, signed = user
    mailbox.calendars.raw_items = json.loads(
        (DATA / "c31_calendar_view.json").read_text()
    )["value"]

    items, _cursor = read(
        signed.client(clock), None, default_timezone="America/Los_Angeles"
    )

    found = activities(items)
    assert sorted(found) == ["AAMkEv1", "AAMkEv3"]
    lunch = found["AAMkEv1"]
    assert lunch.occurred_at == dt.datetime(2026, 3, 10, 17, tzinfo=dt.UTC)
    assert lunch.external_id == "040000008200E00074C5B7101A82E00800000000AB12"
    assert lunch.addresses(ParticipantRole.ORGANIZER) == []
    assert lunch.addresses(ParticipantRole.ATTENDEE) == ["frontdesk@elmwood-fm.example"]
    assert lunch.participants[0].name == "Front Desk"
    assert any("Chidi Okafor" in defect for defect in lunch.defects)
    open_house = found["AAMkEv3"]
    assert Flag.ALL_DAY in open_house.flags
    assert open_house.occurred_at == dt.datetime(2026, 4, 15, 7, tzinfo=dt.UTC)
    assert sorted(removed(items)) == ["AAMkEv2", "AAMkEv4"]


def test_windows_time_zone_converted(emulator, clock, user):
    mailbox, signed = user
    start = dt.datetime(2026, 3, 20, 17, tzinfo=dt.UTC)
    event = mailbox.calendars.add_event(
        subject="Visit",
        start=start,
        end=start + dt.timedelta(hours=1),
        organizer=THAO,
        time_zone="Pacific Standard Time",
    )

    items, _cursor = read(signed.client(clock), None)

    assert activities(items)[event.id].occurred_at == start


def test_occurrences_keyed_by_series_and_original_start(emulator, clock, user):
    mailbox, signed = user
    first = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)
    series = weekly(mailbox, first)

    items, _cursor = read(signed.client(clock), None)

    found = activities(items)
    assert len(found) == 4
    key = f"{series.id} 2026-03-09T15:00:00Z"
    assert found[key].occurrence == first + dt.timedelta(days=7)
    assert found[key].external_id == series.ical_uid
    assert found[key].addresses(ParticipantRole.ORGANIZER) == [
        "thao.nguyen@cedar-im.example"
    ]
    assert found[key].participants[1].response == "accepted"


def test_moved_occurrence_keeps_its_key(emulator, clock, user):
    mailbox, signed = user
    first = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)
    series = weekly(mailbox, first)
    _items, cursor = read(signed.client(clock), None)
    original = first + dt.timedelta(days=14)
    moved_to = original + dt.timedelta(days=1, hours=2)
    mailbox.calendars.move_occurrence(
        series.id, original, start=moved_to, end=moved_to + dt.timedelta(hours=1)
    )

    items, _cursor = read(signed.client(clock), cursor)

    [moved] = activities(items).values()
    assert moved.provider_key == f"{series.id} 2026-03-16T15:00:00Z"
    assert moved.occurrence == original
    assert moved.occurred_at == moved_to
    assert removed(items) == []


def test_deleted_occurrence_inferred(emulator, clock, user):
    mailbox, signed = user
    first = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)
    series = weekly(mailbox, first)
    _items, cursor = read(signed.client(clock), None)
    mailbox.calendars.delete_occurrence(series.id, first + dt.timedelta(days=7))
    start = len(emulator.log)

    items, _cursor = read(signed.client(clock), cursor)

    assert removed(items) == [f"{series.id} 2026-03-09T15:00:00Z"]
    assert len(activities(items)) == 3
    checks = [r for r in emulator.log[start:] if "/instances" in r.target]
    assert len(checks) == 1


def test_changed_exception_alone_removes_nothing(emulator, clock, user):
    mailbox, signed = user
    first = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)
    series = weekly(mailbox, first)
    _items, cursor = read(signed.client(clock), None)
    mailbox.calendars.move_occurrence(series.id, first, subject="Huddle moved upstairs")

    items, _cursor = read(signed.client(clock), cursor)

    assert [a.subject for a in activities(items).values()] == ["Huddle moved upstairs"]
    assert removed(items) == []


def test_cancelled_occurrence_removed(emulator, clock, user):
    mailbox, signed = user
    first = dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC)
    series = weekly(mailbox, first)
    _items, cursor = read(signed.client(clock), None)
    mailbox.calendars.move_occurrence(
        series.id, first + dt.timedelta(days=21), is_cancelled=True
    )

    items, _cursor = read(signed.client(clock), cursor)

    assert removed(items) == [f"{series.id} 2026-03-23T15:00:00Z"]


def test_deleted_series_removes_every_occurrence(emulator, clock, user):
    mailbox, signed = user
    series = weekly(mailbox, dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC), count=3)
    _items, cursor = read(signed.client(clock), None)
    mailbox.calendars.delete_event(series.id)

    items, _cursor = read(signed.client(clock), cursor)

    assert sorted(removed(items)) == [
        f"{series.id} 2026-03-02T15:00:00Z",
        f"{series.id} 2026-03-09T15:00:00Z",
        f"{series.id} 2026-03-16T15:00:00Z",
    ]


def test_declined_meeting_flagged(emulator, clock, user):
    mailbox, signed = user
    start = dt.datetime(2026, 3, 5, 16, tzinfo=dt.UTC)
    event = mailbox.calendars.add_event(
        subject="Grand rounds",
        start=start,
        end=start + dt.timedelta(hours=1),
        organizer=THAO,
        response="declined",
    )

    items, _cursor = read(signed.client(clock), None)

    assert Flag.DECLINED in activities(items)[event.id].flags


def test_event_moved_out_of_window_removed(emulator, clock, user):
    mailbox, signed = user
    start = dt.datetime(2026, 3, 5, 16, tzinfo=dt.UTC)
    event = mailbox.calendars.add_event(
        subject="Visit", start=start, end=start + dt.timedelta(hours=1), organizer=THAO
    )
    _items, cursor = read(signed.client(clock), None)
    later = dt.datetime(2027, 1, 5, 16, tzinfo=dt.UTC)
    mailbox.calendars.update_event(
        event.id, start=later, end=later + dt.timedelta(hours=1)
    )

    items, _cursor = read(signed.client(clock), cursor)

    assert removed(items) == [event.id]


def test_expired_delta_restarts_one_calendar(emulator, clock, user):
    mailbox, signed = user
    visits = mailbox.calendars.add_calendar("Referral visits")
    start = dt.datetime(2026, 3, 5, 16, tzinfo=dt.UTC)
    kept = mailbox.calendars.add_event(
        subject="Kept", start=start, end=start + dt.timedelta(hours=1), organizer=THAO
    )
    gone = mailbox.calendars.add_event(
        subject="Gone", start=start, end=start + dt.timedelta(hours=2), organizer=THAO
    )
    mailbox.calendars.add_event(
        subject="Other",
        start=start,
        end=start + dt.timedelta(hours=1),
        organizer=THAO,
        calendar_id=visits.id,
    )
    _items, cursor = read(signed.client(clock), None, calendars=("", "Referral visits"))
    mailbox.calendars.delete_event(gone.id)
    mailbox.calendars.changes = [
        c for c in mailbox.calendars.changes if c.event_id != gone.id
    ]
    emulator.graph.expire_delta_tokens(mailbox, mailbox.calendars.default.id)
    start_index = len(emulator.log)

    items, _cursor = read(
        signed.client(clock), cursor, calendars=("", "Referral visits")
    )

    assert list(activities(items)) == [kept.id]
    assert removed(items) == [gone.id]
    visit_requests = [r for r in emulator.log[start_index:] if visits.id in r.target]
    assert visit_requests and all("$deltatoken=" in r.target for r in visit_requests)


def test_window_roll_keeps_past_meetings(emulator, clock, user):
    mailbox, signed = user
    past = NOW - dt.timedelta(days=175)
    mailbox.calendars.add_event(
        subject="Old visit",
        start=past,
        end=past + dt.timedelta(hours=1),
        organizer=THAO,
    )
    soon = NOW + dt.timedelta(days=3)
    upcoming = mailbox.calendars.add_event(
        subject="Soon", start=soon, end=soon + dt.timedelta(hours=1), organizer=THAO
    )
    first, cursor = read(signed.client(clock), None)
    assert len(activities(first)) == 2

    items, _cursor = read(signed.client(clock), cursor, now=NOW + dt.timedelta(days=10))

    assert list(activities(items)) == [upcoming.id]
    assert removed(items) == []


def test_incremental_sync_costs_one_request(emulator, clock, user):
    mailbox, signed = user
    weekly(mailbox, dt.datetime(2026, 3, 2, 15, tzinfo=dt.UTC))
    _items, cursor = read(signed.client(clock), None)
    start = len(emulator.log)

    items, _cursor = read(signed.client(clock), cursor)

    assert items == []
    assert len([r for r in emulator.log[start:] if r.mailbox == mailbox.user.upn]) == 1


def test_graph_documentation_event_in_windows_zone():
    [orientation, _picnic] = json.loads(
        (DATA / "graph_docs__event_get.json").read_text()
    )

    activity = event_item(
        orientation, instance_key(orientation), None, TimezoneResolver(), dt.UTC
    )

    assert isinstance(activity, Activity)
    assert activity.occurred_at == dt.datetime(2017, 4, 21, 17, tzinfo=dt.UTC)
    assert activity.location == "Assembly Hall"
    responses = {
        p.address: p.response
        for p in activity.participants
        if p.role is ParticipantRole.ATTENDEE
    }
    assert responses == {
        "samanthab@a830edad905084922e17020313.onmicrosoft.com": "needs-action",
        "danas@a830edad905084922e17020313.onmicrosoft.com": "tentative",
    }


def test_graph_documentation_calendar_view_rounds():
    rounds = json.loads(
        (DATA / "graph_docs__calendarview_delta_rounds.json").read_text()
    )
    events = [raw for page in rounds[:3] for raw in page["value"]]

    built = [
        event_item(raw, instance_key(raw), None, TimezoneResolver(), dt.UTC)
        for raw in events
    ]

    assert all(isinstance(activity, Activity) for activity in built)
    assert built[0].occurred_at == dt.datetime(2016, 12, 9, 20, 30, tzinfo=dt.UTC)
    assert built[0].addresses(ParticipantRole.ORGANIZER) == [
        "samanthab@contoso.onmicrosoft.com"
    ]
