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
import dataclasses
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
SIGN_IN_REFUSED = "staff.sign_in_refused"
ACCOUNT_ADD = "account.add"
ACCOUNT_CONNECT = "account.connect"
ACCOUNT_DISABLE = "account.disable"
ACCOUNT_PURGE = "account.purge"
ACCOUNT_REVOKE = "account.revoke"
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
    return _add(session, workspace.id, actor, action, target, details)


def _add(
    session: Session,
    workspace_id: int,
    actor: str,
    action: str,
    target: str,
    details: Mapping[str, Any] | None,
    occurred_at: dt.datetime | None = None,
) -> AuditRecord:
    values = dict(details or {})
    _check_details(values)
    entry = AuditRecord(
        workspace_id=workspace_id,
        occurred_at=occurred_at or utcnow(),
        actor=actor,
        action=action,
        target=target,
        details=values,
    )
    session.add(entry)
    return entry


def record_sign_in(
    session: Session,
    *,
    workspace_id: int,
    user_id: int,
    email: str,
    method: str,
    refused: str | None = None,
    occurred_at: dt.datetime | None = None,
) -> AuditRecord:
    """Add the audit record of a web sign-in, accepted or refused.

    `method` names how the person signed in ("password", or an OpenID
    Connect provider such as "google").  `refused` is None for a sign-in
    that started a session, else a short reason such as "wrong_password".
    The record commits with the session, so the caller commits it even when
    the sign-in is refused.  `occurred_at` defaults to now.
    """
    details: dict[str, Any] = {"method": method}
    if refused is None:
        action = SIGN_IN
    else:
        action = SIGN_IN_REFUSED
        details["reason"] = refused
    target = f"web_user:{user_id}"
    return _add(session, workspace_id, email, action, target, details, occurred_at)


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


@dataclasses.dataclass(frozen=True)
class RecordFilter:
    """Filter of audit records: an action, and UTC times [since, until)."""

    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def query_records(
    session: Session,
    workspace_id: int,
    where: RecordFilter,
    *,
    newest_first: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[AuditRecord]:
    """Return one page of the workspace's audit records that match `where`."""
    query = select(AuditRecord).where(AuditRecord.workspace_id == workspace_id)
    if where.action:
        query = query.where(AuditRecord.action == where.action)
    if where.since is not None:
        query = query.where(AuditRecord.occurred_at >= where.since)
    if where.until is not None:
        query = query.where(AuditRecord.occurred_at < where.until)
    if newest_first:
        query = query.order_by(AuditRecord.occurred_at.desc(), AuditRecord.id.desc())
    else:
        query = query.order_by(AuditRecord.occurred_at, AuditRecord.id)
    return list(session.scalars(query.limit(limit).offset(offset)))


def recorded_actions(session: Session, workspace_id: int) -> list[str]:
    """Return the distinct actions in the workspace's audit log, sorted."""
    return list(
        session.scalars(
            select(AuditRecord.action)
            .where(AuditRecord.workspace_id == workspace_id)
            .distinct()
            .order_by(AuditRecord.action)
        )
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
