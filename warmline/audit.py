"""The audit log: who did what and when, recorded in the same transaction.

`record()` adds one row to the session.  The row commits or rolls back
with the change it describes, so the log never claims an action that did
not happen.  Rows are append-only: a flush that would update or delete an
`AuditRecord`, or an ORM UPDATE or DELETE statement on the table, raises
`AuditLogError`.  The guard lives in warmline.audit_models, so it is
active wherever the model is loaded.  On PostgreSQL a trigger rejects the
same at the database (migration 0004_privacy).

Details must not carry personal content.  `record()` rejects any string
that contains "@" (an address) or is longer than `MAX_DETAIL_LENGTH`;
give ids, counts and setting names instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import json
import os
from collections.abc import Iterable, Mapping
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.audit_models import AuditLogError, AuditRecord
from warmline.models import Workspace, utcnow

# Actions, as stored in audit_log.action.
SIGN_IN = "staff.sign_in"
ACCOUNT_ADD = "account.add"
ACCOUNT_CONNECT = "account.connect"
ACCOUNT_DISABLE = "account.disable"
ACCOUNT_PURGE = "account.purge"
SOURCES_IMPORT = "sources.import"
SOURCE_REMOVE = "source.remove"
STAFF_IMPORT = "staff.import"
STAFF_ADD = "staff.add"
REVIEW_DECISION = "touchpoint.review"
SETTING_CHANGE = "setting.change"
TOUCHPOINTS_EXPORT = "touchpoints.export"
AUDIT_EXPORT = "audit.export"
RETENTION_APPLY = "retention.apply"
SECRETS_ROTATE = "secrets.rotate"

MAX_DETAIL_LENGTH = 200
"""Maximum length of a string in details, because longer text is likely content."""

CSV_COLUMNS = ("occurred_at", "actor", "action", "target", "details")

# A cell starting with one of these runs as a formula in spreadsheet
# programs, so such cells get a leading ' in the CSV export.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def cli_actor() -> str:
    """Return the actor of a command-line action: cli:<operating-system user>."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        # No login name and no passwd entry, as in some containers.
        user = f"uid{os.getuid()}"
    return f"cli:{user}"


def record(
    session: Session,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None = None,
    *,
    workspace: Workspace,
) -> AuditRecord:
    """Add an audit record to `session`; it commits with the session.

    `target` names what was acted on as kind:id ("account:3",
    "setting:subject_mode").  Raises AuditLogError when `details` contains
    an address or a long text.
    """
    values = dict(details or {})
    _check_details(values)
    entry = AuditRecord(
        workspace_id=workspace.id,
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        target=target,
        details=values,
    )
    session.add(entry)
    return entry


def setting_details(name: str, value: Any) -> dict[str, Any]:
    """Describe a setting change without a value that could be personal.

    List settings (blocklist, own_domains) may hold addresses, and text
    settings such as digest_sender may be one, so for those only the length
    is recorded.
    """
    if isinstance(value, list | tuple):
        return {"name": name, "items": len(value)}
    if isinstance(value, str) and ("@" in value or len(value) > 40):
        return {"name": name, "characters": len(value)}
    return {"name": name, "value": value}


def _check_details(value: Any, path: str = "details") -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _check_details(str(key), f"{path} key")
            _check_details(item, f"{path}[{key!r}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_details(item, f"{path}[{index}]")
    elif isinstance(value, str):
        if "@" in value or len(value) > MAX_DETAIL_LENGTH:
            raise AuditLogError(
                f"{path} looks like personal content (an address or a text of "
                f"{len(value)} characters); record ids and counts instead"
            )
    elif value is not None and not isinstance(value, bool | int | float):
        raise AuditLogError(
            f"{path} is a {type(value).__name__}; use numbers, short strings, "
            "lists and mappings"
        )


def list_records(
    session: Session, workspace: Workspace, since: dt.datetime | None = None
) -> list[AuditRecord]:
    """Return the workspace's audit records, oldest first, from `since` on."""
    query = select(AuditRecord).where(AuditRecord.workspace_id == workspace.id)
    if since is not None:
        query = query.where(AuditRecord.occurred_at >= since)
    return list(
        session.scalars(query.order_by(AuditRecord.occurred_at, AuditRecord.id))
    )


def record_row(entry: AuditRecord) -> dict[str, str]:
    """Return one record as text cells, its time in ISO 8601 UTC."""
    return {
        "occurred_at": entry.occurred_at.astimezone(dt.UTC).isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "details": json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
    }


def write_csv(records: Iterable[AuditRecord], handle: IO[str]) -> int:
    """Write records as CSV with a header; return the number of rows."""
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for entry in records:
        row = record_row(entry)
        writer.writerow({key: _neutralize(value) for key, value in row.items()})
        count += 1
    return count


def _neutralize(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value
