"""Scenarios of follow-up placement, shared by the Google, Graph and CalDAV tests.

Each provider's test module supplies a `CalendarSide`: how to connect a
staff member's calendar account, and how to look at and change that
calendar behind Warmline's back, as a person would.  The scenarios then run
`place_follow_ups` against the real emulator or server and check both the
calendar and the database.

The clock is fixed at Monday 7 December 2026, 08:00 in Chicago (14:00 UTC),
so with the default working hours the first free slot is 09:00 local.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Protocol

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import empty_tables
from tests.reminders.factories import World
from warmline.db import create_engine, migrate, session_factory
from warmline.models import FollowUp, FollowUpStatus, StaffMember
from warmline.placement import Outcome, place_follow_ups
from warmline.placement_models import FollowUpPlacement
from warmline.readers import ReaderServices
from warmline.reminder_models import FollowUpBasis
from warmline.workspaces import get_or_create_workspace, set_workspace_setting

NOW = dt.datetime(2026, 12, 7, 14, 0, tzinfo=dt.UTC)
DUE = dt.date(2026, 12, 7)
NINE_LOCAL = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
HALF_HOUR = dt.timedelta(minutes=30)
WORKSPACE = "test"


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite database for one test module."""
    path = tmp_path_factory.mktemp("placement-db") / "warmline.db"
    engine = create_engine(f"sqlite:///{path}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(name="sessions")
def sqlite_sessions(sqlite_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions on SQLite alone, for modules whose database work another covers.

    Importing it into a test module replaces the `sessions` fixture that
    runs every test on SQLite and on PostgreSQL.
    """
    yield session_factory(sqlite_engine)
    empty_tables(sqlite_engine)


class CalendarSide(Protocol):
    """A provider's calendars, seen and changed from outside Warmline."""

    def connect(self, sessions: sessionmaker[Session], email: str) -> int:
        """Create the staff member's calendar account with write access."""

    def times(
        self, email: str, event_id: str
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """Return the event's start and end in UTC, or None once deleted."""

    def summary(self, email: str, event_id: str) -> str:
        """Return the event's title."""

    def move(self, email: str, event_id: str, start: dt.datetime) -> None:
        """Move the event to `start`, keeping its length, as a person would."""

    def delete(self, email: str, event_id: str) -> None:
        """Delete the event as a person would."""

    def block(self, email: str, start: dt.datetime, end: dt.datetime) -> None:
        """Add a busy event of someone else's making."""

    def writes(self) -> int:
        """Count or fingerprint the event writes received so far.

        Equal values before and after a pass mean the pass wrote nothing.
        """


@dataclasses.dataclass
class Clinic:
    """A workspace with placement on, its staff and one source per follow-up."""

    sessions: sessionmaker[Session]
    services: ReaderServices
    side: CalendarSide

    def __post_init__(self) -> None:
        with self.sessions.begin() as session:
            workspace = get_or_create_workspace(session, WORKSPACE)
            set_workspace_setting(session, workspace, "place_follow_ups", "true")

    def setting(self, name: str, value: str) -> None:
        with self.sessions.begin() as session:
            workspace = get_or_create_workspace(session, WORKSPACE)
            set_workspace_setting(session, workspace, name, value)

    def staff(self, email: str, name: str, connect: bool = True) -> int:
        with self.sessions.begin() as session:
            member = World(session, WORKSPACE).staff(email, name)
            member_id = member.id
        if connect:
            self.side.connect(self.sessions, email)
        return member_id

    def follow_up(
        self, staff_id: int, source: str, reason: str = "cold", due: dt.date = DUE
    ) -> int:
        with self.sessions.begin() as session:
            world = World(session, WORKSPACE)
            practice = world.practice(source)
            follow_up = FollowUp(
                workspace_id=world.workspace.id,
                source_id=practice.id,
                staff_member_id=staff_id,
                reason=reason,
                due_on=due,
                status=FollowUpStatus.OPEN,
            )
            session.add(follow_up)
            session.flush()
            session.add(
                FollowUpBasis(follow_up_id=follow_up.id, note="last touch 2026-10-01")
            )
            return follow_up.id

    def change(self, follow_up_id: int, **values: object) -> None:
        with self.sessions.begin() as session:
            follow_up = session.get_one(FollowUp, follow_up_id)
            for name, value in values.items():
                setattr(follow_up, name, value)

    def place(self, now: dt.datetime = NOW) -> dict[int | None, Outcome]:
        outcomes = place_follow_ups(self.sessions, WORKSPACE, self.services, now)
        return {outcome.follow_up_id: outcome for outcome in outcomes}

    def rows(self, follow_up_id: int) -> list[FollowUpPlacement]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(FollowUpPlacement).where(
                        FollowUpPlacement.follow_up_id == follow_up_id
                    )
                )
            )

    def rows_all(self) -> list[FollowUpPlacement]:
        with self.sessions() as session:
            return list(session.scalars(select(FollowUpPlacement)))

    def event_id(self, follow_up_id: int) -> str:
        rows = self.rows(follow_up_id)
        assert len(rows) == 1, rows
        assert rows[0].event_id is not None
        return rows[0].event_id

    def email(self, staff_id: int) -> str:
        with self.sessions() as session:
            return session.get_one(StaffMember, staff_id).email


# --- scenarios ---------------------------------------------------------------------


def check_create_then_rerun(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")

    outcomes = clinic.place()
    event_id = clinic.event_id(first)
    writes = clinic.side.writes()
    again = clinic.place()

    assert outcomes[first].action == "created"
    assert outcomes[first].starts_at == NINE_LOCAL
    assert clinic.side.times(email, event_id) == (NINE_LOCAL, NINE_LOCAL + HALF_HOUR)
    assert clinic.side.summary(email, event_id) == (
        "Touch base with Riverside Family Medicine"
    )
    assert again[first].action == "unchanged"
    assert clinic.side.writes() == writes
    with clinic.sessions() as session:
        assert session.get_one(FollowUp, first).calendar_event_id == event_id


def check_busy_time_avoided(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    clinic.side.block(email, NINE_LOCAL, NINE_LOCAL + dt.timedelta(minutes=50))
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    second = clinic.follow_up(sam, "Cedar Internal Medicine", reason="thank_you")

    outcomes = clinic.place()

    # 09:50 rounds up to the next quarter hour; the second takes the next slot.
    assert outcomes[first].starts_at == NINE_LOCAL + dt.timedelta(minutes=60)
    assert outcomes[second].starts_at == NINE_LOCAL + dt.timedelta(minutes=90)
    assert clinic.side.summary(email, clinic.event_id(second)) == (
        "Thank Cedar Internal Medicine"
    )


def check_text_update_keeps_time(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    event_id = clinic.event_id(first)
    with clinic.sessions.begin() as session:
        follow_up = session.get_one(FollowUp, first)
        follow_up.reason = "close_loop"

    outcomes = clinic.place()

    assert outcomes[first].action == "updated"
    assert clinic.event_id(first) == event_id
    assert clinic.side.summary(email, event_id) == (
        "Report back to Riverside Family Medicine"
    )
    assert clinic.side.times(email, event_id) == (NINE_LOCAL, NINE_LOCAL + HALF_HOUR)


def check_moved_by_staff_stays(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    event_id = clinic.event_id(first)
    chosen = dt.datetime(2026, 12, 8, 20, 0, tzinfo=dt.UTC)
    clinic.side.move(email, event_id, chosen)

    kept = clinic.place()
    clinic.change(first, due_on=dt.date(2026, 12, 21))
    snoozed = clinic.place()

    assert kept[first].action == "kept where staff moved it"
    # The description names the new due date; the times stay.
    assert snoozed[first].action == "updated"
    assert clinic.side.times(email, event_id) == (chosen, chosen + HALF_HOUR)
    assert clinic.rows(first)[0].moved_by_staff is True


def check_snooze_moves_unmoved_event(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    event_id = clinic.event_id(first)
    clinic.change(first, due_on=dt.date(2026, 12, 21))

    outcomes = clinic.place()

    new_start = dt.datetime(2026, 12, 21, 15, 0, tzinfo=dt.UTC)
    assert outcomes[first].action == "moved"
    assert clinic.side.times(email, event_id) == (new_start, new_start + HALF_HOUR)


def check_closed_removes(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    event_id = clinic.event_id(first)
    clinic.change(first, status=FollowUpStatus.DONE, closed_at=NOW)

    outcomes = clinic.place()
    writes = clinic.side.writes()
    again = clinic.place()

    assert outcomes[first].action == "removed"
    assert clinic.side.times(email, event_id) is None
    assert clinic.rows(first) == []
    assert first not in again
    assert clinic.side.writes() == writes
    with clinic.sessions() as session:
        assert session.get_one(FollowUp, first).calendar_event_id is None


def check_closed_after_staff_deleted(clinic: Clinic, email: str) -> None:
    """The event is gone before the pass that would remove it."""
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    clinic.side.delete(email, clinic.event_id(first))
    clinic.change(first, status=FollowUpStatus.DONE, closed_at=NOW)

    outcomes = clinic.place()

    assert outcomes[first].action == "removed"
    assert outcomes[first].detail == ""
    assert clinic.rows(first) == []


def check_deleted_by_staff_not_recreated(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    clinic.side.delete(email, clinic.event_id(first))
    writes = clinic.side.writes()

    outcomes = clinic.place()
    again = clinic.place()

    assert outcomes[first].action == "deleted by staff"
    assert again[first].action == "deleted by staff"
    assert clinic.side.writes() == writes
    assert clinic.rows(first)[0].status == "deleted_by_staff"


def check_handover_moves_event(clinic: Clinic, email: str, other: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    ana = clinic.staff(other, "Ana Reyes")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    old_event = clinic.event_id(first)
    clinic.change(first, staff_member_id=ana)

    outcomes = clinic.place()
    new_event = clinic.event_id(first)
    again = clinic.place()

    assert clinic.side.times(email, old_event) is None
    assert clinic.side.times(other, new_event) == (NINE_LOCAL, NINE_LOCAL + HALF_HOUR)
    assert outcomes[first].action == "created"
    assert outcomes[first].staff_email == other
    assert again[first].action == "unchanged"
    with clinic.sessions() as session:
        assert session.get_one(FollowUp, first).calendar_event_id == new_event


def check_no_free_slot_reported(clinic: Clinic, email: str) -> None:
    sam = clinic.staff(email, "Sam Ortiz")
    clinic.setting("placement_search_days", "2")
    busy_until = dt.datetime(2026, 12, 9, 6, 0, tzinfo=dt.UTC)
    clinic.side.block(email, NOW - dt.timedelta(hours=1), busy_until)
    first = clinic.follow_up(sam, "Riverside Family Medicine")

    outcomes = clinic.place()

    assert outcomes[first].action == "not placed"
    assert outcomes[first].detail == (
        "no free 30-minute slot within working hours 'mon-fri 09:00-17:00' "
        "(America/Chicago) from 2026-12-07 to 2026-12-08; free some time on the "
        "calendar or raise placement_search_days"
    )
    assert clinic.rows(first)[0].status == "unplaced"
    clinic.setting("placement_search_days", "3")
    later = clinic.place()
    assert later[first].action == "created"
    assert later[first].starts_at == dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)


def check_lost_row_adopts_event(clinic: Clinic, email: str) -> None:
    """A pass that crashed after creating the event finds it by its key."""
    sam = clinic.staff(email, "Sam Ortiz")
    first = clinic.follow_up(sam, "Riverside Family Medicine")
    clinic.place()
    event_id = clinic.event_id(first)
    with clinic.sessions.begin() as session:
        row = session.scalars(
            select(FollowUpPlacement).where(FollowUpPlacement.follow_up_id == first)
        ).one()
        row.status = "placing"
        row.event_id = None
        row.updated_at = NOW - dt.timedelta(hours=1)
    writes = clinic.side.writes()

    outcomes = clinic.place()

    assert outcomes[first].action == "adopted"
    assert clinic.event_id(first) == event_id
    assert clinic.side.writes() == writes
