"""Accounts: the mailboxes, calendars and exported files Warmline reads."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline import leases
from warmline.models import (
    Account,
    AccountStatus,
    QuarantinedItem,
    StaffMember,
    Workspace,
)
from warmline.readers import FILE_PROVIDERS


class AccountError(ValueError):
    """An account cannot be added as requested."""


def add_file_account(
    session: Session,
    workspace: Workspace,
    staff: StaffMember,
    provider: str,
    path: Path,
    timezone: str | None = None,
) -> tuple[Account, bool]:
    """Register an exported file or folder for a staff member.

    Returns the account and whether it was created; adding the same path
    again returns the existing account unchanged.
    """
    if provider not in FILE_PROVIDERS:
        raise AccountError(
            f"provider {provider!r} is not a file import; use one of "
            f"{', '.join(FILE_PROVIDERS)}"
        )
    location = path.expanduser().resolve()
    _check_path(provider, location)
    account = session.scalar(
        select(Account).where(
            Account.workspace_id == workspace.id,
            Account.provider == provider,
            Account.location == str(location),
        )
    )
    if account is not None:
        if account.staff_member_id != staff.id:
            raise AccountError(
                f"{location} is already registered for staff member "
                f"{account.staff_member.email}; remove that account first"
            )
        return account, False
    account = Account(
        workspace_id=workspace.id,
        staff_member_id=staff.id,
        provider=provider,
        location=str(location),
        options={"timezone": timezone} if timezone else {},
        status=AccountStatus.ACTIVE,
    )
    session.add(account)
    session.flush()
    return account, True


def _check_path(provider: str, location: Path) -> None:
    if provider == "eml":
        if not location.is_dir():
            raise AccountError(
                f"{location} is not a folder; eml reads a folder of .eml files"
            )
        return
    if not location.is_file():
        raise AccountError(
            f"{location} is not a file; {provider} reads one exported file"
        )


IMAP_OAUTH_PROVIDERS = ("google", "microsoft")
"""Providers whose OAuth grants can sign in to IMAP (Gmail, Outlook)."""


@dataclasses.dataclass(frozen=True)
class ImapAccountInput:
    """What `warmline accounts add imap` records about an IMAP mailbox."""

    host: str
    username: str
    port: int | None = None
    security: str = "tls"
    folders: tuple[str, ...] = ()
    ca_file: str | None = None
    verify_certificates: bool = True
    oauth: str | None = None
    """Whose OAuth grant signs in: "google" or "microsoft"; None for a password."""

    @property
    def location(self) -> str:
        port = self.port or (993 if self.security == "tls" else 143)
        return f"imap://{self.username}@{self.host.lower()}:{port}"


def add_imap_account(
    session: Session, workspace: Workspace, staff: StaffMember, data: ImapAccountInput
) -> tuple[Account, bool]:
    """Register an IMAP mailbox, or update the settings of the one registered.

    The password or OAuth grant is stored separately, encrypted, once this
    row is committed.
    """
    if data.security not in ("tls", "starttls"):
        raise AccountError(
            f"security {data.security!r} is unknown; use tls or starttls"
        )
    if data.oauth not in (None, *IMAP_OAUTH_PROVIDERS):
        raise AccountError(
            f"OAuth provider {data.oauth!r} is unknown; use "
            f"{' or '.join(IMAP_OAUTH_PROVIDERS)}"
        )
    if data.ca_file is not None and not Path(data.ca_file).is_file():
        raise AccountError(f"CA file {data.ca_file} does not exist")
    options = {
        "host": data.host,
        "port": data.port,
        "username": data.username,
        "security": data.security,
        "folders": list(data.folders),
        "ca_file": data.ca_file,
        "verify_certificates": data.verify_certificates,
        "oauth": data.oauth,
    }
    return _upsert_server_account(
        session, workspace, staff, "imap", data.location, options
    )


@dataclasses.dataclass(frozen=True)
class CaldavAccountInput:
    """What `warmline accounts add caldav` records about a CalDAV server."""

    url: str
    username: str
    calendars: tuple[str, ...] = ()
    ca_bundle: str | None = None
    verify_tls: bool = True
    allow_plain_http: bool = False


def add_caldav_account(
    session: Session, workspace: Workspace, staff: StaffMember, data: CaldavAccountInput
) -> tuple[Account, bool]:
    """Register a CalDAV account, or update the settings of the one registered."""
    if not data.url.startswith(("https://", "http://")):
        raise AccountError(f"URL {data.url!r} is not an http(s) URL of a CalDAV server")
    if data.ca_bundle is not None and not Path(data.ca_bundle).is_file():
        raise AccountError(f"CA bundle {data.ca_bundle} does not exist")
    options = {
        "username": data.username,
        "calendars": list(data.calendars),
        "ca_bundle": data.ca_bundle,
        "verify_tls": data.verify_tls,
        "allow_plain_http": data.allow_plain_http,
    }
    return _upsert_server_account(
        session, workspace, staff, "caldav", data.url, options
    )


def _upsert_server_account(
    session: Session,
    workspace: Workspace,
    staff: StaffMember,
    provider: str,
    location: str,
    options: dict[str, Any],
) -> tuple[Account, bool]:
    account, created = _owned_account(
        session, workspace.id, staff, provider, location, "registered"
    )
    account.options = options
    account.status = AccountStatus.ACTIVE
    session.flush()
    return account, created


def _owned_account(
    session: Session,
    workspace_id: int,
    staff: StaffMember,
    provider: str,
    location: str,
    verb: str,
) -> tuple[Account, bool]:
    """Return the account at `location`, created for `staff` when missing.

    Raises AccountError when it belongs to another staff member.
    """
    account = session.scalar(
        select(Account).where(
            Account.workspace_id == workspace_id,
            Account.provider == provider,
            Account.location == location,
        )
    )
    if account is None:
        account = Account(
            workspace_id=workspace_id,
            staff_member_id=staff.id,
            provider=provider,
            location=location,
        )
        session.add(account)
        return account, True
    if account.staff_member_id != staff.id:
        raise AccountError(
            f"{location} is already {verb} for staff member "
            f"{account.staff_member.email}; remove that account first"
        )
    return account, False


def upsert_connected_account(
    session: Session,
    workspace_id: int,
    staff: StaffMember,
    provider: str,
    location: str,
    options: dict[str, Any],
) -> Account:
    """Create a connected mailbox or calendar, or reconnect the one registered.

    Reconnecting keeps the cursor, merges `options` over the stored ones and
    makes the account active again with no error, so the next sync resumes
    where the last one stopped.  Raises AccountError when `location` is
    connected for another staff member.
    """
    account, _ = _owned_account(
        session, workspace_id, staff, provider, location, "connected"
    )
    account.options = {**(account.options or {}), **options}
    account.status = AccountStatus.ACTIVE
    account.last_error = None
    session.flush()
    return account


def list_accounts(session: Session, workspace: Workspace) -> list[Account]:
    return list(
        session.scalars(
            select(Account)
            .where(Account.workspace_id == workspace.id)
            .order_by(Account.id)
        )
    )


def quarantined_items(
    session: Session, account_ids: list[int]
) -> list[QuarantinedItem]:
    """Return the items these accounts could not read, oldest first."""
    return list(
        session.scalars(
            select(QuarantinedItem)
            .where(QuarantinedItem.account_id.in_(account_ids))
            .order_by(QuarantinedItem.account_id, QuarantinedItem.id)
        )
    )


def upsert_mail_and_calendar(
    session: Session,
    workspace_id: int,
    staff: StaffMember,
    location: str,
    mail: tuple[str, dict[str, Any]],
    calendar: tuple[str, dict[str, Any]],
    shared_credential: bool,
) -> tuple[Account, Account]:
    """Create or reconnect a provider's mailbox and calendar for one sign-in.

    `mail` and `calendar` are (provider, options).  With `shared_credential`,
    the calendar reads the grant stored on the mailbox's account.
    """
    mail_account = upsert_connected_account(
        session, workspace_id, staff, mail[0], location, mail[1]
    )
    calendar_options = dict(calendar[1])
    if shared_credential:
        calendar_options["credential_account_id"] = mail_account.id
    calendar_account = upsert_connected_account(
        session, workspace_id, staff, calendar[0], location, calendar_options
    )
    return mail_account, calendar_account


class ResumeError(ValueError):
    """An account cannot be resumed."""


RESUMABLE = (AccountStatus.ERROR, AccountStatus.DISABLED)


def resume_account(session: Session, workspace_id: int, account_id: int) -> Account:
    """Make a failed, parked or disabled account active again.

    Its failure count is forgotten, so the workers try it afresh.  An
    account that needs re-authorization is resumed by connecting it again.
    """
    account = session.get(Account, account_id)
    if account is None or account.workspace_id != workspace_id:
        raise ResumeError(
            f"no account with id {account_id}; see 'warmline accounts list'"
        )
    if account.status not in RESUMABLE:
        raise ResumeError(
            f"account {account_id} has status {account.status.value}; only an "
            "account with status error or disabled can be resumed"
        )
    account.status = AccountStatus.ACTIVE
    account.last_error = None
    leases.reset_failures(session, leases.sync_key(account_id))
    return account
