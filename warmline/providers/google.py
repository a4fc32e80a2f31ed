"""Google accounts in the core: reader factories and `accounts connect google`.

A staff member's consent creates two accounts on one grant: "gmail" and
"google_calendar", both located at the Google account's address as
users.getProfile reports it.  The gmail account stores the grant
(encrypted).  The calendar account names it in its options as
`credential_account_id` and uses the same stored grant and the same lock,
because two copies of one grant would each rotate the refresh token and
could reject each other's.  When Google refuses the grant (invalid_grant),
both accounts stop with "needs_reauth" on their next sync and keep their
cursors; connecting again resumes both where they stopped.

With `--service-account`, nothing is stored: each read signs a JWT for the
staff member with the service account key (domain-wide delegation).

Settings come from WARMLINE_GOOGLE_* environment variables, read by
`GoogleProviderSettings.from_environ` when the command or the reader
registration starts.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import google.auth.credentials
import google.oauth2.credentials
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import ConnectorError, Reader
from connectors.google import (
    GMAIL_QUOTAS,
    CredentialsFactory,
    GmailReader,
    GoogleCalendarReader,
    GoogleSettings,
    StoredCredentials,
    authorize_installed_app,
    delegated_credentials,
    mailbox_address,
    requested_scopes,
    save_credentials,
)
from warmline.models import Account, AccountStatus, StaffMember
from warmline.readers import ReaderServices, register_reader
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.staff import StaffError, find_staff

if TYPE_CHECKING:
    from warmline.cli import AppContext

log = structlog.get_logger(__name__)

GMAIL_PROVIDER = "gmail"
CALENDAR_PROVIDER = "google_calendar"
ENV_PREFIX = "WARMLINE_GOOGLE_"


@dataclasses.dataclass(frozen=True)
class GoogleProviderSettings:
    """The Google settings; each field reads WARMLINE_GOOGLE_<NAME>.

    `api_root` empty means Google's own endpoints; a URL such as
    "http://127.0.0.1:8080/" sends every Gmail, Calendar and token request
    there instead (an emulator).  `quota` names Gmail's per-user regime:
    "legacy" (15,000 units per minute, messages.get 5) or "2026" (6,000,
    messages.get 20).
    """

    client_secrets_file: str = ""
    service_account_file: str = ""
    api_root: str = ""
    quota: str = "legacy"
    quota_share: float = 0.9
    threads: int = 4
    batch_size: int = 50
    timeout: float = 60.0
    calendars: tuple[str, ...] = ("primary",)
    calendar_days_back: int = 180
    calendar_days_ahead: int = 60
    calendar_relist_days: int = 30
    place_follow_ups: bool = False
    authorization_timeout: float = 300.0

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None
    ) -> GoogleProviderSettings:
        """Read the settings from the environment; unset ones keep their default."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[field.name] = _parse(raw, field.default)
            except ValueError as error:
                raise click.UsageError(
                    f"invalid {ENV_PREFIX}{field.name.upper()}={raw!r}: {error}"
                ) from error
        return cls(**values)

    def connector_settings(self) -> GoogleSettings:
        """Return the connectors' settings object for these values."""
        regime = GMAIL_QUOTAS.get(self.quota)
        if regime is None:
            raise click.UsageError(
                f"{ENV_PREFIX}QUOTA={self.quota!r} is unknown; use "
                f"{' or '.join(sorted(GMAIL_QUOTAS))}"
            )
        try:
            settings = GoogleSettings(
                timeout=self.timeout,
                threads=self.threads,
                batch_size=self.batch_size,
                gmail_quota=regime,
                quota_share=self.quota_share,
                calendar_days_back=self.calendar_days_back,
                calendar_days_ahead=self.calendar_days_ahead,
                calendar_relist_days=self.calendar_relist_days,
                authorization_timeout=self.authorization_timeout,
            )
        except ValueError as error:
            raise click.UsageError(f"invalid Google setting: {error}") from error
        return settings.with_endpoint(self.api_root) if self.api_root else settings

    def client_config(self) -> dict[str, Any]:
        """Read the OAuth client secrets file ("Desktop app" client)."""
        if not self.client_secrets_file:
            raise click.UsageError(
                f"{ENV_PREFIX}CLIENT_SECRETS_FILE is not set; create a Desktop app "
                "OAuth client (see docs/google.md) and give the path of its JSON file"
            )
        return _read_json(self.client_secrets_file, "OAuth client secrets")

    def service_account_info(self) -> dict[str, Any]:
        """Read the service account's JSON key."""
        if not self.service_account_file:
            raise click.UsageError(
                f"{ENV_PREFIX}SERVICE_ACCOUNT_FILE is not set; give the path of "
                "the service account's JSON key (see docs/google.md)"
            )
        return _read_json(self.service_account_file, "service account key")


def _parse(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
            raise ValueError("use true or false")
        return raw.strip().lower() in {"true", "1", "yes"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        return tuple(part.strip() for part in raw.split(";") if part.strip())
    return raw.strip()


def _read_json(path: str, description: str) -> dict[str, Any]:
    try:
        value = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as error:
        raise click.UsageError(
            f"cannot read the {description} at {path}: {error}"
        ) from error
    except ValueError as error:
        raise click.UsageError(
            f"the {description} at {path} is not JSON: {error}"
        ) from error
    if not isinstance(value, dict):
        raise click.UsageError(f"the {description} at {path} is not a JSON object")
    return value


# --- readers -------------------------------------------------------------------


def register_readers(
    secret_box: Callable[[], SecretBox] | None = None,
    settings: GoogleProviderSettings | None = None,
    connector: GoogleSettings | None = None,
) -> None:
    """Register the gmail and google_calendar reader factories.

    The stored grant is opened with the reader services' sessions and secret
    box; a `secret_box` given here comes before the services' one.  Only
    accounts with a stored grant load the box, so commands that read no
    such account never need the keys.  `connector` replaces the connectors'
    settings that `settings` would give, for timeouts and retries that no
    variable sets.
    """
    settings = settings or GoogleProviderSettings.from_environ()
    connector = connector or settings.connector_settings()
    chosen = connector

    def gmail_reader(account: Account, services: ReaderServices) -> Reader:
        credentials = _credentials(account, services, settings, chosen, secret_box)
        return GmailReader(credentials, chosen)

    def calendar_reader(account: Account, services: ReaderServices) -> Reader:
        credentials = _credentials(account, services, settings, chosen, secret_box)
        calendars = account.options.get("calendars") or list(settings.calendars)
        timezone = account.options.get("timezone") or account.staff_member.timezone
        return GoogleCalendarReader(
            credentials, chosen, calendars=calendars, default_timezone=timezone
        )

    register_reader(GMAIL_PROVIDER, gmail_reader)
    register_reader(CALENDAR_PROVIDER, calendar_reader)


def _credentials(
    account: Account,
    services: ReaderServices,
    settings: GoogleProviderSettings,
    connector: GoogleSettings,
    secret_box: Callable[[], SecretBox] | None,
) -> CredentialsFactory:
    """Return how a read of `account` gets its credentials.

    Every value is taken from the row now: the reader runs after the
    session that loaded the account has closed.
    """
    options = account.options
    if options.get("mode") == "service_account":
        info = settings.service_account_info()
        subject = account.location
        scopes = list(options.get("scopes") or requested_scopes())
        return lambda: delegated_credentials(info, subject, scopes, connector.token_uri)
    box = (secret_box or services.secret_box)()
    grant_account = int(options.get("credential_account_id") or account.id)
    store = DatabaseCredentialStore(services.sessions, grant_account, box)
    token_uri = connector.token_uri
    return lambda: StoredCredentials.from_store(store, token_uri)


# --- connecting -------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ConnectedAccounts:
    address: str
    gmail_account_id: int
    calendar_account_id: int


def connect_staff_member(
    app: AppContext,
    settings: GoogleProviderSettings,
    staff_email: str,
    *,
    service_account: bool = False,
    follow_ups: bool | None = None,
    calendars: tuple[str, ...] = (),
    open_browser: bool = True,
    browser: str | None = None,
    port: int = 0,
) -> ConnectedAccounts:
    """Connect a staff member's Gmail mailbox and Google calendars, or reconnect them.

    Raises click.ClickException when the consent was given for a Google
    account that is not one of the staff member's addresses.
    """
    with app.transaction() as (session, workspace):
        member = find_staff(session, workspace, staff_email)
        member_id, member_email = member.id, member.email
        addresses = {row.address for row in member.addresses} | {member.email}
    place = settings.place_follow_ups if follow_ups is None else follow_ups
    scopes = requested_scopes(place)
    connector = settings.connector_settings()
    grant: google.oauth2.credentials.Credentials | None = None
    if service_account:
        credentials: google.auth.credentials.Credentials = delegated_credentials(
            settings.service_account_info(), member_email, scopes, connector.token_uri
        )
        options: dict[str, Any] = {"mode": "service_account", "scopes": scopes}
    else:
        grant = credentials = authorize_installed_app(
            settings.client_config(),
            follow_ups=place,
            login_hint=member_email,
            open_browser=open_browser,
            browser=browser,
            timeout=settings.authorization_timeout,
            port=port,
        )
        options = {"mode": "user", "scopes": scopes}
    address = mailbox_address(credentials, connector)
    if address not in addresses:
        raise click.ClickException(
            f"the Google account {address} is not an address of staff member "
            f"{member_email}; run the command again and choose their account, or "
            f"add the address with 'warmline staff add {member_email} --alias ...'"
        )
    calendar_options = {**options, "calendars": list(calendars or settings.calendars)}
    with app.transaction() as (session, workspace):
        member = session.get_one(StaffMember, member_id)
        gmail = _upsert_account(
            session, workspace.id, member, GMAIL_PROVIDER, address, options
        )
        if grant is not None:
            calendar_options["credential_account_id"] = gmail.id
        calendar = _upsert_account(
            session, workspace.id, member, CALENDAR_PROVIDER, address, calendar_options
        )
        connected = ConnectedAccounts(address, gmail.id, calendar.id)
    if grant is not None:
        store = DatabaseCredentialStore(
            app.sessions, connected.gmail_account_id, app.secret_box()
        )
        save_credentials(store, grant)
    log.info(
        "google accounts connected",
        address=address,
        gmail_account=connected.gmail_account_id,
        calendar_account=connected.calendar_account_id,
    )
    return connected


def _upsert_account(
    session: Session,
    workspace_id: int,
    member: StaffMember,
    provider: str,
    address: str,
    options: dict[str, Any],
) -> Account:
    """Create the account, or reactivate it keeping its cursor."""
    account = session.scalar(
        select(Account).where(
            Account.workspace_id == workspace_id,
            Account.provider == provider,
            Account.location == address,
        )
    )
    if account is None:
        account = Account(
            workspace_id=workspace_id,
            staff_member_id=member.id,
            provider=provider,
            location=address,
        )
        session.add(account)
    elif account.staff_member_id != member.id:
        raise click.ClickException(
            f"{address} is already connected for staff member "
            f"{account.staff_member.email}; remove that account first"
        )
    account.options = {**(account.options or {}), **options}
    account.status = AccountStatus.ACTIVE
    account.last_error = None
    session.flush()
    return account


@click.command("google")
@click.option(
    "--staff",
    "staff_email",
    required=True,
    help="Address of the staff member whose mailbox and calendar to connect.",
)
@click.option(
    "--service-account",
    is_flag=True,
    help="Read through the service account key in WARMLINE_GOOGLE_SERVICE_ACCOUNT_FILE "
    "(domain-wide delegation) instead of the staff member's consent.",
)
@click.option(
    "--follow-ups/--no-follow-ups",
    "follow_ups",
    default=None,
    help="Also ask to write calendar events, to place follow-ups; "
    "default: WARMLINE_GOOGLE_PLACE_FOLLOW_UPS.",
)
@click.option(
    "--calendar",
    "calendars",
    multiple=True,
    help="Calendar id to read (repeatable); default: WARMLINE_GOOGLE_CALENDARS.",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the authorization address instead of opening a browser.",
)
@click.option(
    "--browser",
    help="Name of the browser to open, as registered in Python's webbrowser module.",
)
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    help="Port on 127.0.0.1 for Google's redirect; 0 picks a free one.",
)
@click.pass_obj
def connect_command(
    app: AppContext,
    staff_email: str,
    service_account: bool,
    follow_ups: bool | None,
    calendars: tuple[str, ...],
    no_browser: bool,
    browser: str | None,
    port: int,
) -> None:
    """Connect a staff member's Gmail mailbox and Google Calendar."""
    settings = GoogleProviderSettings.from_environ()
    try:
        connected = connect_staff_member(
            app,
            settings,
            staff_email,
            service_account=service_account,
            follow_ups=follow_ups,
            calendars=calendars,
            open_browser=not no_browser,
            browser=browser,
            port=port,
        )
    except (ConnectorError, StaffError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"connected {connected.address}: gmail account {connected.gmail_account_id}, "
        f"google_calendar account {connected.calendar_account_id}"
    )
