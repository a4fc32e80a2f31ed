"""Assemble a staff member's daily digest from the database."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from reminders import (
    ReminderState,
    sections,
)
from reminders import digest as digest_format
from warmline.models import (
    Account,
    AccountStatus,
    Activity,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointStatus,
    Workspace,
)
from warmline.remind.coordination import meeting_clashes
from warmline.remind.followups import follow_up_views
from warmline.remind.state import (
    load_state,
)
from warmline.workspaces import workspace_settings

FILE_PROVIDERS = frozenset({"mbox", "eml", "ics"})


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
        _clash_section(session, workspace, member, moment),
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


def _clash_section(
    session: Session, workspace: Workspace, member: StaffMember, moment: dt.datetime
) -> digest_format.Section:
    zone = zoneinfo.ZoneInfo(member.timezone)
    rows = []
    for clash in meeting_clashes(session, workspace, moment):
        if not clash.involves(member.id):
            continue
        own, other = clash.first, clash.second
        if own.staff_id != member.id:
            own, other = other, own
        rows.append(
            (
                own.practice,
                f"{own.starts_at.astimezone(zone):%a %d %b %H:%M}",
                other.staff_name,
                f"{other.starts_at.astimezone(zone):%a %d %b %H:%M}",
            )
        )
    headers = ("practice", "your meeting", "colleague", "their meeting")
    return digest_format.Section("Visits to coordinate", headers, rows)


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
