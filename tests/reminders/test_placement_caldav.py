"""Follow-up placement on CalDAV calendars, against a real Radicale server.

The tests run on SQLite only, because the database work is the same as on
Google, whose tests also run on PostgreSQL.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import urllib.parse
from collections.abc import Iterator
from xml.etree import ElementTree

import icalendar
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.reminders import placement_support as scenarios
from tests.reminders.placement_support import (  # noqa: F401  (fixtures)
    Clinic,
    sqlite_engine,
    sqlite_sessions,
)
from tests.servers.radicale import RadicaleServer, Seeder
from tests.servers.radicale import radicale as radicale  # noqa: F401
from warmline.models import Account, StaffMember
from warmline.readers import ReaderServices
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.workspaces import get_or_create_workspace

SAM = "sam.ortiz@brookside-pt.example"
ANA = "ana.reyes@brookside-pt.example"


class RadicaleSide:
    """Each staff member's Radicale user and calendar, seen over plain HTTP."""

    def __init__(self, server: RadicaleServer, box: SecretBox) -> None:
        self.server = server
        self.box = box
        self.users: dict[str, tuple[str, str]] = {}
        self.calendars: dict[str, str] = {}
        self.seeders: dict[str, Seeder] = {}

    def connect(self, sessions: sessionmaker[Session], email: str) -> int:
        user, password = self.server.add_user(email.split(".")[0])
        seeder = self.server.seeder(user, password)
        self.users[email] = (user, password)
        self.seeders[email] = seeder
        self.calendars[email] = seeder.make_calendar("work")
        with sessions.begin() as session:
            workspace = get_or_create_workspace(session, scenarios.WORKSPACE)
            member = session.scalars(
                select(StaffMember).where(StaffMember.email == email)
            ).one()
            account = Account(
                workspace_id=workspace.id,
                staff_member_id=member.id,
                provider="caldav",
                # The user's principal URL, so two users of one server differ.
                location=f"{self.server.url}{user}/",
                options={"username": user, "calendars": [self.calendars[email]]},
            )
            session.add(account)
            session.flush()
            account_id = account.id
        DatabaseCredentialStore(sessions, account_id, self.box).save(password)
        return account_id

    def _event(self, email: str, event_id: str) -> icalendar.Event | None:
        user, password = self.users[email]
        text = _get(self.server, user, password, event_id)
        if text is None:
            return None
        return next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))

    def times(
        self, email: str, event_id: str
    ) -> tuple[dt.datetime, dt.datetime] | None:
        event = self._event(email, event_id)
        if event is None:
            return None
        return (
            event["DTSTART"].dt.astimezone(dt.UTC),
            event["DTEND"].dt.astimezone(dt.UTC),
        )

    def summary(self, email: str, event_id: str) -> str:
        event = self._event(email, event_id)
        assert event is not None
        return str(event["SUMMARY"])

    def move(self, email: str, event_id: str, start: dt.datetime) -> None:
        user, password = self.users[email]
        text = _get(self.server, user, password, event_id)
        assert text is not None
        calendar = icalendar.Calendar.from_ical(text)
        event = next(iter(calendar.walk("VEVENT")))
        length = event["DTEND"].dt - event["DTSTART"].dt
        for name, value in (("DTSTART", start), ("DTEND", start + length)):
            event.pop(name)
            event.add(name, value.astimezone(dt.UTC))
        self.seeders[email].put(event_id, calendar.to_ical().decode("utf-8"))

    def delete(self, email: str, event_id: str) -> None:
        self.seeders[email].delete(event_id)

    def block(self, email: str, start: dt.datetime, end: dt.datetime) -> None:
        stamp = "%Y%m%dT%H%M%SZ"
        uid = f"busy-{start:%Y%m%d%H%M}"
        text = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261201T000000Z\r\n"
            f"DTSTART:{start.astimezone(dt.UTC).strftime(stamp)}\r\n"
            f"DTEND:{end.astimezone(dt.UTC).strftime(stamp)}\r\n"
            "SUMMARY:Clinic meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        self.seeders[email].put(f"{self.calendars[email]}{uid}.ics", text)

    def writes(self) -> int:
        """Fingerprint every calendar's objects and ETags.

        Radicale logs no requests at the test server's log level, so this
        is no count; equal values mean no object was written in between.
        """
        listing = []
        for email, calendar in sorted(self.calendars.items()):
            user, password = self.users[email]
            listing.extend(_etags(self.server, user, password, calendar))
        return hash(tuple(sorted(listing)))


def _request(
    server: RadicaleServer,
    user: str,
    password: str,
    method: str,
    path: str,
    body: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request(
            method,
            urllib.parse.quote(urllib.parse.unquote(path)),
            body=body.encode("utf-8"),
            headers={"Authorization": f"Basic {credentials}", **(headers or {})},
        )
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()


def _get(server: RadicaleServer, user: str, password: str, path: str) -> str | None:
    status, body = _request(server, user, password, "GET", path)
    if status == 404:
        return None
    assert status == 200, (status, body[:300])
    return body


_PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<propfind xmlns="DAV:"><prop><getetag/></prop></propfind>'
)


def _etags(
    server: RadicaleServer, user: str, password: str, calendar: str
) -> list[tuple[str, str]]:
    status, body = _request(
        server,
        user,
        password,
        "PROPFIND",
        calendar,
        _PROPFIND,
        {"Depth": "1", "Content-Type": "application/xml"},
    )
    assert status == 207, (status, body[:300])
    tree = ElementTree.fromstring(body)
    found = []
    for response in tree.iter("{DAV:}response"):
        href = response.findtext("{DAV:}href") or ""
        etag = response.findtext(".//{DAV:}getetag") or ""
        found.append((href, etag))
    return found


@pytest.fixture
def clinic(
    sessions: sessionmaker[Session],
    radicale: RadicaleServer,  # noqa: F811
) -> Iterator[Clinic]:
    box = SecretBox([Fernet.generate_key()])
    side = RadicaleSide(radicale, box)
    yield Clinic(sessions, ReaderServices(sessions, lambda: box), side)


def test_create_then_rerun(clinic, radicale):  # noqa: F811
    scenarios.check_create_then_rerun(clinic, SAM)

    event_id = clinic.event_id(clinic.rows_all()[0].follow_up_id)
    user, password = clinic.side.users[SAM]
    text = _get(radicale, user, password, event_id)
    assert text is not None
    event = next(iter(icalendar.Calendar.from_ical(text).walk("VEVENT")))
    assert event_id.endswith(f"/{event['UID']}.ics")
    assert str(event["X-WARMLINE-FOLLOW-UP"]) == str(event["UID"])


def test_busy_time_avoided(clinic):
    scenarios.check_busy_time_avoided(clinic, SAM)


def test_text_update_keeps_time(clinic):
    scenarios.check_text_update_keeps_time(clinic, SAM)


def test_moved_by_staff_stays(clinic):
    scenarios.check_moved_by_staff_stays(clinic, SAM)


def test_snooze_moves_unmoved_event(clinic):
    scenarios.check_snooze_moves_unmoved_event(clinic, SAM)


def test_closed_removes(clinic):
    scenarios.check_closed_removes(clinic, SAM)


def test_closed_after_staff_deleted(clinic):
    scenarios.check_closed_after_staff_deleted(clinic, SAM)


def test_deleted_by_staff_not_recreated(clinic):
    scenarios.check_deleted_by_staff_not_recreated(clinic, SAM)


def test_handover_moves_event(clinic):
    scenarios.check_handover_moves_event(clinic, SAM, ANA)


def test_no_free_slot_reported(clinic):
    scenarios.check_no_free_slot_reported(clinic, SAM)


def test_lost_row_adopts_event(clinic):
    scenarios.check_lost_row_adopts_event(clinic, SAM)


def test_recurring_meeting_is_busy(clinic):
    """A daily huddle from a series that began weeks ago blocks 09:00-10:00."""
    sam = clinic.staff(SAM, "Sam Ortiz")
    huddle = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:America/Chicago\r\n"
        "BEGIN:STANDARD\r\nDTSTART:19701101T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\n"
        "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0600\r\nEND:STANDARD\r\n"
        "BEGIN:DAYLIGHT\r\nDTSTART:19700308T020000\r\n"
        "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n"
        "TZOFFSETFROM:-0600\r\nTZOFFSETTO:-0500\r\nEND:DAYLIGHT\r\n"
        "END:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:huddle@test\r\nDTSTAMP:20261001T000000Z\r\n"
        "DTSTART;TZID=America/Chicago:20261001T090000\r\n"
        "DTEND;TZID=America/Chicago:20261001T100000\r\n"
        "RRULE:FREQ=DAILY\r\nSUMMARY:Huddle\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    clinic.side.seeders[SAM].put(f"{clinic.side.calendars[SAM]}huddle.ics", huddle)
    first = clinic.follow_up(sam, "Riverside Family Medicine")

    outcomes = clinic.place()

    # 10:00 in Chicago, after the day's huddle.
    assert outcomes[first].starts_at == dt.datetime(2026, 12, 7, 16, 0, tzinfo=dt.UTC)
