"""Placing open follow-ups as events on their assignees' calendars.

One pass (`place_follow_ups`) brings every calendar in line with the open
follow-ups of a workspace.  It reads the follow-ups, the placements
(`FollowUpPlacement`, one row per follow-up and calendar account) and the
staff members' calendar accounts, then works account by account:

1. removes the events of follow-ups that were closed or deleted, and of
   follow-ups handed to another staff member (the new assignee's calendar
   gets a new event in step 3);
2. reads back each placed event.  An event whose times differ from those
   written was moved by a person: it keeps its new times for good
   (`moved_by_staff`).  An event that is gone was deleted by a person and
   is not placed again.  Otherwise a changed due date (a snooze) moves the
   event to a free slot from the new date, and changed text is rewritten;
3. places each follow-up that has no event yet, in the first free slot
   within the workspace's `working_hours` in the assignee's time zone, from
   the due date (or today) on for `placement_search_days` days.  Busy times
   come from the calendar itself, and each event placed in this pass counts
   as busy for the next.

Invariants: a follow-up has at most one event per calendar account (a
unique constraint), and a remote write is claimed first.  A row in state
`placing` is committed before an event is created, so a concurrent pass
skips it.  Once the event exists, the row is committed with its id, and a
pass that finds a `placing` row older than `CLAIM_TIMEOUT` (a crash) first
looks the event up by its key.  A second pass with nothing changed writes
nothing: it reads each placed event once and compares.

Each remote step commits on its own, so an error on one account (a grant
without write access, a server down) is reported for that account and the
others go on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from connectors import ConnectorError
from connectors.placement import CalendarWriter, EventDraft, PlacedEvent
from reminders.slots import Interval, SlotRequest, WorkingHours, find_slot
from warmline.models import (
    Account,
    FollowUp,
    FollowUpStatus,
    ReferralSource,
    StaffMember,
    Workspace,
)
from warmline.placement_models import FollowUpPlacement
from warmline.placement_writers import open_writer, write_problem
from warmline.readers import MissingCredentialError, ReaderServices
from warmline.reminder_models import FollowUpBasis
from warmline.workspaces import get_or_create_workspace, workspace_settings

log = structlog.get_logger(__name__)

CLAIM_TIMEOUT = dt.timedelta(minutes=10)
PLACING, PLACED, UNPLACED, DELETED_BY_STAFF = (
    "placing",
    "placed",
    "unplaced",
    "deleted_by_staff",
)
CALENDAR_PROVIDERS = ("google_calendar", "outlook_calendar", "caldav")
_SUMMARIES = {
    "cold": "Touch base with {label}",
    "close_loop": "Report back to {label}",
    "thank_you": "Thank {label}",
}


class PlacementError(ValueError):
    """Placement cannot run, such as while it is turned off."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of one pass for one follow-up on one calendar account.

    `action` is one of created, adopted, moved, updated, unchanged,
    kept where staff moved it, deleted by staff, removed, not placed or
    failed.  `starts_at` is the event's start in the staff member's zone.
    """

    follow_up_id: int | None
    staff_email: str
    source: str
    action: str
    starts_at: dt.datetime | None = None
    detail: str = ""


@dataclasses.dataclass(frozen=True)
class _FollowUp:
    follow_up_id: int
    staff_id: int
    label: str
    reason: str
    due_on: dt.date
    note: str


@dataclasses.dataclass(frozen=True)
class _Staff:
    email: str
    zone: zoneinfo.ZoneInfo
    hours: WorkingHours | None = None
    """Their own working hours; None: the workspace's."""


@dataclasses.dataclass
class _Plan:
    """The work of one pass, by account id."""

    removals: dict[int, list[int]] = dataclasses.field(
        default_factory=lambda: defaultdict(list)
    )
    checks: dict[int, list[int]] = dataclasses.field(
        default_factory=lambda: defaultdict(list)
    )
    creations: dict[int, list[tuple[_FollowUp, int | None]]] = dataclasses.field(
        default_factory=lambda: defaultdict(list)
    )
    outcomes: list[Outcome] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class _Settings:
    hours: WorkingHours
    duration: dt.timedelta
    search_days: int


@dataclasses.dataclass
class _Pass:
    """Everything a pass reads once: settings, staff, follow-ups, rows."""

    sessions: sessionmaker[Session]
    services: ReaderServices
    workspace_id: int
    now: dt.datetime
    settings: _Settings
    staff: dict[int, _Staff]
    follow_ups: dict[int, _FollowUp]
    labels: dict[int, tuple[str, int]]


def place_follow_ups(
    sessions: sessionmaker[Session],
    workspace_name: str,
    services: ReaderServices,
    now: dt.datetime,
) -> list[Outcome]:
    """Place, update and remove follow-up events on every staff calendar.

    Raises PlacementError when the workspace's `place_follow_ups` is off.
    """
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        run = _load(session, workspace, sessions, services, now)
        plan = _plan(session, run)
        accounts = sorted(set(plan.removals) | set(plan.checks) | set(plan.creations))
    outcomes = list(plan.outcomes)
    for account_id in accounts:
        outcomes.extend(_run_account(run, plan, account_id))
    log.info(
        "follow-up placement finished",
        workspace=workspace_name,
        **_counts(outcomes),
    )
    return outcomes


def _counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for outcome in outcomes:
        counts[outcome.action.replace(" ", "_")] += 1
    return dict(counts)


# --- reading -------------------------------------------------------------------


def _load(
    session: Session,
    workspace: Workspace,
    sessions: sessionmaker[Session],
    services: ReaderServices,
    now: dt.datetime,
) -> _Pass:
    values = workspace_settings(session, workspace)
    if not values["place_follow_ups"]:
        raise PlacementError(
            "follow-up placement is off; turn it on with "
            "'warmline config set place_follow_ups true', then connect calendars "
            "with write access ('warmline accounts connect google --follow-ups')"
        )
    settings = _Settings(
        hours=WorkingHours.parse(values["working_hours"]),
        duration=dt.timedelta(minutes=values["follow_up_event_minutes"]),
        search_days=values["placement_search_days"],
    )
    staff = {
        member.id: _Staff(
            member.email,
            zoneinfo.ZoneInfo(member.timezone),
            WorkingHours.parse(member.working_hours) if member.working_hours else None,
        )
        for member in session.scalars(
            select(StaffMember).where(StaffMember.workspace_id == workspace.id)
        )
    }
    follow_ups, labels = _open_follow_ups(session, workspace)
    return _Pass(
        sessions, services, workspace.id, now, settings, staff, follow_ups, labels
    )


def _open_follow_ups(
    session: Session, workspace: Workspace
) -> tuple[dict[int, _FollowUp], dict[int, tuple[str, int]]]:
    """Return the open follow-ups, and every follow-up's label and assignee."""
    practice = aliased(ReferralSource)
    rows = session.execute(
        select(FollowUp, ReferralSource.name, practice.name, FollowUpBasis.note)
        .join(ReferralSource, ReferralSource.id == FollowUp.source_id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .outerjoin(FollowUpBasis, FollowUpBasis.follow_up_id == FollowUp.id)
        .where(FollowUp.workspace_id == workspace.id)
    )
    open_ones: dict[int, _FollowUp] = {}
    labels: dict[int, tuple[str, int]] = {}
    for follow_up, source, practice_name, note in rows:
        label = f"{source} ({practice_name})" if practice_name else source
        labels[follow_up.id] = (label, follow_up.staff_member_id)
        if follow_up.status is FollowUpStatus.OPEN:
            open_ones[follow_up.id] = _FollowUp(
                follow_up.id,
                follow_up.staff_member_id,
                label,
                follow_up.reason,
                follow_up.due_on,
                note or "",
            )
    return open_ones, labels


def _targets(
    session: Session, workspace_id: int
) -> tuple[dict[int, int], dict[int, str], dict[int, int]]:
    """Return each staff member's calendar account for follow-ups.

    The first account (by id) that allows writing wins.  A staff member
    without one gets the reason in the second mapping instead.  The third
    maps every calendar account to its staff member.
    """
    accounts = session.scalars(
        select(Account)
        .where(
            Account.workspace_id == workspace_id,
            Account.provider.in_(CALENDAR_PROVIDERS),
        )
        .order_by(Account.id)
    )
    targets: dict[int, int] = {}
    problems: dict[int, str] = {}
    owners: dict[int, int] = {}
    for account in accounts:
        owners[account.id] = account.staff_member_id
        if account.staff_member_id in targets:
            continue
        problem = write_problem(account)
        if problem:
            problems.setdefault(account.staff_member_id, problem)
        else:
            targets[account.staff_member_id] = account.id
    return targets, problems, owners


def _plan(session: Session, run: _Pass) -> _Plan:
    plan = _Plan()
    targets, problems, owners = _targets(session, run.workspace_id)
    rows = session.scalars(
        select(FollowUpPlacement).where(
            FollowUpPlacement.workspace_id == run.workspace_id
        )
    )
    covered: set[int] = set()
    for row in rows:
        follow_up = run.follow_ups.get(row.follow_up_id or 0)
        target = targets.get(follow_up.staff_id) if follow_up else None
        if follow_up is not None and target is None and row.event_id is not None:
            if owners.get(row.account_id) == follow_up.staff_id:
                # The assignee's account cannot be written now (a grant to
                # renew, say): the event stays until it can be checked.
                covered.add(follow_up.follow_up_id)
                detail = problems.get(follow_up.staff_id, "")
                plan.outcomes.append(
                    _outcome(run, follow_up, "unchanged", detail=detail)
                )
                continue
        belongs = follow_up is not None and target == row.account_id
        if not belongs and row.event_id is None:
            session.delete(row)
            continue
        if not belongs:
            plan.removals[row.account_id].append(row.id)
            continue
        assert follow_up is not None
        covered.add(follow_up.follow_up_id)
        if row.status == PLACED:
            plan.checks[row.account_id].append(row.id)
        elif row.status == DELETED_BY_STAFF:
            plan.outcomes.append(_outcome(run, follow_up, "deleted by staff", row))
        elif row.status == UNPLACED or _stale_claim(row, run.now):
            plan.creations[row.account_id].append((follow_up, row.id))
        else:
            detail = "another pass is placing it"
            plan.outcomes.append(_outcome(run, follow_up, "unchanged", detail=detail))
    for follow_up in run.follow_ups.values():
        if follow_up.follow_up_id in covered:
            continue
        account_id = targets.get(follow_up.staff_id)
        if account_id is None:
            email = run.staff[follow_up.staff_id].email
            detail = problems.get(
                follow_up.staff_id,
                f"{email} has no Google, Outlook or CalDAV calendar connected",
            )
            plan.outcomes.append(
                Outcome(
                    follow_up.follow_up_id,
                    email,
                    follow_up.label,
                    "not placed",
                    None,
                    detail,
                )
            )
            continue
        plan.creations[account_id].append((follow_up, None))
    return plan


def _stale_claim(row: FollowUpPlacement, now: dt.datetime) -> bool:
    return row.status == PLACING and now - row.updated_at > CLAIM_TIMEOUT


# --- one account -----------------------------------------------------------------


def _run_account(run: _Pass, plan: _Plan, account_id: int) -> list[Outcome]:
    with run.sessions() as session:
        account = session.get_one(Account, account_id)
        email = account.staff_member.email
        try:
            writer = open_writer(account, run.services)
        except (ConnectorError, MissingCredentialError, ValueError) as error:
            log.warning(
                "calendar writer not opened", account=account_id, error=str(error)
            )
            return _all_failed(run, plan, account_id, email, str(error))
    outcomes: list[Outcome] = []
    try:
        for row_id in plan.removals.get(account_id, []):
            outcomes.append(
                _guarded(run, email, row_id, lambda r: _remove(run, writer, r))
            )
        busy = _Busy(writer)
        for row_id in plan.checks.get(account_id, []):
            outcomes.append(
                _guarded(run, email, row_id, lambda r: _check(run, writer, busy, r))
            )
        for follow_up, claimed_id in plan.creations.get(account_id, []):
            outcomes.append(
                _guarded_create(run, writer, busy, account_id, follow_up, claimed_id)
            )
    finally:
        writer.close()
    return outcomes


def _all_failed(
    run: _Pass, plan: _Plan, account_id: int, email: str, detail: str
) -> list[Outcome]:
    outcomes = []
    with run.sessions() as session:
        for row_id in [
            *plan.removals.get(account_id, []),
            *plan.checks.get(account_id, []),
        ]:
            row = session.get_one(FollowUpPlacement, row_id)
            label = run.labels.get(row.follow_up_id or 0, ("(deleted follow-up)", 0))[0]
            outcomes.append(
                Outcome(row.follow_up_id, email, label, "failed", None, detail)
            )
    for follow_up, _row_id in plan.creations.get(account_id, []):
        outcomes.append(
            Outcome(
                follow_up.follow_up_id, email, follow_up.label, "failed", None, detail
            )
        )
    return outcomes


class _Busy:
    """The calendar's busy intervals, read once per pass and account."""

    def __init__(self, writer: CalendarWriter) -> None:
        self._writer = writer
        self._window: Interval | None = None
        self.intervals: list[Interval] = []

    def covering(self, start: dt.datetime, end: dt.datetime) -> list[Interval]:
        """Return the busy intervals, reading the calendar when the window grows.

        Events placed in this pass are on the calendar by then, so a new
        read includes them.
        """
        if self._window is None or start < self._window[0] or end > self._window[1]:
            low = start if self._window is None else min(start, self._window[0])
            high = end if self._window is None else max(end, self._window[1])
            self.intervals = self._writer.busy(low, high)
            self._window = (low, high)
        return self.intervals

    def add(self, start: dt.datetime, end: dt.datetime) -> None:
        self.intervals.append((start, end))


def _guarded(
    run: _Pass, email: str, row_id: int, step: Callable[[int], Outcome]
) -> Outcome:
    """Run one step on a placement row, reporting a connector error as failed."""
    try:
        return step(row_id)
    except ConnectorError as error:
        with run.sessions.begin() as session:
            row = session.get_one(FollowUpPlacement, row_id)
            row.detail = str(error)
            follow_up_id = row.follow_up_id
        log.warning("follow-up event step failed", placement=row_id, error=str(error))
        label = run.labels.get(follow_up_id or 0, ("(deleted follow-up)", 0))[0]
        return Outcome(follow_up_id, email, label, "failed", None, str(error))


def _remove(run: _Pass, writer: CalendarWriter, row_id: int) -> Outcome:
    with run.sessions() as session:
        row = session.get_one(FollowUpPlacement, row_id)
        event_id, follow_up_id, email = row.event_id, row.follow_up_id, ""
        account = session.get_one(Account, row.account_id)
        email = account.staff_member.email
    if event_id is not None:
        writer.delete(event_id)
    with run.sessions.begin() as session:
        session.delete(session.get_one(FollowUpPlacement, row_id))
        _mirror_event_id(session, follow_up_id, None, only_if=event_id)
    label = run.labels.get(follow_up_id or 0, ("(deleted follow-up)", 0))[0]
    return Outcome(follow_up_id, email, label, "removed")


def _check(run: _Pass, writer: CalendarWriter, busy: _Busy, row_id: int) -> Outcome:
    with run.sessions() as session:
        row = session.get_one(FollowUpPlacement, row_id)
        seen = (row.starts_at, row.ends_at)
        moved_before, due_on, text_hash = row.moved_by_staff, row.due_on, row.text_hash
        event_id, follow_up_id = row.event_id, row.follow_up_id
    assert event_id is not None and follow_up_id is not None
    follow_up = run.follow_ups[follow_up_id]

    event = writer.get(event_id)
    if event is None:
        _store(run, row_id, status=DELETED_BY_STAFF, event_id=None, detail="")
        with run.sessions.begin() as session:
            _mirror_event_id(session, follow_up_id, None, only_if=event_id)
        return _outcome(run, follow_up, "deleted by staff")

    moved = moved_before or (event.start, event.end) != seen
    if not moved and due_on != follow_up.due_on:
        return _reschedule(run, writer, busy, row_id, follow_up, event)

    draft = _draft(run, follow_up, event.start, event.end)
    new_hash = _text_hash(draft)
    if new_hash != text_hash:
        event = writer.update(event_id, draft, move=False)
    if moved and not moved_before:
        action = "kept where staff moved it"
    else:
        action = "updated" if new_hash != text_hash else "unchanged"
    if action != "unchanged":
        _store(
            run,
            row_id,
            starts_at=event.start,
            ends_at=event.end,
            moved_by_staff=moved,
            text_hash=new_hash,
            detail="",
        )
    return _outcome(run, follow_up, action, start=event.start)


def _reschedule(
    run: _Pass,
    writer: CalendarWriter,
    busy: _Busy,
    row_id: int,
    follow_up: _FollowUp,
    event: PlacedEvent,
) -> Outcome:
    """Move an event no one moved by hand to a free slot from the new due date."""
    slot, request = _free_slot(run, busy, follow_up)
    if slot is None:
        # The event stays at its old time; the next pass tries again.
        detail = "not moved: " + _no_slot_detail(run, follow_up, request)
        _store(run, row_id, detail=detail)
        return _outcome(run, follow_up, "unchanged", start=event.start, detail=detail)
    draft = _draft(run, follow_up, *slot)
    placed = writer.update(event.event_id, draft, move=True)
    busy.add(*slot)
    _store(
        run,
        row_id,
        starts_at=placed.start,
        ends_at=placed.end,
        due_on=follow_up.due_on,
        text_hash=_text_hash(draft),
        detail="",
    )
    return _outcome(run, follow_up, "moved", start=placed.start)


# --- placing new events ------------------------------------------------------------


def _guarded_create(
    run: _Pass,
    writer: CalendarWriter,
    busy: _Busy,
    account_id: int,
    follow_up: _FollowUp,
    row_id: int | None,
) -> Outcome:
    row_id = _claim(run, account_id, follow_up, row_id)
    if row_id is None:
        return _outcome(
            run, follow_up, "unchanged", detail="another pass is placing it"
        )
    try:
        return _create(run, writer, busy, row_id, follow_up)
    except ConnectorError as error:
        _store(run, row_id, status=UNPLACED, detail=str(error))
        log.warning("follow-up event not created", placement=row_id, error=str(error))
        return _outcome(run, follow_up, "failed", detail=str(error))


def _claim(
    run: _Pass, account_id: int, follow_up: _FollowUp, row_id: int | None
) -> int | None:
    """Commit a `placing` row for the follow-up; None when another pass has it."""
    now = run.now
    with run.sessions.begin() as session:
        if row_id is None:
            row = FollowUpPlacement(
                workspace_id=run.workspace_id,
                follow_up_id=follow_up.follow_up_id,
                account_id=account_id,
                key=placement_key(run.workspace_id, follow_up.follow_up_id),
                status=PLACING,
                moved_by_staff=False,
                text_hash="",
                detail="",
                updated_at=now,
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                return None
            return row.id
        current = session.get_one(FollowUpPlacement, row_id)
        claimed = session.execute(
            update(FollowUpPlacement)
            .where(
                FollowUpPlacement.id == row_id,
                FollowUpPlacement.status == current.status,
                FollowUpPlacement.updated_at == current.updated_at,
            )
            .values(status=PLACING, updated_at=now)
        )
        updated: int = claimed.rowcount  # type: ignore[attr-defined]
        return row_id if updated == 1 else None


def _create(
    run: _Pass, writer: CalendarWriter, busy: _Busy, row_id: int, follow_up: _FollowUp
) -> Outcome:
    key = placement_key(run.workspace_id, follow_up.follow_up_id)
    found = writer.find(key)
    if found is not None:
        draft = _draft(run, follow_up, found.start, found.end)
        _placed(run, row_id, follow_up, found, draft)
        return _outcome(run, follow_up, "adopted", start=found.start)
    slot, request = _free_slot(run, busy, follow_up)
    if slot is None:
        detail = _no_slot_detail(run, follow_up, request)
        _store(run, row_id, status=UNPLACED, detail=detail)
        return _outcome(run, follow_up, "not placed", detail=detail)
    draft = _draft(run, follow_up, *slot)
    event = writer.create(draft)
    busy.add(*slot)
    _placed(run, row_id, follow_up, event, draft)
    return _outcome(run, follow_up, "created", start=event.start)


def _placed(
    run: _Pass, row_id: int, follow_up: _FollowUp, event: PlacedEvent, draft: EventDraft
) -> None:
    _store(
        run,
        row_id,
        status=PLACED,
        event_id=event.event_id,
        starts_at=event.start,
        ends_at=event.end,
        due_on=follow_up.due_on,
        text_hash=_text_hash(draft),
        detail="",
    )
    with run.sessions.begin() as session:
        _mirror_event_id(session, follow_up.follow_up_id, event.event_id)


def _free_slot(
    run: _Pass, busy: _Busy, follow_up: _FollowUp
) -> tuple[Interval | None, SlotRequest]:
    zone = run.staff[follow_up.staff_id].zone
    first_day = max(follow_up.due_on, run.now.astimezone(zone).date())
    request = SlotRequest(
        first_day=first_day,
        last_day=first_day + dt.timedelta(days=run.settings.search_days - 1),
        duration=run.settings.duration,
        zone=zone,
        not_before=run.now,
    )
    low = dt.datetime.combine(first_day, dt.time(), tzinfo=zone).astimezone(dt.UTC)
    high = dt.datetime.combine(
        request.last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone
    ).astimezone(dt.UTC)
    busy_spans = busy.covering(low, high)
    return find_slot(request, _hours(run, follow_up), busy_spans), request


def _hours(run: _Pass, follow_up: _FollowUp) -> WorkingHours:
    """Return the assignee's own working hours, else the workspace's."""
    return run.staff[follow_up.staff_id].hours or run.settings.hours


def _no_slot_detail(run: _Pass, follow_up: _FollowUp, request: SlotRequest) -> str:
    minutes = int(run.settings.duration.total_seconds() // 60)
    return (
        f"no free {minutes}-minute slot within working hours "
        f"'{_hours(run, follow_up).text}' ({request.zone.key}) from "
        f"{request.first_day.isoformat()} to {request.last_day.isoformat()}; free "
        "some time on the calendar or raise placement_search_days"
    )


# --- rows and texts ------------------------------------------------------------------


def placement_key(workspace_id: int, follow_up_id: int) -> str:
    """Return Warmline's key for a follow-up's event, unique per workspace."""
    return f"warmline-{workspace_id}-follow-up-{follow_up_id}"


def _draft(
    run: _Pass,
    follow_up: _FollowUp,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> EventDraft:
    template = _SUMMARIES.get(follow_up.reason, "Follow up with {label}")
    lines = [
        follow_up.note,
        f"Warmline follow-up {follow_up.follow_up_id} ({follow_up.reason}), due "
        f"{follow_up.due_on.isoformat()}. Mark it done with "
        f"'warmline followups done {follow_up.follow_up_id}'.",
        "Move this event freely: Warmline keeps it where you put it.",
    ]
    zone = run.staff[follow_up.staff_id].zone
    return EventDraft(
        key=placement_key(run.workspace_id, follow_up.follow_up_id),
        summary=template.format(label=follow_up.label),
        description="\n\n".join(line for line in lines if line),
        # A moved event's own times; the text does not depend on them.
        start=start or run.now,
        end=end or run.now,
        time_zone=zone.key,
    )


def _text_hash(draft: EventDraft) -> str:
    text = f"{draft.summary}\n{draft.description}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _store(run: _Pass, row_id: int, **values: object) -> None:
    with run.sessions.begin() as session:
        row = session.get_one(FollowUpPlacement, row_id)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = dt.datetime.now(dt.UTC)


def _mirror_event_id(
    session: Session,
    follow_up_id: int | None,
    event_id: str | None,
    only_if: str | None = None,
) -> None:
    """Keep FollowUp.calendar_event_id equal to the follow-up's current event."""
    if follow_up_id is None:
        return
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None:
        return
    if only_if is None or follow_up.calendar_event_id == only_if:
        follow_up.calendar_event_id = event_id


def _outcome(
    run: _Pass,
    follow_up: _FollowUp,
    action: str,
    row: FollowUpPlacement | None = None,
    start: dt.datetime | None = None,
    detail: str = "",
) -> Outcome:
    staff = run.staff[follow_up.staff_id]
    local = start.astimezone(staff.zone) if start is not None else None
    if row is not None and not detail:
        detail = row.detail
    return Outcome(
        follow_up.follow_up_id, staff.email, follow_up.label, action, local, detail
    )
