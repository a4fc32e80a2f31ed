"""Sources and referrals CSV uploads: store, preview with every row's errors, import.

The preview writes nothing.  It parses each row on its own, so every bad row
is listed.  Then it runs the real import in a transaction that is rolled
back, which adds the checks across rows (repeated sources or referral ids,
unknown practices and owners) and counts the rows to create, update or
leave unchanged.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import io
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from reminders import REFERRAL_COLUMNS
from warmline import sources
from warmline.csvfile import CsvInputError, read_rows
from warmline.models import Workspace, utcnow
from warmline.remind import referrals
from warmline.web_models import SourceUpload, UploadKind

MAX_PREVIEW_ROWS = 1000


class UploadError(ValueError):
    """An uploaded file cannot be taken at all (too big, not UTF-8)."""


@dataclasses.dataclass(frozen=True)
class RowPreview:
    line: int
    values: dict[str, str]
    error: str | None


@dataclasses.dataclass(frozen=True)
class ImportCounts:
    created: int
    updated: int
    unchanged: int


@dataclasses.dataclass(frozen=True)
class Preview:
    rows: list[RowPreview]
    file_errors: list[str]
    """Errors of the file as a whole, or across rows, with the line if known."""
    summary: ImportCounts | None

    @property
    def row_errors(self) -> int:
        return sum(row.error is not None for row in self.rows)

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.row_errors


def store_upload(
    session: Session,
    workspace_id: int,
    user_id: int,
    filename: str,
    data: bytes,
    max_bytes: int,
    kind: UploadKind = UploadKind.SOURCES,
) -> SourceUpload:
    if len(data) > max_bytes:
        raise UploadError(
            f"{filename} is larger than {max_bytes:,} bytes; split it into "
            "smaller files"
        )
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UploadError(
            f"{filename} is not UTF-8 text; save it as CSV UTF-8"
        ) from error
    if "\x00" in content:
        raise UploadError(f"{filename} contains NUL bytes; it is not a CSV file")
    if kind is UploadKind.REFERRALS:
        # Checked before the file is stored, so that no patient data is kept.
        try:
            header = next(csv.reader(io.StringIO(content)), [])
        except csv.Error:
            header = []  # the preview reports the file's CSV error
        message = referrals.patient_column_error(header)
        if message is not None:
            raise UploadError(f"{filename} was not stored: {message}")
    upload = SourceUpload(
        workspace_id=workspace_id,
        user_id=user_id,
        kind=kind,
        filename=_safe_name(filename, kind),
        content=content,
    )
    session.add(upload)
    session.flush()
    return upload


def _safe_name(filename: str, kind: UploadKind) -> str:
    name = Path(filename.replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9._ -]", "_", name)[:200] or f"{kind.value}.csv"


def get_upload(
    session: Session, workspace_id: int, upload_id: int
) -> SourceUpload | None:
    return session.scalar(
        select(SourceUpload).where(
            SourceUpload.workspace_id == workspace_id, SourceUpload.id == upload_id
        )
    )


def recent_uploads(session: Session, workspace_id: int) -> list[SourceUpload]:
    return list(
        session.scalars(
            select(SourceUpload)
            .where(SourceUpload.workspace_id == workspace_id)
            .order_by(SourceUpload.created_at.desc(), SourceUpload.id.desc())
            .limit(20)
        )
    )


@contextlib.contextmanager
def _as_file(upload: SourceUpload) -> Iterator[Path]:
    """Write the upload to a temporary file named like the original."""
    with tempfile.TemporaryDirectory(prefix="warmline-upload-") as folder:
        path = Path(folder) / upload.filename
        path.write_text(upload.content, encoding="utf-8")
        yield path


def _message(error: CsvInputError) -> str:
    """Drop the temporary path from the message; the page names the file."""
    text = str(error)
    prefix = f"{error.path}, line {error.line}: " if error.line else f"{error.path}: "
    return text.removeprefix(prefix)


RowCheck = Callable[[int, dict[str, str]], None]
"""A check of one row, given its line and values, that raises CsvInputError."""


@dataclasses.dataclass(frozen=True)
class _Format:
    """The columns, row check and import of one kind of upload."""

    columns: Mapping[str, str]
    required: tuple[str, ...]
    command: str
    """The command that imports files too long to preview."""
    row_check: Callable[[Session, Workspace, Path, dt.date], RowCheck]
    run_import: Callable[[Session, Workspace, Path, dt.date], ImportCounts]


def _source_row_check(
    _session: Session, _workspace: Workspace, path: Path, _today: dt.date
) -> RowCheck:
    def check(line: int, raw: dict[str, str]) -> None:
        # parse_rows stops at the first bad row; the preview lists them all.
        sources.parse_row(path, line, raw, "US")

    return check


def _referral_row_check(
    session: Session, workspace: Workspace, path: Path, today: dt.date
) -> RowCheck:
    referrals.reject_patient_columns(path)
    directory = referrals.source_directory(session, workspace)

    def check(line: int, raw: dict[str, str]) -> None:
        referrals.parse_referral(path, line, raw, directory, today)

    return check


def _import_sources(
    session: Session, workspace: Workspace, path: Path, _today: dt.date
) -> ImportCounts:
    summary = sources.import_sources(session, workspace, path)
    return ImportCounts(summary.created, summary.updated, summary.unchanged)


def _import_referrals(
    session: Session, workspace: Workspace, path: Path, today: dt.date
) -> ImportCounts:
    summary = referrals.import_referrals(session, workspace, path, today)
    return ImportCounts(summary.created, summary.updated, summary.unchanged)


FORMATS: dict[UploadKind, _Format] = {
    UploadKind.SOURCES: _Format(
        sources.COLUMN_ALIASES,
        ("type", "name"),
        "warmline sources import",
        _source_row_check,
        _import_sources,
    ),
    UploadKind.REFERRALS: _Format(
        REFERRAL_COLUMNS,
        ("date",),
        "warmline referrals import",
        _referral_row_check,
        _import_referrals,
    ),
}


def preview_upload(
    sessions: sessionmaker[Session],
    workspace_id: int,
    upload: SourceUpload,
    today: dt.date,
) -> Preview:
    """Check every row of the upload, then count what its import would do.

    Referral dates are checked against `today`.  Nothing is written.
    """
    form = FORMATS[upload.kind]
    with _as_file(upload) as path, sessions() as dry:
        try:
            workspace = dry.get_one(Workspace, workspace_id)
            try:
                check = form.row_check(dry, workspace, path, today)
            except CsvInputError as error:
                return Preview([], [error_text(error)], None)
            rows, file_errors = _parse_each_row(path, form, check)
            summary = None
            if not file_errors and not any(row.error for row in rows):
                try:
                    summary = form.run_import(dry, workspace, path, today)
                except CsvInputError as error:
                    file_errors.append(error_text(error))
        finally:
            dry.rollback()
    return Preview(rows, file_errors, summary)


def _parse_each_row(
    path: Path, form: _Format, check: RowCheck
) -> tuple[list[RowPreview], list[str]]:
    """Check every row on its own, so that one bad row hides no other."""
    rows: list[RowPreview] = []
    try:
        for line, raw in read_rows(path, form.columns, required=form.required):
            if len(rows) >= MAX_PREVIEW_ROWS:
                return rows, [
                    f"the file has more than {MAX_PREVIEW_ROWS} rows; import it "
                    f"with '{form.command}'"
                ]
            rows.append(RowPreview(line, raw, _row_error(check, line, raw)))
    except CsvInputError as error:
        return rows, [error_text(error)]
    return rows, []


def _row_error(check: RowCheck, line: int, raw: dict[str, str]) -> str | None:
    try:
        check(line, raw)
    except CsvInputError as error:
        return _message(error)
    return None


def import_upload(
    session: Session, workspace_id: int, upload: SourceUpload, today: dt.date
) -> ImportCounts:
    """Import the upload for real; raises CsvInputError, writing nothing, if invalid."""
    workspace = session.get_one(Workspace, workspace_id)
    with _as_file(upload) as path:
        summary = FORMATS[upload.kind].run_import(session, workspace, path, today)
    upload.imported_at = utcnow()
    upload.summary = dataclasses.asdict(summary)
    session.flush()
    return summary


def error_text(error: CsvInputError) -> str:
    where = f"line {error.line}: " if error.line else ""
    return where + _message(error)
