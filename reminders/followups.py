"""Follow-up planning: which follow-ups to create and which to close.

A workspace has at most one open follow-up per source and reason.  Reasons:

- `cold`: the source is going cold.  It is due the day it is created and
  closes when the source is warm again: done when a newer touch arrived,
  dismissed when the cadence changed.  A source never touched gets one only
  when someone owns it.  After a person marks one done by hand, no new one is
  created until the source's cadence has passed again.
- `close_loop`: the source has open referrals.  It is due `loop_close_days`
  after the earliest of them and closes when none is open.
- `thank_you`: a one-off meeting (not an occurrence of a recurring one) with
  the source took place in the last seven days and no outbound email to its
  practice followed.  It is due the next working day after the meeting,
  closes when such an email is sent, and is created once per meeting.

A follow-up goes to the source's owner, else its practice's owner, else the
staff member who last touched it.  A source with none of them is reported
as unassigned and gets no follow-up.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence

from reminders.dates import next_working_day
from reminders.health import SourceHealth
from reminders.loops import OpenLoop
from reminders.records import Meeting, SourceProfile, Touch

THANK_YOU_LOOKBACK = dt.timedelta(days=7)


class Reason(enum.StrEnum):
    COLD = "cold"
    CLOSE_LOOP = "close_loop"
    THANK_YOU = "thank_you"


class ClosedBy(enum.StrEnum):
    """Cause that closed a follow-up."""

    TOUCHPOINT = "touchpoint"
    STAFF = "staff"
    RESOLVED = "resolved"


@dataclasses.dataclass(frozen=True)
class StoredFollowUp:
    """A follow-up already in the database, open or closed."""

    follow_up_id: int
    source_id: int
    reason: Reason
    is_open: bool
    basis_at: dt.datetime | None
    closed_at: dt.datetime | None
    closed_by: ClosedBy | None


@dataclasses.dataclass(frozen=True)
class NewFollowUp:
    source_id: int
    reason: Reason
    staff_id: int
    due_on: dt.date
    basis_at: dt.datetime | None
    activity_id: int | None
    note: str


@dataclasses.dataclass(frozen=True)
class Closure:
    follow_up_id: int
    done: bool
    closed_by: ClosedBy
    closed_at: dt.datetime


@dataclasses.dataclass
class Plan:
    create: list[NewFollowUp] = dataclasses.field(default_factory=list)
    close: list[Closure] = dataclasses.field(default_factory=list)
    unassigned: list[tuple[int, Reason]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class PlanInput:
    """Everything the planner reads, gathered by the core for one workspace."""

    as_of: dt.datetime
    healths: Sequence[SourceHealth]
    profiles: Mapping[int, SourceProfile]
    touches: Mapping[int, Sequence[Touch]]
    loops: Sequence[OpenLoop]
    meetings: Sequence[Meeting]
    stored: Sequence[StoredFollowUp]
    staff_zones: Mapping[int, str]


def responsible_staff(profile: SourceProfile, touches: Sequence[Touch]) -> int | None:
    """Return the owner, else the practice's owner, else the last toucher.

    NOTE: there is no staff handover yet, so a departed staff member keeps
    the sources they own and their open follow-ups.
    """
    if profile.owner_id is not None:
        return profile.owner_id
    if profile.practice_owner_id is not None:
        return profile.practice_owner_id
    last = max(touches, key=lambda touch: touch.occurred_at, default=None)
    return last.staff_id if last else None


def local_date(moment: dt.datetime, zone: str) -> dt.date:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).date()


def plan_follow_ups(data: PlanInput) -> Plan:
    """Decide the follow-ups to close and to create, without writing anything."""
    plan = Plan()
    plan.close.extend(_cold_closures(data))
    plan.close.extend(_loop_closures(data))
    plan.close.extend(_thank_you_closures(data))
    closed = {closure.follow_up_id for closure in plan.close}
    still_open = {
        (item.source_id, item.reason)
        for item in data.stored
        if item.is_open and item.follow_up_id not in closed
    }
    for draft in _candidates(data):
        key = (draft.source_id, draft.reason)
        if key in still_open:
            continue
        profile = data.profiles[draft.source_id]
        staff_id = responsible_staff(profile, data.touches.get(draft.source_id, ()))
        if staff_id is None:
            plan.unassigned.append(key)
            continue
        zone = data.staff_zones.get(staff_id, "UTC")
        plan.create.append(draft.finish(staff_id, zone, data.as_of))
        still_open.add(key)
    return plan


def _open(data: PlanInput, reason: Reason) -> list[StoredFollowUp]:
    return [item for item in data.stored if item.is_open and item.reason is reason]


def _cold_closures(data: PlanInput) -> Iterable[Closure]:
    healths = {health.profile.source_id: health for health in data.healths}
    for item in _open(data, Reason.COLD):
        health = healths.get(item.source_id)
        if health is not None and health.cold:
            continue
        touched = health is not None and _newer(health.last_touch, item.basis_at)
        by = ClosedBy.TOUCHPOINT if touched else ClosedBy.RESOLVED
        yield Closure(item.follow_up_id, touched, by, data.as_of)


def _newer(last: dt.datetime | None, basis: dt.datetime | None) -> bool:
    return last is not None and (basis is None or last > basis)


def _loop_closures(data: PlanInput) -> Iterable[Closure]:
    waiting = {loop.referral.source_id for loop in data.loops}
    for item in _open(data, Reason.CLOSE_LOOP):
        if item.source_id not in waiting:
            # The referrals closed by an outbound email or by hand.
            yield Closure(item.follow_up_id, True, ClosedBy.RESOLVED, data.as_of)


def _thank_you_closures(data: PlanInput) -> Iterable[Closure]:
    for item in _open(data, Reason.THANK_YOU):
        profile = data.profiles.get(item.source_id)
        if profile is None:
            yield Closure(item.follow_up_id, False, ClosedBy.RESOLVED, data.as_of)
            continue
        sent = _first_outbound(data, profile.practice_or_self, item.basis_at)
        if sent is not None:
            yield Closure(item.follow_up_id, True, ClosedBy.TOUCHPOINT, sent)


def _first_outbound(
    data: PlanInput, practice_id: int, after: dt.datetime | None
) -> dt.datetime | None:
    times = [
        touch.occurred_at
        for touch in data.touches.get(practice_id, ())
        if touch.outbound_email
        and (after is None or touch.occurred_at >= after)
        and touch.occurred_at <= data.as_of
    ]
    return min(times, default=None)


@dataclasses.dataclass(frozen=True)
class _Draft:
    """A follow-up to create once its assignee, and so its time zone, is known."""

    source_id: int
    reason: Reason
    basis_at: dt.datetime | None
    note: str
    due_on: dt.date | None = None
    activity_id: int | None = None

    def finish(self, staff_id: int, zone: str, as_of: dt.datetime) -> NewFollowUp:
        due_on = self.due_on
        if due_on is None and self.reason is Reason.THANK_YOU:
            assert self.basis_at is not None
            due_on = next_working_day(local_date(self.basis_at, zone))
        if due_on is None:
            due_on = local_date(as_of, zone)
        return NewFollowUp(
            self.source_id,
            self.reason,
            staff_id,
            due_on,
            self.basis_at,
            self.activity_id,
            self.note,
        )


def _candidates(data: PlanInput) -> Iterable[_Draft]:
    yield from _cold_candidates(data)
    yield from _loop_candidates(data)
    yield from _thank_you_candidates(data)


def _cold_candidates(data: PlanInput) -> Iterable[_Draft]:
    for health in data.healths:
        profile = health.profile
        if not health.cold or _recently_done_by_hand(data, health):
            continue
        owned = profile.owner_id is not None or profile.practice_owner_id is not None
        if health.never_touched and not owned:
            continue
        yield _Draft(
            profile.source_id, Reason.COLD, health.last_touch, _cold_note(health)
        )


def _cold_note(health: SourceHealth) -> str:
    cadence = f"cadence {health.cadence.days} days ({health.cadence.basis.value})"
    if health.days_since is None:
        return f"never touched; {cadence}"
    return f"{health.days_since} days since the last touch; {cadence}"


def _recently_done_by_hand(data: PlanInput, health: SourceHealth) -> bool:
    window = dt.timedelta(days=health.cadence.days)
    for item in data.stored:
        if (
            item.source_id == health.profile.source_id
            and item.reason is Reason.COLD
            and item.closed_by is ClosedBy.STAFF
            and item.closed_at is not None
            and item.closed_at > data.as_of - window
        ):
            return True
    return False


def _loop_candidates(data: PlanInput) -> Iterable[_Draft]:
    earliest: dict[int, OpenLoop] = {}
    counts: dict[int, int] = {}
    for loop in data.loops:
        source_id = loop.referral.source_id
        earliest.setdefault(source_id, loop)
        counts[source_id] = counts.get(source_id, 0) + loop.referral.count
    for source_id, loop in earliest.items():
        received = loop.referral.received_on
        basis = dt.datetime.combine(received, dt.time(), tzinfo=dt.UTC)
        note = f"{counts[source_id]} referral(s) open since {received.isoformat()}"
        yield _Draft(source_id, Reason.CLOSE_LOOP, basis, note, due_on=loop.due_on)


def _thank_you_candidates(data: PlanInput) -> Iterable[_Draft]:
    thanked: dict[int, dt.datetime] = {}
    for item in data.stored:
        if item.reason is Reason.THANK_YOU and item.basis_at is not None:
            previous = thanked.get(item.source_id, item.basis_at)
            thanked[item.source_id] = max(previous, item.basis_at)
    start = data.as_of - THANK_YOU_LOOKBACK
    meetings = sorted(data.meetings, key=lambda meeting: meeting.occurred_at)
    for meeting in meetings:
        if not start < meeting.occurred_at <= data.as_of:
            continue
        if meeting.source_id not in data.profiles:
            continue
        covered = thanked.get(meeting.source_id)
        if covered is not None and covered >= meeting.occurred_at:
            continue
        if _first_outbound(data, meeting.practice_id, meeting.occurred_at):
            continue
        # NOTE: a drafted thank-you email (written with a language model) is
        # not offered yet; it would be attached to this follow-up.
        yield _Draft(
            meeting.source_id,
            Reason.THANK_YOU,
            meeting.occurred_at,
            f"meeting at {meeting.occurred_at:%Y-%m-%d %H:%M} UTC",
            activity_id=meeting.activity_id,
        )
