"""Referral source CSV uploads: store, preview with every row's errors, import.

The preview writes nothing.  It parses each row on its own, so every bad row
is listed.  Then it runs the real import in a transaction that is rolled
back, which adds the checks across rows (repeated sources, unknown practices
and owners) and counts the sources to create, update or leave unchanged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from warmline import sources
from warmline.csvfile import CsvInputError, read_rows
from warmline.models import Workspace, utcnow
from warmline.web_models import SourceUpload

MAX_PREVIEW_ROWS = 1000


class UploadError(ValueError):
    """An uploaded file cannot be taken at all (too big, not UTF-8)."""


@dataclasses.dataclass(frozen=True)
class RowPreview:
    line: int
    values: dict[str, str]
    error: str | None


@dataclasses.dataclass(frozen=True)
class Preview:
    rows: list[RowPreview]
    file_errors: list[str]
    """Errors of the file as a whole, or across rows, with the line if known."""
    summary: sources.ImportSummary | None

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
    upload = SourceUpload(
        workspace_id=workspace_id,
        user_id=user_id,
        filename=_safe_name(filename),
        content=content,
    )
    session.add(upload)
    session.flush()
    return upload


def _safe_name(filename: str) -> str:
    name = Path(filename.replace("\\", "/")).name
    return re.sub(r"[^A-Za-z0-9._ -]", "_", name)[:200] or "sources.csv"


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


def preview_upload(
    sessions: sessionmaker[Session], workspace_id: int, upload: SourceUpload
) -> Preview:
    with _as_file(upload) as path:
        rows, file_errors = _parse_each_row(path)
        summary = None
        if not file_errors and not any(row.error for row in rows):
            summary, error = _dry_run(sessions, workspace_id, path)
            if error is not None:
                file_errors.append(error)
    return Preview(rows, file_errors, summary)


def _parse_each_row(path: Path) -> tuple[list[RowPreview], list[str]]:
    """Check every row on its own, so that one bad row hides no other."""
    rows: list[RowPreview] = []
    try:
        for line, raw in read_rows(
            path, sources.COLUMN_ALIASES, required=("type", "name")
        ):
            if len(rows) >= MAX_PREVIEW_ROWS:
                return rows, [
                    f"the file has more than {MAX_PREVIEW_ROWS} rows; import it "
                    "with 'warmline sources import'"
                ]
            rows.append(RowPreview(line, raw, _row_error(path, line, raw)))
    except CsvInputError as error:
        where = f"line {error.line}: " if error.line else ""
        return rows, [where + _message(error)]
    return rows, []


def _row_error(path: Path, line: int, raw: dict[str, str]) -> str | None:
    try:
        # parse_rows stops at the first bad row; the preview lists them all.
        sources.parse_row(path, line, raw, "US")
    except CsvInputError as error:
        return _message(error)
    return None


def _dry_run(
    sessions: sessionmaker[Session], workspace_id: int, path: Path
) -> tuple[sources.ImportSummary | None, str | None]:
    with sessions() as dry:
        try:
            workspace = dry.get_one(Workspace, workspace_id)
            summary = sources.import_sources(dry, workspace, path)
        except CsvInputError as error:
            where = f"line {error.line}: " if error.line else ""
            return None, where + _message(error)
        finally:
            dry.rollback()
    return summary, None


def import_upload(
    session: Session, workspace_id: int, upload: SourceUpload
) -> sources.ImportSummary:
    """Import the upload for real; raises CsvInputError, writing nothing, if invalid."""
    workspace = session.get_one(Workspace, workspace_id)
    with _as_file(upload) as path:
        summary = sources.import_sources(session, workspace, path)
    upload.imported_at = utcnow()
    upload.summary = dataclasses.asdict(summary)
    session.flush()
    return summary


def error_text(error: CsvInputError) -> str:
    where = f"line {error.line}: " if error.line else ""
    return where + _message(error)
