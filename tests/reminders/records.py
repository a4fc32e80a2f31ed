"""Builders of the plain records the reminders read, for the unit tests."""

from __future__ import annotations

import datetime as dt

from reminders.records import ReferralRecord, SourceProfile, Touch

AS_OF = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def days_ago(days: float) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


def profile(
    source_id: int = 1,
    *,
    kind: str = "practice",
    name: str = "Riverside Family Medicine",
    practice_id: int | None = None,
    owner_id: int | None = None,
    practice_owner_id: int | None = None,
    cadence_days: int | None = None,
    practice_cadence_days: int | None = None,
) -> SourceProfile:
    return SourceProfile(
        source_id=source_id,
        kind=kind,
        name=name,
        practice_id=practice_id,
        practice=None if practice_id is None else f"practice {practice_id}",
        owner_id=owner_id,
        practice_owner_id=practice_owner_id,
        cadence_days=cadence_days,
        practice_cadence_days=practice_cadence_days,
    )


def touch(
    source_id: int,
    at: dt.datetime,
    *,
    staff_id: int = 7,
    kind: str = "email",
    direction: str | None = "outbound",
    activity_id: int = 0,
) -> Touch:
    return Touch(source_id, at, staff_id, kind, direction, activity_id)


def referral(
    source_id: int,
    received_on: dt.date,
    *,
    count: int = 1,
    referral_id: int = 0,
    practice_id: int | None = None,
    closed_at: dt.datetime | None = None,
) -> ReferralRecord:
    return ReferralRecord(
        referral_id=referral_id,
        source_id=source_id,
        practice_id=source_id if practice_id is None else practice_id,
        received_on=received_on,
        count=count,
        closed_at=closed_at,
    )
