"""Digest sections judged from the reminder state: cold sources, loops, drift.

Each section lists the sources one staff member is responsible for: the
follow-up assignee rule of reminders.followups.
"""

from __future__ import annotations

import datetime as dt

from reminders.digest import Section
from reminders.health import cadence_label, health_flags, rank_cold
from reminders.state import ReminderState


def source_label(name: str, practice: str | None) -> str:
    return f"{name} ({practice})" if practice else name


def cold_section(state: ReminderState, staff_id: int) -> Section:
    rows = [
        (
            source_label(health.profile.name, health.profile.practice),
            health.last_touch.date().isoformat() if health.last_touch else "never",
            cadence_label(health),
            str(health.referrals_year),
            ", ".join(health_flags(health)),
        )
        for health in rank_cold(state.healths)
        if state.responsible(health.profile.source_id) == staff_id
    ]
    headers = ("source", "last touch", "cadence", "referrals 12 mo", "note")
    return Section("Going cold", headers, rows)


def loops_section(state: ReminderState, staff_id: int, day: dt.date) -> Section:
    rows = [
        (
            str(loop.referral.referral_id),
            source_label(profile.name, profile.practice),
            loop.referral.received_on.isoformat(),
            loop.due_on.isoformat(),
            "overdue" if loop.overdue(day) else "",
        )
        for loop in state.loops
        for profile in [state.profiles[loop.referral.source_id]]
        if state.responsible(profile.source_id) == staff_id
    ]
    headers = ("referral", "source", "received", "report due", "")
    return Section("Open loops", headers, rows)


def drift_section(state: ReminderState, staff_id: int) -> Section:
    rows = []
    for health in state.healths:
        if not health.drifting or health.trend is None:
            continue
        if state.responsible(health.profile.source_id) != staff_id:
            continue
        rows.append(
            (
                source_label(health.profile.name, health.profile.practice),
                str(health.trend.recent),
                f"{health.trend.expected:.1f}",
                ", ".join(health_flags(health)),
            )
        )
    headers = ("source", "last 90 days", "expected", "note")
    return Section("Referral drift", headers, rows)
