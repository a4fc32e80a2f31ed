"""CaldavReader against a real Radicale on a loopback port."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest

from connectors.caldav import CaldavReader
from connectors.caldav.cursor import SyncState
from connectors.errors import NeedsReauthorization, SourceUnavailable, TransientError
from connectors.files.ics import IcsReader
from connectors.records import Activity, Item, Quarantined, ScopeListed
from tests.servers.radicale import RadicaleServer, Seeder
from tests.servers.radicale import fresh_radicale as fresh_radicale  # noqa: F401
from tests.servers.radicale import radicale as radicale  # noqa: F401

ICS = Path(__file__).parent.parent / "data" / "ics"
ZONE = "America/Chicago"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


WINDOW = {"window_start": utc(2026, 1, 1), "window_end": utc(2027, 1, 1)}


def calendar(*lines: str) -> str:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Warmline tests//EN", *lines]
    return "\r\n".join([*body, "END:VCALENDAR", ""])


def visit(uid: str, start: str, summary: str = "Visit at Cedar IM") -> str:
    return calendar(
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start}",
        f"SUMMARY:{summary}",
        "ORGANIZER;CN=Sam Ortiz:mailto:sam.ortiz@brookside-pt.example",
        "ATTENDEE;CN=Thao Nguyen:mailto:thao.nguyen@cedar-im.example",
        "END:VEVENT",
    )


HUDDLE_MASTER = [
    "BEGIN:VEVENT",
    "UID:huddle-7f3a@google.com",
    "DTSTAMP:20260225T000000Z",
    "SEQUENCE:1",
    "SUMMARY:Weekly huddle with Ridgeway Ortho",
    "ORGANIZER;CN=Sam Ortiz:mailto:sam.ortiz@brookside-pt.example",
    "ATTENDEE:mailto:ridgeway-frontdesk@ridgeway-ortho.example",
    "DTSTART;TZID=America/Chicago:20260302T080000",
    "DTEND;TZID=America/Chicago:20260302T083000",
    "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4",
    "END:VEVENT",
]
HUDDLE_MOVED = [
    "BEGIN:VEVENT",
    "UID:huddle-7f3a@google.com",
    "DTSTAMP:20260310T000000Z",
    "SEQUENCE:2",
    "SUMMARY:Weekly huddle with Ridgeway Ortho (moved)",
    "RECURRENCE-ID;TZID=America/Chicago:20260316T080000",
    "DTSTART;TZID=America/Chicago:20260317T090000",
    "DTEND;TZID=America/Chicago:20260317T093000",
    "END:VEVENT",
]
HUDDLE_CANCELLED = [
    "BEGIN:VEVENT",
    "UID:huddle-7f3a@google.com",
    "DTSTAMP:20260310T000000Z",
    "SEQUENCE:2",
    "STATUS:CANCELLED",
    "RECURRENCE-ID;TZID=America/Chicago:20260323T080000",
    "DTSTART;TZID=America/Chicago:20260323T080000",
    "DTEND;TZID=America/Chicago:20260323T083000",
    "END:VEVENT",
]
HUDDLE_KEY = "huddle-7f3a@google.com"


class Account:
    """One Radicale user with calendars, and readers for it."""

    def __init__(self, server: RadicaleServer) -> None:
        self.server = server
        self.user, self.password = server.add_user("sam")
        self.seeder: Seeder = server.seeder(self.user, self.password)

    def reader(self, **changes: Any) -> CaldavReader:
        fields: dict[str, Any] = {"default_timezone": ZONE, **WINDOW}
        fields.update(changes)
        return CaldavReader(self.server.config(self.user, self.password, **fields))

    def read(self, cursor: str | None = None, **changes: Any) -> tuple[list[Item], str]:
        reader = self.reader(**changes)
        items = list(reader.read(cursor))
        assert reader.final_cursor is not None
        return items, reader.final_cursor


@pytest.fixture
def account(radicale: RadicaleServer) -> Account:  # noqa: F811
    return Account(radicale)


def activities(items: list[Item]) -> list[Activity]:
    return [item for item in items if isinstance(item, Activity)]


def scopes(items: list[Item]) -> list[ScopeListed]:
    return [item for item in items if isinstance(item, ScopeListed)]


def keys(items: list[Item]) -> list[str]:
    return sorted(item.provider_key for item in activities(items))


def token_of(cursor: str, calendar_href: str) -> str | None:
    token: str | None = json.loads(cursor)["calendars"][calendar_href]["sync_token"]
    return token


# Discovery and first sync.


def test_discovery_reads_every_calendar(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    visits = account.seeder.make_calendar("visits")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    account.seeder.put(f"{visits}b.ics", visit("b@x", "20260303T150000Z"))

    items, cursor = account.read()

    assert keys(items) == [f"{visits}|{visits}b.ics|b@x", f"{work}|{work}a.ics|a@x"]
    assert sorted(json.loads(cursor)["calendars"]) == [visits, work]


def test_first_sync_reads_meeting_fields(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))

    items, _cursor = account.read()

    (activity,) = activities(items)
    assert activity.external_id == "a@x"
    assert activity.occurred_at == utc(2026, 3, 2, 15)
    assert activity.subject == "Visit at Cedar IM"
    assert [p.address for p in activity.participants] == [
        "sam.ortiz@brookside-pt.example",
        "thao.nguyen@cedar-im.example",
    ]


def test_first_sync_ends_with_calendar_scope(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    before = dt.datetime.now(dt.UTC)

    items, cursor = account.read()

    last = items[-1]
    assert isinstance(last, ScopeListed)
    assert last.prefix == f"{work}|"
    assert last.since >= before
    assert last.position == cursor


def test_first_sync_stores_token_and_etags(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    etag = account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))

    _items, cursor = account.read()

    state = json.loads(cursor)["calendars"][work]
    assert state["sync_token"].startswith("http://radicale.org/ns/sync/")
    assert state["etags"] == {f"{work}a.ics": etag}
    assert state["listing"] is None


def test_configured_calendars_only(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    visits = account.seeder.make_calendar("visits")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    account.seeder.put(f"{visits}b.ics", visit("b@x", "20260303T150000Z"))

    items, cursor = account.read(calendars=(visits,))

    assert keys(items) == [f"{visits}|{visits}b.ics|b@x"]
    assert list(json.loads(cursor)["calendars"]) == [visits]


def test_configured_missing_calendar_unavailable(account: Account) -> None:
    missing = f"/{account.user}/nowhere/"

    with pytest.raises(SourceUnavailable, match="nowhere.*not found"):
        account.read(calendars=(missing,))


def test_configured_collection_not_calendar(account: Account) -> None:
    account.seeder.make_calendar("work")

    with pytest.raises(SourceUnavailable, match="is not a calendar"):
        account.read(calendars=(f"/{account.user}/",))


def test_progress_counts_calendars(account: Account) -> None:
    account.seeder.make_calendar("work")
    account.seeder.make_calendar("visits")
    calls = []

    list(account.reader().read(None, lambda done, total: calls.append((done, total))))

    assert calls == [(0, 2), (1, 2), (2, 2)]


# Incremental sync.


def test_unchanged_calendar_yields_nothing(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    _items, cursor = account.read()

    items, again = account.read(cursor)

    assert items == []
    assert again == cursor


def test_added_event_alone_is_read(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    _items, cursor = account.read()
    account.seeder.put(f"{work}b.ics", visit("b@x", "20260303T150000Z"))

    items, new_cursor = account.read(cursor)

    assert keys(items) == [f"{work}|{work}b.ics|b@x"]
    assert scopes(items) == []
    assert token_of(new_cursor, work) != token_of(cursor, work)


def test_changed_event_replaces_its_sightings(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    _items, cursor = account.read()
    before = dt.datetime.now(dt.UTC)
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260304T150000Z", "Moved"))

    items, _cursor = account.read(cursor)

    (activity,) = activities(items)
    assert activity.occurred_at == utc(2026, 3, 4, 15)
    assert activity.subject == "Moved"
    (scope,) = scopes(items)
    assert scope.prefix == f"{work}|{work}a.ics|"
    assert before <= scope.since <= dt.datetime.now(dt.UTC)
    assert items.index(scope) > items.index(activity)


def test_moved_occurrence_keeps_its_key(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}huddle.ics", calendar(*HUDDLE_MASTER))
    first, cursor = account.read()
    account.seeder.put(f"{work}huddle.ics", calendar(*HUDDLE_MASTER, *HUDDLE_MOVED))

    items, _cursor = account.read(cursor)

    assert keys(items) == keys(first)
    moved = [a for a in activities(items) if a.occurrence == utc(2026, 3, 16, 13)]
    (occurrence,) = moved
    assert occurrence.provider_key == (
        f"{work}|{work}huddle.ics|{HUDDLE_KEY} 2026-03-16T13:00:00Z"
    )
    assert occurrence.occurred_at == utc(2026, 3, 17, 14)
    assert occurrence.subject == "Weekly huddle with Ridgeway Ortho (moved)"
    assert [scope.prefix for scope in scopes(items)] == [f"{work}|{work}huddle.ics|"]


def test_cancelled_occurrence_left_to_scope(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}huddle.ics", calendar(*HUDDLE_MASTER))
    _first, cursor = account.read()
    updated = calendar(*HUDDLE_MASTER, *HUDDLE_MOVED, *HUDDLE_CANCELLED)
    account.seeder.put(f"{work}huddle.ics", updated)

    items, _cursor = account.read(cursor)

    occurrences = sorted(a.occurrence for a in activities(items) if a.occurrence)
    assert occurrences == [
        utc(2026, 3, 2, 14),
        utc(2026, 3, 9, 13),
        utc(2026, 3, 16, 13),
    ]
    assert isinstance(items[-1], ScopeListed)
    assert items[-1].prefix == f"{work}|{work}huddle.ics|"


def test_deleted_event_removes_every_occurrence(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}huddle.ics", calendar(*HUDDLE_MASTER))
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    _first, cursor = account.read()
    account.seeder.delete(f"{work}huddle.ics")

    items, new_cursor = account.read(cursor)

    assert activities(items) == []
    assert [scope.prefix for scope in scopes(items)] == [f"{work}|{work}huddle.ics|"]
    state = json.loads(new_cursor)["calendars"][work]
    assert list(state["etags"]) == [f"{work}a.ics"]
    assert state["window_dependent"] == []


def test_deleted_calendar_drops_its_scope(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    visits = account.seeder.make_calendar("visits")
    account.seeder.put(f"{visits}b.ics", visit("b@x", "20260303T150000Z"))
    _first, cursor = account.read()
    account.seeder.delete(visits)

    items, new_cursor = account.read(cursor)

    (scope,) = scopes(items)
    assert scope.prefix == f"{visits}|"
    assert list(json.loads(new_cursor)["calendars"]) == [work]


# A rejected sync token.


def test_rejected_token_lists_changes_once(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    account.seeder.put(f"{work}b.ics", visit("b@x", "20260303T150000Z"))
    _first, cursor = account.read()
    first_listing = json.loads(cursor)["calendars"][work]["listed_since"]
    account.seeder.put(f"{work}c.ics", visit("c@x", "20260304T150000Z"))
    account.seeder.delete(f"{work}b.ics")
    # Radicale rejects an unknown token with 403 and DAV:valid-sync-token.
    unknown = "http://radicale.org/ns/sync/" + "0" * 64
    corrupt = cursor.replace(token_of(cursor, work) or "", unknown)

    items, new_cursor = account.read(corrupt)

    assert keys(items) == [f"{work}|{work}c.ics|c@x"]
    assert [scope.prefix for scope in scopes(items)] == [
        f"{work}|{work}b.ics|",
        f"{work}|",
    ]
    assert scopes(items)[-1].since.isoformat() == first_listing
    assert token_of(new_cursor, work) not in (None, unknown)
    again, _cursor = account.read(new_cursor)
    assert again == []


def test_unreadable_cursor_lists_again(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    before = dt.datetime.now(dt.UTC)

    items, _cursor = account.read('{"version": "caldav-0"}')

    assert keys(items) == [f"{work}|{work}a.ics|a@x"]
    assert scopes(items)[-1].since >= before


# A read cut short.


def test_listing_resumes_after_crash(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    for name in ("a", "b", "c"):
        account.seeder.put(f"{work}{name}.ics", visit(f"{name}@x", "20260302T150000Z"))
    reader = account.reader(multiget_size=2)
    stream = reader.read(None)
    # The pipeline stored the position of the first item and crashed.
    stored = next(stream).position
    # Iterator has no close(), but read() returns a generator.
    stream.close()  # type: ignore[attr-defined]
    assert stored is not None
    account.seeder.delete(f"{work}b.ics")
    started = SyncState.load(stored).calendars[work].listing
    assert started is not None

    items, _cursor = account.read(stored, multiget_size=2)

    assert keys(items) == [f"{work}|{work}a.ics|a@x", f"{work}|{work}c.ics|c@x"]
    assert [scope.prefix for scope in scopes(items)] == [
        f"{work}|{work}b.ics|",
        f"{work}|{work}a.ics|",
        f"{work}|",
    ]
    assert scopes(items)[-1].since == started.since


def test_every_position_is_a_cursor(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    for name in ("a", "b", "c", "d", "e"):
        account.seeder.put(f"{work}{name}.ics", visit(f"{name}@x", "20260302T150000Z"))

    items, _cursor = account.read(multiget_size=2)

    positions = [item.position for item in items if item.position is not None]
    assert len(positions) == 4
    for position in positions:
        SyncState.load(position)


# The window.


def test_moved_window_rereads_recurring_events(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}huddle.ics", calendar(*HUDDLE_MASTER))
    account.seeder.put(f"{work}a.ics", visit("a@x", "20260302T150000Z"))
    first, cursor = account.read(window_end=utc(2026, 3, 10))
    assert len(activities(first)) == 3

    items, new_cursor = account.read(cursor, window_end=utc(2026, 4, 1))

    assert len(activities(items)) == 4
    assert all("huddle.ics" in key for key in keys(items))
    assert [scope.prefix for scope in scopes(items)] == [f"{work}|{work}huddle.ics|"]
    window = json.loads(new_cursor)["calendars"][work]["window"]
    assert window == [utc(2026, 1, 1).isoformat(), utc(2026, 4, 1).isoformat()]


def test_event_after_window_enters_later(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(f"{work}far.ics", visit("far@x", "20270301T150000Z"))
    first, cursor = account.read()
    assert activities(first) == []

    items, _cursor = account.read(cursor, window_end=utc(2027, 6, 1))

    assert keys(items) == [f"{work}|{work}far.ics|far@x"]


# Events written by Outlook, Exchange and Google, as an .ics import reads them.

_EVENT_BLOCK = re.compile(r"^BEGIN:VEVENT\r?\n.*?^END:VEVENT\r?\n", re.M | re.S)
_TIMEZONE_BLOCK = re.compile(
    r"^BEGIN:VTIMEZONE\r?\n.*?^END:VTIMEZONE\r?\n", re.M | re.S
)
_UID_LINE = re.compile(r"^UID:(.*)$", re.M)


def split_by_uid(text: str) -> list[str]:
    """Split an .ics export into one calendar object per UID (RFC 4791 4.1).

    Each object keeps the export's calendar properties except METHOD, which
    a calendar collection may not hold, and every VTIMEZONE.
    """
    text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    events = _EVENT_BLOCK.findall(text)
    timezones = _TIMEZONE_BLOCK.findall(text)
    header = text[
        : min(m.start() for m in re.finditer(r"^BEGIN:V(EVENT|TIMEZONE)", text, re.M))
    ]
    properties = [
        line
        for line in re.split(r"\r\n(?![ \t])", header)
        if line and not line.startswith(("BEGIN:VCALENDAR", "METHOD:"))
    ]
    groups: dict[str, list[str]] = {}
    for event in events:
        unfolded = re.sub(r"\r\n[ \t]", "", event)
        uid = _UID_LINE.search(unfolded)
        assert uid is not None
        groups.setdefault(uid.group(1).strip(), []).append(event)
    return [
        "BEGIN:VCALENDAR\r\n"
        + "".join(line + "\r\n" for line in properties)
        + "".join(timezones)
        + "".join(group)
        + "END:VCALENDAR\r\n"
        for group in groups.values()
    ]


def comparable(activity: Activity) -> tuple[Any, ...]:
    key = activity.provider_key.rsplit("|", 1)[-1]
    return (
        key,
        activity.external_id,
        activity.occurred_at,
        activity.ends_at,
        activity.occurrence,
        activity.subject,
        activity.location,
        activity.participants,
        activity.flags,
        activity.defects,
    )


@pytest.mark.parametrize(
    "name",
    [
        "google_recurrence_overrides.ics",
        "google_x_wr_timezone.ics",
        "google_invite_request.ics",
        "outlook_customized_time_zone.ics",
        "exchange_windows_time_zones.ics",
        "exchange_romance_standard_time.ics",
        "iphone_through_exchange.ics",
    ],
)
def test_vendor_events_read_as_ics_import(
    fresh_radicale: RadicaleServer,  # noqa: F811
    name: str,
) -> None:
    # A server of its own, because Radicale would otherwise give "Customized
    # Time Zone" the definition another test stored (see tests.servers.radicale).
    account = Account(fresh_radicale)
    window: dict[str, Any] = {
        "window_start": utc(2010, 1, 1),
        "window_end": utc(2030, 1, 1),
    }
    work = account.seeder.make_calendar("work")
    for number, text in enumerate(split_by_uid((ICS / name).read_text("utf-8"))):
        account.seeder.put(f"{work}event-{number}.ics", text)
    ics_items = list(IcsReader(ICS / name, default_timezone=ZONE, **window).read(None))

    items, _cursor = account.read(**window)

    assert [i for i in items if isinstance(i, Quarantined)] == []
    expected = sorted(comparable(a) for a in activities(ics_items))
    assert expected
    assert sorted(comparable(a) for a in activities(items)) == expected


# Failures.


def test_wrong_password_needs_reauthorization(account: Account) -> None:
    account.seeder.make_calendar("work")
    config = account.server.config(account.user, "wrong-password-123")

    with pytest.raises(NeedsReauthorization) as raised:
        list(CaldavReader(config).read(None))

    message = str(raised.value)
    assert account.user in message
    assert account.server.url in message
    assert "wrong-password-123" not in message


def test_unreachable_server_is_transient(radicale: RadicaleServer) -> None:  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = radicale.config("sam", "pw", url=f"http://127.0.0.1:{port}/")
    delays: list[float] = []

    with pytest.raises(TransientError, match="ConnectionError"):
        list(CaldavReader(config, sleep=delays.append).read(None))

    assert len(delays) == config.retry.max_attempts - 1
    assert all(0 <= delay <= config.retry.backoff_max for delay in delays)


def test_href_spelling_kept_across_reports(account: Account) -> None:
    work = account.seeder.make_calendar("work")
    account.seeder.put(
        f"{work}visit%40cedar%20im.ics", visit("v@x", "20260302T150000Z")
    )
    first, cursor = account.read()
    account.seeder.delete(f"{work}visit%40cedar%20im.ics")

    items, _cursor = account.read(cursor)

    assert keys(first) == [f"{work}|{work}visit@cedar%20im.ics|v@x"]
    assert [scope.prefix for scope in scopes(items)] == [
        f"{work}|{work}visit@cedar%20im.ics|"
    ]


def test_no_calendars_found_unavailable(account: Account) -> None:
    with pytest.raises(SourceUnavailable, match="no calendars found"):
        account.read()
