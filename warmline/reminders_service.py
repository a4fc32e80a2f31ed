"""Reminders read from and written to the database: referrals, follow-ups, digests.

The rules live in the `reminders` package, which works on plain records.
This module gathers those records, applies the package's decisions and sends
the digests:

- `import_referrals` reads a referrals CSV file;
- `run_reminders` closes the referrals and follow-ups that touchpoints
  resolved and creates the follow-ups due, idempotently;
- `send_digests` assembles each staff member's digest and sends it at most
  once per local date (see `DigestSend` for how a crash is survived).

Every function that writes takes a session and leaves the commit to its
caller, except `send_digests`, which commits its claim on a digest before
the message goes out.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from reminders import (
    REFERRAL_COLUMNS,
    ClosedBy,
    Closure,
    DeliveryRejected,
    DeliveryUncertain,
    DirectoryEntry,
    DriftRule,
    Meeting,
    NewFollowUp,
    OpenLoop,
    PlanInput,
    Reason,
    ReferralRecord,
    ReminderPolicy,
    ReminderState,
    SmtpConfig,
    SourceDirectory,
    SourceHealth,
    SourceProfile,
    SourceQuery,
    StoredFollowUp,
    Touch,
    find_closings,
    parse_count,
    parse_date,
    patient_column,
    plan_follow_ups,
    rank_cold,
    sections,
    send_message,
    snoozed_due_date,
)
from reminders import digest as digest_format
from warmline.csvfile import CsvInputError, read_rows
from warmline.models import (
    Account,
    AccountStatus,
    Activity,
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.reminder_models import DigestSend, FollowUpBasis, WorkspaceSecret
from warmline.secrets import SecretBox
from warmline.workspaces import get_or_create_workspace, workspace_settings

log = structlog.get_logger(__name__)

FILE_PROVIDERS = frozenset({"mbox", "eml", "ics"})
SMTP_PASSWORD_SECRET = "smtp_password"


class ReminderError(ValueError):
    """A follow-up, referral or digest request cannot be carried out."""


# --- referral import -----------------------------------------------------------

MAX_REFERRAL_ID = 200


@dataclasses.dataclass
class ReferralImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclasses.dataclass(frozen=True)
class _ReferralRow:
    line: int
    received_on: dt.date
    source_id: int
    count: int
    external_ref: str | None


def import_referrals(
    session: Session, workspace: Workspace, path: Path, today: dt.date
) -> ReferralImportSummary:
    """Validate every row of `path`, then create or update the referrals.

    Rows with a referral id are matched on it; rows without one on their
    date and source, with the counts of repeated rows added up.  Referrals
    missing from the file are kept.  Raises CsvInputError naming the file,
    line and value of the first problem; nothing is written in that case.
    """
    _reject_patient_columns(path)
    directory = SourceDirectory(_directory_entries(session, workspace))
    rows = [
        _parse_referral(path, line, raw, directory, today)
        for line, raw in read_rows(path, REFERRAL_COLUMNS, required=("date",))
    ]
    _check_repeated_ids(path, rows)
    summary = ReferralImportSummary()
    for row in rows:
        if row.external_ref is not None:
            _upsert_referral(session, workspace, row, summary)
    for row in _summed_without_id(rows):
        _upsert_referral(session, workspace, row, summary)
    session.flush()
    return summary


def _reject_patient_columns(path: Path) -> None:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # read_rows reports these with the file and line
    for name in header:
        meaning = patient_column(name)
        if meaning is not None:
            raise CsvInputError(
                path,
                1,
                f"column {name!r} looks like patient data ({meaning}); remove it: "
                "a referrals file carries only dates, referring sources, counts "
                "and opaque referral ids",
            )


def _directory_entries(
    session: Session, workspace: Workspace
) -> Iterable[DirectoryEntry]:
    practice = aliased(ReferralSource)
    rows = session.execute(
        select(ReferralSource, practice.name)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .where(ReferralSource.workspace_id == workspace.id)
    )
    for source, practice_name in rows:
        yield DirectoryEntry(
            source_id=source.id,
            kind=source.kind.value,
            name=source.name,
            practice_id=source.practice_id,
            practice=practice_name,
            npi=source.npi,
            address=source.address,
        )


def _parse_referral(
    path: Path,
    line: int,
    raw: dict[str, str],
    directory: SourceDirectory,
    today: dt.date,
) -> _ReferralRow:
    query = SourceQuery(
        practice=raw.get("practice", ""),
        provider=raw.get("provider", ""),
        source=raw.get("source", ""),
        npi=raw.get("npi", ""),
        address=raw.get("address", ""),
    )
    external_ref = raw.get("referral_id") or None
    try:
        if external_ref is not None and len(external_ref) > MAX_REFERRAL_ID:
            raise ValueError(f"referral_id is longer than {MAX_REFERRAL_ID} characters")
        return _ReferralRow(
            line=line,
            received_on=parse_date(raw["date"], today),
            source_id=directory.resolve(query),
            count=parse_count(raw.get("count", "")),
            external_ref=external_ref,
        )
    except ValueError as error:
        raise CsvInputError(path, line, str(error)) from None


def _check_repeated_ids(path: Path, rows: list[_ReferralRow]) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        if row.external_ref is None:
            continue
        if row.external_ref in seen:
            raise CsvInputError(
                path,
                row.line,
                f"referral_id {row.external_ref!r} repeats line "
                f"{seen[row.external_ref]}; each referral id must appear once",
            )
        seen[row.external_ref] = row.line


def _summed_without_id(rows: list[_ReferralRow]) -> list[_ReferralRow]:
    summed: dict[tuple[dt.date, int], _ReferralRow] = {}
    for row in rows:
        if row.external_ref is not None:
            continue
        key = (row.received_on, row.source_id)
        if key in summed:
            row = dataclasses.replace(row, count=summed[key].count + row.count)
        summed[key] = row
    return list(summed.values())


def _upsert_referral(
    session: Session,
    workspace: Workspace,
    row: _ReferralRow,
    summary: ReferralImportSummary,
) -> None:
    query = select(Referral).where(Referral.workspace_id == workspace.id)
    if row.external_ref is not None:
        query = query.where(Referral.external_ref == row.external_ref)
    else:
        query = query.where(
            Referral.external_ref.is_(None),
            Referral.source_id == row.source_id,
            Referral.received_on == row.received_on,
        )
    referral = session.scalar(query)
    values = {
        "source_id": row.source_id,
        "received_on": row.received_on,
        "count": row.count,
    }
    if referral is None:
        session.add(
            Referral(workspace_id=workspace.id, external_ref=row.external_ref, **values)
        )
        summary.created += 1
    elif any(getattr(referral, key) != value for key, value in values.items()):
        for key, value in values.items():
            setattr(referral, key, value)
        summary.updated += 1
    else:
        summary.unchanged += 1


# --- plain records for the reminders package -----------------------------------


def reminder_policy(settings: Mapping[str, Any]) -> ReminderPolicy:
    """Build the policy from the workspace settings."""
    return ReminderPolicy(
        default_cadence_days=settings["default_cadence_days"],
        learned_min_touch_days=settings["learned_cadence_min_days"],
        loop_close_days=settings["loop_close_days"],
        drift=DriftRule(
            ratio=settings["drift_ratio"],
            min_expected=settings["drift_min_expected"],
        ),
    )


def source_profiles(session: Session, workspace: Workspace) -> dict[int, SourceProfile]:
    """Return every source of the workspace with its practice's owner and cadence."""
    practice = aliased(ReferralSource)
    rows = session.execute(
        select(ReferralSource, practice)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .where(ReferralSource.workspace_id == workspace.id)
        .order_by(ReferralSource.id)
    )
    profiles = {}
    for source, parent in rows:
        profiles[source.id] = SourceProfile(
            source_id=source.id,
            kind=source.kind.value,
            name=source.name,
            practice_id=source.practice_id,
            practice=parent.name if parent else None,
            owner_id=source.owner_id,
            practice_owner_id=parent.owner_id if parent else None,
            cadence_days=source.cadence_days,
            practice_cadence_days=parent.cadence_days if parent else None,
        )
    return profiles


def confirmed_touches(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, list[Touch]]:
    """Map each source id to its confirmed touches up to `as_of`, oldest first.

    A practice has every touchpoint linked to it; a person has those that
    count for them, including touches of office staff who work for them.
    """
    columns = (
        Activity.occurred_at,
        Activity.staff_member_id,
        Activity.kind,
        Activity.direction,
        Activity.id,
    )
    confirmed = (
        Touchpoint.workspace_id == workspace.id,
        Touchpoint.status == TouchpointStatus.CONFIRMED,
        Activity.occurred_at <= as_of,
    )
    by_practice = session.execute(
        select(Touchpoint.practice_id, *columns)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
    )
    by_person = session.execute(
        select(TouchpointPerson.person_id, *columns)
        .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(*confirmed)
    )
    touches: dict[int, list[Touch]] = defaultdict(list)
    for row in [*by_practice, *by_person]:
        touches[row[0]].append(Touch(*row))
    for found in touches.values():
        found.sort(key=lambda touch: touch.occurred_at)
    return dict(touches)


def held_meetings(
    session: Session, workspace: Workspace, since: dt.datetime, as_of: dt.datetime
) -> list[Meeting]:
    """Return confirmed one-off, timed meetings held between `since` and `as_of`.

    Occurrences of recurring meetings and all-day events are left out: a
    weekly huddle or an away day is no reason for a thank-you.
    """
    rows = session.execute(
        select(Touchpoint.practice_id, Touchpoint.person_id, Activity)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(
            Touchpoint.workspace_id == workspace.id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
            Activity.kind == "meeting",
            Activity.occurrence_key == "",
            Activity.occurred_at > since,
            Activity.occurred_at <= as_of,
        )
    )
    return [
        Meeting(
            activity_id=activity.id,
            source_id=person_id or practice_id,
            practice_id=practice_id,
            occurred_at=activity.occurred_at,
            staff_id=activity.staff_member_id,
        )
        for practice_id, person_id, activity in rows
        if "all_day" not in activity.flags
    ]


def referral_records(session: Session, workspace: Workspace) -> list[ReferralRecord]:
    """Return every referral of the workspace with its source's practice."""
    rows = session.execute(
        select(Referral, ReferralSource.practice_id)
        .join(ReferralSource, ReferralSource.id == Referral.source_id)
        .where(Referral.workspace_id == workspace.id)
        .order_by(Referral.received_on, Referral.id)
    )
    return [
        ReferralRecord(
            referral_id=referral.id,
            source_id=referral.source_id,
            practice_id=practice_id or referral.source_id,
            received_on=referral.received_on,
            count=referral.count,
            closed_at=referral.closed_at,
        )
        for referral, practice_id in rows
    ]


def stored_follow_ups(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[StoredFollowUp]:
    """Return the open follow-ups and those closed in the last year."""
    rows = session.execute(
        select(FollowUp, FollowUpBasis)
        .outerjoin(FollowUpBasis, FollowUpBasis.follow_up_id == FollowUp.id)
        .where(
            FollowUp.workspace_id == workspace.id,
            or_(
                FollowUp.status == FollowUpStatus.OPEN,
                FollowUp.closed_at > as_of - dt.timedelta(days=366),
            ),
        )
    )
    return [
        StoredFollowUp(
            follow_up_id=follow_up.id,
            source_id=follow_up.source_id,
            reason=Reason(follow_up.reason),
            is_open=follow_up.status is FollowUpStatus.OPEN,
            basis_at=basis.basis_at if basis else None,
            closed_at=follow_up.closed_at,
            closed_by=ClosedBy(basis.closed_by) if basis and basis.closed_by else None,
        )
        for follow_up, basis in rows
        if follow_up.reason in Reason.__members__.values()
    ]


def staff_zones(session: Session, workspace: Workspace) -> dict[int, str]:
    rows = session.execute(
        select(StaffMember.id, StaffMember.timezone).where(
            StaffMember.workspace_id == workspace.id
        )
    )
    return {staff_id: zone for staff_id, zone in rows}


def load_state(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> ReminderState:
    settings = workspace_settings(session, workspace)
    return ReminderState(
        as_of=as_of,
        policy=reminder_policy(settings),
        profiles=source_profiles(session, workspace),
        touches=confirmed_touches(session, workspace, as_of),
        referrals=referral_records(session, workspace),
    )


# --- the reminder pass ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FollowUpView:
    """A follow-up as the command line and the digest show it."""

    follow_up_id: int
    source: str
    practice: str | None
    reason: str
    staff_email: str
    due_on: dt.date
    status: str
    note: str


@dataclasses.dataclass
class RemindReport:
    """Changes made by one reminder pass, with the state it judged."""

    state: ReminderState
    referrals_closed: list[tuple[int, str, dt.datetime]]
    created: list[FollowUpView]
    closed: list[FollowUpView]
    unassigned: list[tuple[str, Reason]]

    @property
    def cold(self) -> list[SourceHealth]:
        return rank_cold(self.state.healths)

    @property
    def drifting(self) -> list[SourceHealth]:
        return [health for health in self.state.healths if health.drifting]


def run_reminders(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> RemindReport:
    """Close resolved referrals and follow-ups, then create the follow-ups due.

    Running it twice with the same data changes nothing the second time.
    """
    state = load_state(session, workspace, as_of)
    closings = find_closings(state.referrals, state.touches, as_of)
    referrals_closed = _close_referrals(session, state, closings)
    if closings:
        state = dataclasses.replace(
            state, referrals=referral_records(session, workspace)
        )
    plan = plan_follow_ups(
        PlanInput(
            as_of=as_of,
            healths=state.healths,
            profiles=state.profiles,
            touches=state.touches,
            loops=state.loops,
            meetings=held_meetings(
                session, workspace, as_of - dt.timedelta(days=7), as_of
            ),
            stored=stored_follow_ups(session, workspace, as_of),
            staff_zones=staff_zones(session, workspace),
        )
    )
    # NOTE: nothing warns yet when two staff members are due to visit the
    # same practice. That check would read `plan.create` here.
    closed_ids = [_apply_closure(session, closure) for closure in plan.close]
    created_ids = [_create(session, workspace, new) for new in plan.create]
    session.flush()
    report = RemindReport(
        state=state,
        referrals_closed=referrals_closed,
        created=follow_up_views(session, workspace, ids=created_ids),
        closed=follow_up_views(session, workspace, ids=closed_ids),
        unassigned=[
            (state.profiles[source_id].name, reason)
            for source_id, reason in plan.unassigned
        ],
    )
    log.info(
        "reminder pass finished",
        workspace=workspace.name,
        as_of=as_of.isoformat(),
        referrals_closed=len(referrals_closed),
        created=len(created_ids),
        closed=len(closed_ids),
        unassigned=len(plan.unassigned),
    )
    return report


def _close_referrals(
    session: Session, state: ReminderState, closings: Mapping[int, dt.datetime]
) -> list[tuple[int, str, dt.datetime]]:
    closed = []
    for referral_id, closed_at in sorted(closings.items()):
        referral = session.get_one(Referral, referral_id)
        referral.closed_at = closed_at
        name = state.profiles[referral.source_id].name
        closed.append((referral_id, name, closed_at))
    session.flush()
    return closed


def _apply_closure(session: Session, closure: Closure) -> int:
    follow_up = session.get_one(FollowUp, closure.follow_up_id)
    follow_up.status = FollowUpStatus.DONE if closure.done else FollowUpStatus.DISMISSED
    follow_up.closed_at = closure.closed_at
    _basis(session, follow_up).closed_by = closure.closed_by.value
    return follow_up.id


def _basis(session: Session, follow_up: FollowUp) -> FollowUpBasis:
    basis = session.get(FollowUpBasis, follow_up.id)
    if basis is None:
        basis = FollowUpBasis(follow_up_id=follow_up.id, note="")
        session.add(basis)
    return basis


def _create(session: Session, workspace: Workspace, new: NewFollowUp) -> int:
    follow_up = FollowUp(
        workspace_id=workspace.id,
        source_id=new.source_id,
        staff_member_id=new.staff_id,
        reason=new.reason.value,
        due_on=new.due_on,
        status=FollowUpStatus.OPEN,
    )
    session.add(follow_up)
    session.flush()
    session.add(
        FollowUpBasis(
            follow_up_id=follow_up.id,
            basis_at=new.basis_at,
            activity_id=new.activity_id,
            note=new.note,
        )
    )
    # NOTE: follow-ups are not placed on the assignee's Google, Outlook or
    # CalDAV calendar yet (FollowUp.calendar_event_id). That step belongs
    # here, queued to run after the commit.
    return follow_up.id


# --- follow-ups and referrals by hand ------------------------------------------


def follow_up_views(
    session: Session,
    workspace: Workspace,
    *,
    ids: Iterable[int] | None = None,
    staff_email: str | None = None,
    open_only: bool = False,
    due_by: dt.date | None = None,
) -> list[FollowUpView]:
    """Return follow-ups for display, by id or filtered, earliest due first.

    NOTE: a secret iCalendar feed of a staff member's open follow-ups is not
    built yet. It would serve this query.
    """
    practice = aliased(ReferralSource)
    query = (
        select(FollowUp, ReferralSource.name, practice.name, StaffMember.email)
        .join(ReferralSource, ReferralSource.id == FollowUp.source_id)
        .outerjoin(practice, practice.id == ReferralSource.practice_id)
        .join(StaffMember, StaffMember.id == FollowUp.staff_member_id)
        .where(FollowUp.workspace_id == workspace.id)
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    if ids is not None:
        query = query.where(FollowUp.id.in_(list(ids)))
    if staff_email is not None:
        query = query.where(StaffMember.email == staff_email.strip().lower())
    if open_only:
        query = query.where(FollowUp.status == FollowUpStatus.OPEN)
    if due_by is not None:
        query = query.where(FollowUp.due_on <= due_by)
    rows = session.execute(query).all()
    notes = _notes(session, [row[0].id for row in rows])
    return [
        FollowUpView(
            follow_up_id=follow_up.id,
            source=source,
            practice=practice_name,
            reason=follow_up.reason,
            staff_email=email,
            due_on=follow_up.due_on,
            status=follow_up.status.value,
            note=notes.get(follow_up.id, ""),
        )
        for follow_up, source, practice_name, email in rows
    ]


def _notes(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        select(FollowUpBasis.follow_up_id, FollowUpBasis.note).where(
            FollowUpBasis.follow_up_id.in_(ids)
        )
    )
    return {follow_up_id: note for follow_up_id, note in rows}


def _open_follow_up(
    session: Session, workspace: Workspace, follow_up_id: int
) -> FollowUp:
    follow_up = session.get(FollowUp, follow_up_id)
    if follow_up is None or follow_up.workspace_id != workspace.id:
        raise ReminderError(
            f"no follow-up with id {follow_up_id}; see 'warmline followups list'"
        )
    if follow_up.status is not FollowUpStatus.OPEN:
        raise ReminderError(
            f"follow-up {follow_up_id} is already {follow_up.status.value}"
        )
    return follow_up


def complete_follow_up(
    session: Session, workspace: Workspace, follow_up_id: int, now: dt.datetime
) -> FollowUpView:
    """Mark an open follow-up done by hand.

    Done on a close_loop follow-up also closes its source's open referrals,
    since the staff member reports that the outcome was sent back.
    """
    follow_up = _open_follow_up(session, workspace, follow_up_id)
    follow_up.status = FollowUpStatus.DONE
    follow_up.closed_at = now
    _basis(session, follow_up).closed_by = ClosedBy.STAFF.value
    if follow_up.reason == Reason.CLOSE_LOOP.value:
        for referral in session.scalars(
            select(Referral).where(
                Referral.workspace_id == workspace.id,
                Referral.source_id == follow_up.source_id,
                Referral.closed_at.is_(None),
            )
        ):
            referral.closed_at = now
    session.flush()
    return follow_up_views(session, workspace, ids=[follow_up.id])[0]


def snooze_follow_up(
    session: Session,
    workspace: Workspace,
    follow_up_id: int,
    period: str,
    today: dt.date,
) -> FollowUpView:
    """Move an open follow-up's due date by `period` (2w, 1m or 3m)."""
    follow_up = _open_follow_up(session, workspace, follow_up_id)
    try:
        follow_up.due_on = snoozed_due_date(follow_up.due_on, today, period)
    except ValueError as error:
        raise ReminderError(str(error)) from None
    session.flush()
    return follow_up_views(session, workspace, ids=[follow_up.id])[0]


def close_referral(
    session: Session, workspace: Workspace, referral_id: int, now: dt.datetime
) -> Referral:
    """Record by hand that a referral's outcome was sent back to its source."""
    referral = session.get(Referral, referral_id)
    if referral is None or referral.workspace_id != workspace.id:
        raise ReminderError(
            f"no referral with id {referral_id}; see 'warmline referrals loops'"
        )
    if referral.closed_at is not None:
        raise ReminderError(
            f"referral {referral_id} was already closed at "
            f"{referral.closed_at:%Y-%m-%d %H:%M} UTC"
        )
    referral.closed_at = now
    session.flush()
    return referral


def loop_rows(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[tuple[OpenLoop, SourceProfile]]:
    """Return the open loops as of `as_of`, each with its referring source."""
    state = load_state(session, workspace, as_of)
    return [(loop, state.profiles[loop.referral.source_id]) for loop in state.loops]


# --- the daily digest ----------------------------------------------------------

SUBJECT_WIDTH = 60


def digest_moment(local_date: dt.date, zone: str) -> dt.datetime:
    """Return the start of `local_date` in `zone`, in UTC: the digest's as-of time."""
    start = dt.datetime.combine(local_date, dt.time(), tzinfo=zoneinfo.ZoneInfo(zone))
    return start.astimezone(dt.UTC)


def assemble_digest(
    session: Session,
    workspace: Workspace,
    member: StaffMember,
    local_date: dt.date,
    states: dict[dt.datetime, ReminderState] | None = None,
) -> digest_format.Digest:
    """Gather one staff member's digest for `local_date` in their time zone.

    `states` caches the workspace state per as-of time across staff members
    who share a time zone.
    """
    moment = digest_moment(local_date, member.timezone)
    states = {} if states is None else states
    if moment not in states:
        states[moment] = load_state(session, workspace, moment)
    state = states[moment]
    stale_hours = workspace_settings(session, workspace)["stale_sync_hours"]
    parts = [
        _due_section(session, workspace, member, local_date),
        sections.cold_section(state, member.id),
        sections.loops_section(state, member.id, local_date),
        sections.drift_section(state, member.id),
        _touch_section(session, member, moment),
        _accounts_section(session, member, moment, stale_hours),
    ]
    return digest_format.Digest(
        staff_name=member.name,
        staff_email=member.email,
        local_date=local_date,
        sections=parts,
        review_count=review_count(session, workspace, member),
    )


def _due_section(
    session: Session, workspace: Workspace, member: StaffMember, day: dt.date
) -> digest_format.Section:
    views = follow_up_views(
        session, workspace, staff_email=member.email, open_only=True, due_by=day
    )
    rows = [
        (
            str(view.follow_up_id),
            sections.source_label(view.source, view.practice),
            view.reason,
            view.due_on.isoformat(),
            view.note,
        )
        for view in views
    ]
    headers = ("id", "source", "reason", "due", "why")
    return digest_format.Section("Follow-ups due", headers, rows)


def _touch_section(
    session: Session, member: StaffMember, moment: dt.datetime
) -> digest_format.Section:
    person = aliased(ReferralSource)
    rows = session.execute(
        select(Activity, Touchpoint.status, ReferralSource.name, person.name)
        .join(Touchpoint, Touchpoint.activity_id == Activity.id)
        .join(ReferralSource, ReferralSource.id == Touchpoint.practice_id)
        .outerjoin(person, person.id == Touchpoint.person_id)
        .where(
            Activity.staff_member_id == member.id,
            Activity.occurred_at >= moment - dt.timedelta(days=1),
            Activity.occurred_at < moment,
            Touchpoint.status != TouchpointStatus.REJECTED,
        )
        .order_by(Activity.occurred_at, Touchpoint.id)
    )
    zone = zoneinfo.ZoneInfo(member.timezone)
    lines = [
        (
            f"{activity.occurred_at.astimezone(zone):%H:%M}",
            activity.kind if not activity.direction else f"{activity.direction} email",
            sections.source_label(person_name, practice) if person_name else practice,
            (activity.subject or "")[:SUBJECT_WIDTH],
            status.value,
        )
        for activity, status, practice, person_name in rows
    ]
    headers = ("time", "kind", "source", "subject", "status")
    return digest_format.Section("Yesterday's touchpoints", headers, lines)


def _accounts_section(
    session: Session, member: StaffMember, moment: dt.datetime, stale_hours: int
) -> digest_format.Section:
    accounts = session.scalars(
        select(Account).where(Account.staff_member_id == member.id).order_by(Account.id)
    )
    rows = []
    for account in accounts:
        problem = account_problem(account, moment, stale_hours)
        if problem:
            rows.append((str(account.id), account.provider, account.location, problem))
    headers = ("account", "provider", "location", "problem")
    return digest_format.Section("Accounts to fix", headers, rows)


def account_problem(account: Account, moment: dt.datetime, stale_hours: int) -> str:
    """Return what is wrong with an account's sync, or '' when nothing is."""
    if account.status is AccountStatus.NEEDS_REAUTH:
        return "needs reconnecting: sign in again with 'warmline accounts connect'"
    if account.status is AccountStatus.ERROR:
        return f"sync failed: {account.last_error or 'no error recorded'}"
    if account.status is AccountStatus.DISABLED or account.provider in FILE_PROVIDERS:
        return ""
    if account.last_sync_at is None:
        return "never synced"
    if moment - account.last_sync_at > dt.timedelta(hours=stale_hours):
        return f"stopped syncing: last sync {account.last_sync_at:%Y-%m-%d %H:%M} UTC"
    return ""


def review_count(session: Session, workspace: Workspace, member: StaffMember) -> int:
    """Count the touchpoints on a staff member's activities that wait for review."""
    count = session.scalar(
        select(func.count(Touchpoint.id))
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(
            Touchpoint.workspace_id == workspace.id,
            Touchpoint.status == TouchpointStatus.NEEDS_REVIEW,
            Activity.staff_member_id == member.id,
        )
    )
    return int(count or 0)


# --- sending digests -----------------------------------------------------------

Sender = Callable[[SmtpConfig, EmailMessage], None]


@dataclasses.dataclass(frozen=True)
class DigestOutcome:
    """Result for one staff member's digest: sent, skipped, failed or printed."""

    staff_email: str
    local_date: dt.date
    status: str
    detail: str = ""
    message: EmailMessage | None = None


@dataclasses.dataclass(frozen=True)
class DigestRequest:
    """Selection of digests to make, and how to deliver them."""

    now: dt.datetime
    local_date: dt.date | None = None
    staff_email: str | None = None
    dry_run: bool = False
    smtp: SmtpConfig | None = None


def smtp_config(settings: Mapping[str, Any], password: str | None) -> SmtpConfig:
    """Build the SMTP configuration from the workspace settings."""
    return SmtpConfig(
        host=settings["smtp_host"],
        port=settings["smtp_port"],
        username=settings["smtp_user"] or None,
        password=password,
        ca_file=settings["smtp_ca_file"] or None,
    )


def stored_smtp_password(
    session: Session, workspace: Workspace, box: SecretBox
) -> str | None:
    token = session.scalar(
        select(WorkspaceSecret.token).where(
            WorkspaceSecret.workspace_id == workspace.id,
            WorkspaceSecret.name == SMTP_PASSWORD_SECRET,
        )
    )
    return None if token is None else box.decrypt(token)


def store_smtp_password(
    session: Session, workspace: Workspace, box: SecretBox, password: str
) -> None:
    """Store the SMTP password encrypted with the workspace's secret keys."""
    secret = session.scalar(
        select(WorkspaceSecret).where(
            WorkspaceSecret.workspace_id == workspace.id,
            WorkspaceSecret.name == SMTP_PASSWORD_SECRET,
        )
    )
    if secret is None:
        secret = WorkspaceSecret(workspace_id=workspace.id, name=SMTP_PASSWORD_SECRET)
        session.add(secret)
    secret.token = box.encrypt(password)
    secret.updated_at = dt.datetime.now(dt.UTC)


def send_digests(
    sessions: sessionmaker[Session],
    workspace_name: str,
    request: DigestRequest,
    send: Sender = send_message,
) -> list[DigestOutcome]:
    """Make each staff member's digest and send it, at most once per local date.

    Each send is claimed in its own committed transaction before the message
    goes to the server.  A rejection by the server releases the claim, so a
    later run tries again.  A crash, or a connection lost while the message
    is handed over, keeps the claim, and that day's digest is not sent again,
    because one lost digest is better than a duplicate.
    """
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        settings = workspace_settings(session, workspace)
        member_ids = _recipients(session, workspace, request.staff_email)
    sender = settings["digest_sender"]
    if not request.dry_run:
        _check_delivery_settings(request, sender)
    states: dict[dt.datetime, ReminderState] = {}
    outcomes = []
    for member_id in member_ids:
        outcome, claim_id = _prepare(
            sessions, workspace_name, member_id, request, sender, states
        )
        if claim_id is not None and outcome.message is not None:
            assert request.smtp is not None
            outcome = _deliver(sessions, claim_id, outcome, request.smtp, send)
        outcomes.append(outcome)
    return outcomes


def _recipients(
    session: Session, workspace: Workspace, staff_email: str | None
) -> list[int]:
    query = select(StaffMember.id).where(StaffMember.workspace_id == workspace.id)
    if staff_email is not None:
        query = query.where(StaffMember.email == staff_email.strip().lower())
    ids = list(session.scalars(query.order_by(StaffMember.email)))
    if staff_email is not None and not ids:
        raise ReminderError(
            f"no staff member with address {staff_email!r}; see 'warmline staff list'"
        )
    return ids


def _check_delivery_settings(request: DigestRequest, sender: str) -> None:
    if request.smtp is None or not request.smtp.host:
        raise ReminderError(
            "smtp_host is not set; run 'warmline config set smtp_host HOST' "
            "or pass --dry-run"
        )
    if not sender:
        raise ReminderError(
            "digest_sender is not set; run 'warmline config set digest_sender ADDRESS'"
        )


def _prepare(
    sessions: sessionmaker[Session],
    workspace_name: str,
    member_id: int,
    request: DigestRequest,
    sender: str,
    states: dict[dt.datetime, ReminderState],
) -> tuple[DigestOutcome, int | None]:
    """Assemble one digest and, unless it is a dry run, commit a claim on it."""
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, workspace_name)
        member = session.get_one(StaffMember, member_id)
        day = request.local_date or local_today(request.now, member.timezone)
        if not request.dry_run:
            claimed = _claim_status(session, workspace, member, day)
            if claimed is not None:
                return DigestOutcome(member.email, day, claimed), None
        digest = assemble_digest(session, workspace, member, day, states)
        if digest.empty:
            return DigestOutcome(member.email, day, "nothing to report"), None
        domain = sender.rpartition("@")[2] or "warmline.invalid"
        message = digest_format.build_message(
            digest, sender or f"digest@{domain}", make_msgid(domain=domain), request.now
        )
        if request.dry_run:
            return DigestOutcome(member.email, day, "dry run", message=message), None
        claim_id = _claim(session, workspace, member, day, str(message["Message-ID"]))
        if claim_id is None:
            return DigestOutcome(member.email, day, "already sent"), None
        return DigestOutcome(member.email, day, "claimed", message=message), claim_id


def local_today(now: dt.datetime, zone: str) -> dt.date:
    return now.astimezone(zoneinfo.ZoneInfo(zone)).date()


def _claim_status(
    session: Session, workspace: Workspace, member: StaffMember, day: dt.date
) -> str | None:
    claim = session.scalar(
        select(DigestSend).where(
            DigestSend.workspace_id == workspace.id,
            DigestSend.staff_member_id == member.id,
            DigestSend.local_date == day,
        )
    )
    if claim is None:
        return None
    if claim.status == "sent":
        return "already sent"
    return "not sent again: an earlier attempt may have delivered it"


def _claim(
    session: Session,
    workspace: Workspace,
    member: StaffMember,
    day: dt.date,
    message_id: str,
) -> int | None:
    claim = DigestSend(
        workspace_id=workspace.id,
        staff_member_id=member.id,
        local_date=day,
        status="sending",
        message_id=message_id,
    )
    try:
        with session.begin_nested():
            session.add(claim)
    except IntegrityError:
        # Another run claimed this digest between our check and the insert.
        return None
    return claim.id


def _deliver(
    sessions: sessionmaker[Session],
    claim_id: int,
    outcome: DigestOutcome,
    smtp: SmtpConfig,
    send: Sender,
) -> DigestOutcome:
    assert outcome.message is not None
    context = {"staff": outcome.staff_email, "local_date": outcome.local_date}
    try:
        send(smtp, outcome.message)
    except DeliveryRejected as error:
        with sessions.begin() as session:
            session.execute(delete(DigestSend).where(DigestSend.id == claim_id))
        log.warning("digest rejected", error=str(error), **context)
        return dataclasses.replace(outcome, status="failed", detail=str(error))
    except DeliveryUncertain as error:
        log.error("digest delivery uncertain", error=str(error), **context)
        return dataclasses.replace(outcome, status="uncertain", detail=str(error))
    with sessions.begin() as session:
        claim = session.get_one(DigestSend, claim_id)
        claim.status = "sent"
        claim.sent_at = dt.datetime.now(dt.UTC)
    log.info("digest sent", **context)
    return dataclasses.replace(outcome, status="sent")
