"""Import referrals from a CSV file and close their loops by hand."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from reminders import (
    REFERRAL_COLUMNS,
    ClosedBy,
    DirectoryEntry,
    OpenLoop,
    Reason,
    SourceDirectory,
    SourceProfile,
    SourceQuery,
    parse_count,
    parse_date,
    patient_column,
)
from warmline.csvfile import CsvInputError, read_rows
from warmline.models import (
    FollowUp,
    FollowUpStatus,
    Referral,
    ReferralSource,
    Workspace,
)
from warmline.remind.errors import ReminderError
from warmline.remind.followups import follow_up_basis
from warmline.remind.state import (
    load_state,
)

MAX_REFERRAL_ID = 200


@dataclasses.dataclass
class ReferralImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclasses.dataclass(frozen=True)
class ReferralRow:
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
    reject_patient_columns(path)
    directory = source_directory(session, workspace)
    rows = [
        parse_referral(path, line, raw, directory, today)
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


def reject_patient_columns(path: Path) -> None:
    """Raise CsvInputError when a column of the header looks like patient data."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # read_rows reports these with the file and line
    message = patient_column_error(header)
    if message is not None:
        raise CsvInputError(path, 1, message)


def patient_column_error(header: Iterable[str]) -> str | None:
    """Return the error for the first column name that looks like patient data."""
    for name in header:
        meaning = patient_column(name)
        if meaning is not None:
            return (
                f"column {name!r} looks like patient data ({meaning}); remove it: "
                "a referrals file carries only dates, referring sources, counts "
                "and opaque referral ids"
            )
    return None


def source_directory(session: Session, workspace: Workspace) -> SourceDirectory:
    """Return the directory that names in a referrals file are resolved against."""
    return SourceDirectory(_directory_entries(session, workspace))


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


def parse_referral(
    path: Path,
    line: int,
    raw: dict[str, str],
    directory: SourceDirectory,
    today: dt.date,
) -> ReferralRow:
    """Parse one row of a referrals file; raises CsvInputError naming the line."""
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
        return ReferralRow(
            line=line,
            received_on=parse_date(raw["date"], today),
            source_id=directory.resolve(query),
            count=parse_count(raw.get("count", "")),
            external_ref=external_ref,
        )
    except ValueError as error:
        raise CsvInputError(path, line, str(error)) from None


def _check_repeated_ids(path: Path, rows: list[ReferralRow]) -> None:
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


def _summed_without_id(rows: list[ReferralRow]) -> list[ReferralRow]:
    summed: dict[tuple[dt.date, int], ReferralRow] = {}
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
    row: ReferralRow,
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
    _close_loop_follow_ups(session, workspace, referral.source_id, now)
    return referral


def _close_loop_follow_ups(
    session: Session, workspace: Workspace, source_id: int, now: dt.datetime
) -> None:
    """Mark done the source's open close_loop follow-ups once none of its
    referrals is open, as the reminder pass would on its next run."""
    still_open = session.scalar(
        select(Referral.id).where(
            Referral.workspace_id == workspace.id,
            Referral.source_id == source_id,
            Referral.closed_at.is_(None),
        )
    )
    if still_open is not None:
        return
    for follow_up in session.scalars(
        select(FollowUp).where(
            FollowUp.workspace_id == workspace.id,
            FollowUp.source_id == source_id,
            FollowUp.reason == Reason.CLOSE_LOOP.value,
            FollowUp.status == FollowUpStatus.OPEN,
        )
    ):
        follow_up.status = FollowUpStatus.DONE
        follow_up.closed_at = now
        follow_up_basis(session, follow_up).closed_by = ClosedBy.STAFF.value
    session.flush()


def loop_rows(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> list[tuple[OpenLoop, SourceProfile]]:
    """Return the open loops as of `as_of`, each with its referring source."""
    state = load_state(session, workspace, as_of)
    return [(loop, state.profiles[loop.referral.source_id]) for loop in state.loops]
