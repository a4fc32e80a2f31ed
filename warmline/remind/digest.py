"""Assemble a staff member's daily digest from the database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import zoneinfo
from collections.abc import Sequence
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from reminders import (
    Reason,
    ReminderState,
    rank_cold,
    sections,
)
from reminders import digest as digest_format
from warmline.models import (
    Account,
    AccountStatus,
    Activity,
    FollowUp,
    FollowUpStatus,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointStatus,
    Workspace,
)
from warmline.remind.coordination import meeting_clashes
from warmline.remind.followups import follow_up_views
from warmline.remind.snooze_links import PERIODS, SnoozeGrant, snooze_url
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


# --- snooze links ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SnoozeTarget:
    """A follow-up the digest offers snooze links for, with its label."""

    follow_up_id: int
    label: str


@dataclasses.dataclass(frozen=True)
class SnoozeLinkRow:
    """One follow-up's label and its (period label, URL) links."""

    label: str
    links: Sequence[tuple[str, str]]


def snooze_targets(
    session: Session,
    workspace: Workspace,
    member: StaffMember,
    local_date: dt.date,
    state: ReminderState,
) -> list[SnoozeTarget]:
    """List the follow-ups due and the cold follow-ups of the cold sources.

    A cold source shown in the digest is snoozed through its open cold
    follow-up, which may be due later than `local_date`.
    """
    due = follow_up_views(
        session, workspace, staff_email=member.email, open_only=True, due_by=local_date
    )
    targets = [
        SnoozeTarget(
            view.follow_up_id,
            f"{sections.source_label(view.source, view.practice)}, {view.reason}",
        )
        for view in due
    ]
    listed = {target.follow_up_id for target in targets}
    cold_ids = [
        health.profile.source_id
        for health in rank_cold(state.healths)
        if state.responsible(health.profile.source_id) == member.id
    ]
    if not cold_ids:
        return targets
    cold_follow_ups = session.scalars(
        select(FollowUp).where(
            FollowUp.workspace_id == workspace.id,
            FollowUp.staff_member_id == member.id,
            FollowUp.status == FollowUpStatus.OPEN,
            FollowUp.reason == Reason.COLD.value,
            FollowUp.source_id.in_(cold_ids),
        )
    )
    for follow_up in cold_follow_ups:
        if follow_up.id not in listed:
            profile = state.profiles[follow_up.source_id]
            label = sections.source_label(profile.name, profile.practice)
            targets.append(SnoozeTarget(follow_up.id, f"{label}, going cold"))
    return targets


def snooze_link_rows(
    targets: Sequence[SnoozeTarget],
    workspace: Workspace,
    member: StaffMember,
    base_url: str,
    key: bytes,
    expires_at: dt.datetime,
) -> list[SnoozeLinkRow]:
    """Sign three snooze links (2 weeks, 1 month, 3 months) per target."""
    rows = []
    for target in targets:
        links = []
        for period, period_label in PERIODS.items():
            grant = SnoozeGrant(
                workspace.id, member.id, target.follow_up_id, period, expires_at
            )
            links.append((period_label, snooze_url(base_url, key, grant)))
        rows.append(SnoozeLinkRow(f"{target.follow_up_id} {target.label}", links))
    return rows


def build_digest_message(
    digest: digest_format.Digest,
    snooze_rows: Sequence[SnoozeLinkRow],
    sender: str,
    message_id: str,
    now: dt.datetime,
) -> EmailMessage:
    """Return the digest email, with a snooze section when there are links."""
    message = digest_format.build_message(digest, sender, message_id, now)
    if not snooze_rows:
        return message
    text = digest_format.render_text(digest) + _snooze_text(snooze_rows)
    page = digest_format.render_html(digest).replace(
        "</body></html>", _snooze_html(snooze_rows) + "\n</body></html>"
    )
    # clear_content drops only the body and the Content-* headers, so the
    # addresses, subject and Message-ID set by build_message stay.
    message.clear_content()
    message.set_content(text)
    message.add_alternative(page, subtype="html")
    return message


def _snooze_text(rows: Sequence[SnoozeLinkRow]) -> str:
    lines = ["", f"== Snooze ({len(rows)})"]
    for row in rows:
        lines.append(f"  {row.label}")
        lines.extend(f"    snooze {label}: {url}" for label, url in row.links)
    return "\n".join(lines) + "\n"


def _snooze_html(rows: Sequence[SnoozeLinkRow]) -> str:
    items = []
    for row in rows:
        links = " · ".join(
            f'<a href="{html.escape(url)}">snooze {html.escape(label)}</a>'
            for label, url in row.links
        )
        items.append(f"<li>{html.escape(row.label)}: {links}</li>")
    return f"<h3>Snooze ({len(rows)})</h3>\n<ul>{''.join(items)}</ul>"
