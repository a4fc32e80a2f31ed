"""Staff members and the addresses that are their own."""

from __future__ import annotations

import dataclasses
import zoneinfo
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.csvfile import CsvInputError, read_rows, split_list
from warmline.models import StaffAddress, StaffMember, Workspace
from warmline.settings import SettingError, parse_setting

COLUMN_ALIASES = {
    "email": "email",
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "name": "name",
    "full_name": "name",
    "aliases": "aliases",
    "alias": "aliases",
    "other_addresses": "aliases",
    "timezone": "timezone",
    "working_hours": "working_hours",
    "hours": "working_hours",
    "time_zone": "timezone",
    "tz": "timezone",
}


class StaffError(ValueError):
    """A staff member's address, alias or time zone is invalid."""


@dataclasses.dataclass(frozen=True)
class StaffInput:
    email: str
    name: str
    aliases: tuple[str, ...] = ()
    timezone: str = "UTC"
    working_hours: str | None = None
    """Their own working hours ("mon-fri 08:00-17:00"); None keeps what is
    stored and an empty text falls back to the workspace's `working_hours`."""


def check_working_hours(text: str) -> str | None:
    """Return working hours in their stored form, None for empty, or raise."""
    if not text.strip():
        return None
    try:
        return parse_setting("working_hours", text)  # type: ignore[no-any-return]
    except SettingError as error:
        raise StaffError(
            str(error).replace("value for working_hours", "working hours")
        ) from error


def normalize_address(value: str) -> str:
    """Validate an address and return it in lower case, or raise StaffError."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise StaffError(f"{value!r} is not a valid address: {error}") from error
    return result.normalized.lower()


def check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise StaffError(
            f"time zone {value!r} is unknown; use an IANA name such as America/Chicago"
        ) from error
    return value


def upsert_staff(
    session: Session, workspace: Workspace, data: StaffInput
) -> StaffMember:
    """Create or update a staff member and replace their set of addresses."""
    email = normalize_address(data.email)
    addresses = {email} | {normalize_address(alias) for alias in data.aliases}
    timezone = check_timezone(data.timezone)
    _check_addresses_free(session, workspace, email, addresses)
    staff = session.scalar(
        select(StaffMember).where(
            StaffMember.workspace_id == workspace.id, StaffMember.email == email
        )
    )
    if staff is None:
        staff = StaffMember(workspace_id=workspace.id, email=email, name=data.name)
        session.add(staff)
    staff.name = data.name
    staff.timezone = timezone
    if data.working_hours is not None:
        staff.working_hours = check_working_hours(data.working_hours)
    kept = [row for row in staff.addresses if row.address in addresses]
    known = {row.address for row in kept}
    staff.addresses = kept + [
        StaffAddress(workspace_id=workspace.id, address=address)
        for address in sorted(addresses - known)
    ]
    session.flush()
    return staff


def _check_addresses_free(
    session: Session, workspace: Workspace, email: str, addresses: set[str]
) -> None:
    taken = session.execute(
        select(StaffAddress.address, StaffMember.email)
        .join(StaffMember, StaffAddress.staff_member_id == StaffMember.id)
        .where(StaffAddress.workspace_id == workspace.id)
        .where(StaffAddress.address.in_(addresses), StaffMember.email != email)
    ).first()
    if taken is not None:
        raise StaffError(
            f"address {taken[0]!r} already belongs to staff member {taken[1]!r}"
        )


def import_staff(session: Session, workspace: Workspace, path: Path) -> int:
    """Create or update every staff member in a CSV file; return the count."""
    inputs = []
    for line, row in read_rows(path, COLUMN_ALIASES, required=("email", "name")):
        inputs.append(
            (
                line,
                StaffInput(
                    email=row["email"],
                    name=row["name"],
                    aliases=tuple(split_list(row.get("aliases", ""))),
                    timezone=row.get("timezone") or "UTC",
                    working_hours=row.get("working_hours") or None,
                ),
            )
        )
    for line, data in inputs:
        try:
            upsert_staff(session, workspace, data)
        except StaffError as error:
            raise CsvInputError(path, line, str(error)) from error
    return len(inputs)


def find_staff(session: Session, workspace: Workspace, email: str) -> StaffMember:
    """Find a staff member by any of their addresses, or raise StaffError."""
    address = email.strip().lower()
    staff = session.scalar(
        select(StaffMember)
        .join(StaffAddress, StaffAddress.staff_member_id == StaffMember.id)
        .where(StaffAddress.workspace_id == workspace.id)
        .where(StaffAddress.address == address)
    )
    if staff is None:
        raise StaffError(
            f"no staff member has the address {email!r}; add one with "
            f"'warmline staff add {email} --name NAME'"
        )
    return staff


def list_staff(session: Session, workspace: Workspace) -> list[StaffMember]:
    return list(
        session.scalars(
            select(StaffMember)
            .where(StaffMember.workspace_id == workspace.id)
            .order_by(StaffMember.email)
        )
    )
