"""The touchpoints export: CSV for spreadsheets, or JSON."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zoneinfo
from collections.abc import Iterator, Sequence
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from warmline.models import (
    Activity,
    ReferralSource,
    StaffMember,
    Touchpoint,
    TouchpointStatus,
    Workspace,
)

COLUMNS = (
    "occurred_at",
    "kind",
    "direction",
    "staff",
    "external_id",
    "occurrence",
    "subject",
    "practice",
    "person",
    "confidence",
    "status",
    "reasons",
)

# A cell starting with one of these runs as a formula in Excel, LibreOffice
# and Google Sheets (OWASP "CSV Injection"); such text cells get a leading '.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = ("staff", "external_id", "subject", "practice", "person", "reasons")


def touchpoint_rows(
    session: Session,
    workspace: Workspace,
    statuses: Sequence[TouchpointStatus] = (
        TouchpointStatus.CONFIRMED,
        TouchpointStatus.NEEDS_REVIEW,
    ),
) -> Iterator[dict[str, Any]]:
    """Yield one row per activity and matched practice, oldest first."""
    practice = aliased(ReferralSource)
    person = aliased(ReferralSource)
    query = (
        select(Touchpoint, Activity, practice.name, person.name, StaffMember)
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .join(practice, practice.id == Touchpoint.practice_id)
        .outerjoin(person, person.id == Touchpoint.person_id)
        .join(StaffMember, StaffMember.id == Activity.staff_member_id)
        .where(Touchpoint.workspace_id == workspace.id, Touchpoint.status.in_(statuses))
        .order_by(Activity.occurred_at, Activity.id, practice.name)
    )
    for touchpoint, activity, practice_name, person_name, staff in session.execute(
        query
    ).yield_per(1000):
        zone = zoneinfo.ZoneInfo(staff.timezone)
        yield {
            "occurred_at": activity.occurred_at.astimezone(zone).isoformat(),
            "kind": activity.kind,
            "direction": activity.direction or "",
            "staff": staff.email,
            "external_id": activity.external_id,
            "occurrence": _utc(activity.occurrence),
            "subject": activity.subject or "",
            "practice": practice_name,
            "person": person_name or "",
            "confidence": round(touchpoint.confidence, 3),
            "status": touchpoint.status.value,
            "reasons": "; ".join(_reason_text(reason) for reason in touchpoint.reasons),
        }


def _utc(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _reason_text(reason: dict[str, Any]) -> str:
    return f"{reason['signal']}: {reason['detail']} ({reason['score']:.2f})"


def write_csv(rows: Iterator[dict[str, Any]], handle: IO[str]) -> int:
    """Write rows as CSV with a header; return the number of rows."""
    writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({key: _neutralize(key, value) for key, value in row.items()})
        count += 1
    return count


def _neutralize(column: str, value: Any) -> Any:
    if (
        column in TEXT_COLUMNS
        and isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
    ):
        return "'" + value
    return value


def write_json(rows: Iterator[dict[str, Any]], handle: IO[str]) -> int:
    """Write rows as a JSON array, one object per line; return the count."""
    count = 0
    handle.write("[")
    for row in rows:
        handle.write(",\n" if count else "\n")
        handle.write(json.dumps(row, ensure_ascii=False))
        count += 1
    handle.write("\n]\n" if count else "]\n")
    return count
