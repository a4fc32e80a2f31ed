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

Settings are the google_* rows of warmline.settings (WARMLINE_GOOGLE_*
environment variables), read by `load_settings` when the command or the
reader registration starts and turned into `GoogleProviderSettings`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import click
import google.auth.credentials
import google.oauth2.credentials
import httpx
import structlog

from connectors import ConnectorError, Reader
from connectors.google import (
    GMAIL_QUOTAS,
    CredentialsFactory,
    GmailReader,
    GoogleCalendarReader,
    GoogleSettings,
    QuotaRegime,
    StoredCredentials,
    authorize_installed_app,
    delegated_credentials,
    requested_scopes,
    save_credentials,
)
from connectors.google.placement import GoogleCalendarWriter
from connectors.google.send import GMAIL_SEND_SCOPE, SEND_SCOPES, GmailSender
from connectors.placement import CalendarWriter
from warmline.accounts import AccountError, upsert_mail_and_calendar
from warmline.digest_senders import missing_scope, register_sender
from warmline.models import Account, StaffMember
from warmline.pipeline import READER_SETUP_ERRORS
from warmline.placement_writers import register_writer
from warmline.privacy import (
    Revocation,
    RevocationOutcome,
    TokenRevocationError,
    register_token_revoker,
)
from warmline.providers import GrantPurposes, grant_purposes
from warmline.providers.gmail_schedule import (
    DailyBudget,
    GmailAdmission,
    record_usage,
)
from warmline.readers import ReaderServices, open_reader, register_reader
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.settings import ProcessSettings, SettingError, load_settings
from warmline.staff import StaffError, find_staff
from warmline.sync_admission import register_admission

if TYPE_CHECKING:
    from warmline.cli import AppContext

log = structlog.get_logger(__name__)

GMAIL_PROVIDER = "gmail"
CALENDAR_PROVIDER = "google_calendar"
ENV_PREFIX = "WARMLINE_GOOGLE_"


@dataclasses.dataclass(frozen=True)
class GoogleProviderSettings:
    """The Google settings: field NAME is the process setting google_NAME.

    `api_root` empty means Google's own endpoints; a URL such as
    "http://127.0.0.1:8080/" sends every Gmail, Calendar and token request
    there instead (an emulator).  `quota` names Gmail's per-user regime:
    "legacy" (15,000 units per minute, messages.get 5) or "2026" (6,000,
    messages.get 20); `quota_units_per_minute` and `method_units` replace
    parts of it.
    """

    client_secrets_file: str = ""
    web_client_secrets_file: str = ""
    service_account_file: str = ""
    api_root: str = ""
    quota: str = "legacy"
    quota_units_per_minute: int | None = None
    method_units: tuple[tuple[str, int], ...] = ()
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
    project_daily_units: int = 72_000_000
    quota_day_timezone: str = "America/Los_Angeles"

    @classmethod
    def from_settings(cls, settings: ProcessSettings) -> GoogleProviderSettings:
        """Take the google_* values of the process settings."""
        values = {
            field.name: getattr(settings, "google_" + field.name)
            for field in dataclasses.fields(cls)
        }
        return cls(**values)

    @classmethod
    def load(cls) -> GoogleProviderSettings:
        """Read the process settings (the environment) and take the Google ones.

        Raises SettingError naming the variable whose value is invalid.
        """
        return cls.from_settings(load_settings())

    def gmail_quota(self) -> QuotaRegime:
        """Return Gmail's quota regime with this configuration's replacements."""
        regime = GMAIL_QUOTAS.get(self.quota)
        if regime is None:
            raise SettingError(
                f"invalid {ENV_PREFIX}QUOTA={self.quota!r}; use "
                f"{' or '.join(sorted(GMAIL_QUOTAS))}"
            )
        if self.quota_units_per_minute is None and not self.method_units:
            return regime
        return QuotaRegime(
            name=f"{regime.name} (configured)",
            units_per_minute=self.quota_units_per_minute or regime.units_per_minute,
            method_units=MappingProxyType(
                {**regime.method_units, **dict(self.method_units)}
            ),
            default_units=regime.default_units,
        )

    def connector_settings(self) -> GoogleSettings:
        """Return the connectors' settings object for these values.

        Raises SettingError when two values contradict each other.
        """
        if self.calendar_relist_days >= self.calendar_days_ahead:
            raise SettingError(
                f"invalid {ENV_PREFIX}CALENDAR_RELIST_DAYS="
                f"{self.calendar_relist_days}: it must be less than "
                f"{ENV_PREFIX}CALENDAR_DAYS_AHEAD={self.calendar_days_ahead}, "
                "because a full listing must reach each occurrence before it "
                "starts; lower the first or raise the second"
            )
        try:
            settings = GoogleSettings(
                timeout=self.timeout,
                threads=self.threads,
                batch_size=self.batch_size,
                gmail_quota=self.gmail_quota(),
                quota_share=self.quota_share,
                calendar_days_back=self.calendar_days_back,
                calendar_days_ahead=self.calendar_days_ahead,
                calendar_relist_days=self.calendar_relist_days,
                authorization_timeout=self.authorization_timeout,
            )
        except ValueError as error:
            # The setting parsers check each value; this is a safety net.
            raise SettingError(f"invalid Google setting: {error}") from error
        return settings.with_endpoint(self.api_root) if self.api_root else settings

    def client_config(self) -> dict[str, Any]:
        """Read the OAuth client secrets file ("Desktop app" client)."""
        if not self.client_secrets_file:
            raise click.UsageError(
                f"{ENV_PREFIX}CLIENT_SECRETS_FILE is not set; create a Desktop app "
                "OAuth client (see docs/google.md) and give the path of its JSON file"
            )
        return _read_json(self.client_secrets_file, "OAuth client secrets")

    def web_client_config(self) -> dict[str, Any]:
        """Read the OAuth client secrets file of the review site ("Web application").

        Empty WARMLINE_GOOGLE_WEB_CLIENT_SECRETS_FILE returns {}: the site
        then offers neither Google sign-in nor connecting Google accounts.
        """
        if not self.web_client_secrets_file:
            return {}
        config = _read_json(self.web_client_secrets_file, "web OAuth client secrets")
        web = config.get("web")
        if not isinstance(web, dict) or not {"client_id", "client_secret"} <= set(web):
            raise click.UsageError(
                f"{self.web_client_secrets_file} is not the JSON of a Web "
                "application OAuth client (a 'web' object with client_id and "
                "client_secret); download it again (see docs/google.md)"
            )
        return config

    def project_id(self, service_account: bool) -> str | None:
        """Return the Cloud project of the OAuth client or service account key.

        None when the file is not set or names no project_id.
        """
        try:
            if service_account:
                value = self.service_account_info().get("project_id")
            else:
                config = self.client_config()
                client = config.get("installed") or config.get("web") or {}
                value = client.get("project_id") if isinstance(client, dict) else None
        except click.UsageError:
            return None
        return str(value) if value else None

    def service_account_info(self) -> dict[str, Any]:
        """Read the service account's JSON key."""
        if not self.service_account_file:
            raise click.UsageError(
                f"{ENV_PREFIX}SERVICE_ACCOUNT_FILE is not set; give the path of "
                "the service account's JSON key (see docs/google.md)"
            )
        return _read_json(self.service_account_file, "service account key")


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
    """Register the gmail and google_calendar readers and the calendar writer.

    The stored grant is opened with the reader services' sessions and secret
    box; a `secret_box` given here comes before the services' one.  Only
    accounts with a stored grant load the box, so commands that read no
    such account never need the keys.  `connector` replaces the connectors'
    settings that `settings` would give, for timeouts and retries that no
    variable sets.  A purge of either account revokes the grant at the
    revocation endpoint next to `connector`'s token endpoint.
    """
    try:
        settings = settings or GoogleProviderSettings.load()
        connector = connector or settings.connector_settings()
    except SettingError as error:
        raise click.UsageError(str(error)) from error
    chosen = connector
    budget = DailyBudget(
        units=settings.project_daily_units,
        time_zone=settings.quota_day_timezone,
        regime=chosen.gmail_quota,
        list_page_size=chosen.list_page_size,
    )

    def gmail_reader(account: Account, services: ReaderServices) -> Reader:
        credentials = _credentials(account, services, settings, chosen, secret_box)
        listener = functools.partial(
            record_usage, services.sessions, account.id, budget
        )
        return GmailReader(credentials, chosen, usage_listener=listener)

    def calendar_reader(account: Account, services: ReaderServices) -> Reader:
        credentials = _credentials(account, services, settings, chosen, secret_box)
        calendars = account.options.get("calendars") or list(settings.calendars)
        timezone = account.options.get("timezone") or account.staff_member.timezone
        return GoogleCalendarReader(
            credentials, chosen, calendars=calendars, default_timezone=timezone
        )

    def calendar_writer(account: Account, services: ReaderServices) -> CalendarWriter:
        credentials = _credentials(account, services, settings, chosen, secret_box)
        calendars = account.options.get("calendars") or list(settings.calendars)
        return GoogleCalendarWriter(credentials, chosen, calendar_id=calendars[0])

    register_reader(GMAIL_PROVIDER, gmail_reader)
    register_reader(CALENDAR_PROVIDER, calendar_reader)
    register_writer(CALENDAR_PROVIDER, calendar_writer)
    register_sender(
        GMAIL_PROVIDER, functools.partial(_gmail_sender, secret_box, settings, chosen)
    )
    register_admission(GMAIL_PROVIDER, GmailAdmission(budget, measure_mailbox))
    revoker = functools.partial(revoke_stored_grant, chosen)
    register_token_revoker(GMAIL_PROVIDER, revoker)
    register_token_revoker(CALENDAR_PROVIDER, revoker)


def measure_mailbox(services: ReaderServices, account_id: int) -> int | None:
    """Return the size of an account's mailbox (users.getProfile), or None.

    The reader's usage listener records the call's unit and stores the size
    in the account's options.  None when the account cannot be read now;
    its sync then runs and reports why.
    """
    with services.sessions() as session:
        account = session.get_one(Account, account_id)
        try:
            reader = open_reader(account, services)
        except READER_SETUP_ERRORS as error:
            log.warning("mailbox not measured", account_id=account_id, error=str(error))
            return None
    if not isinstance(reader, GmailReader):
        return None
    try:
        return reader.profile().messages_total
    except ConnectorError as error:
        log.warning("mailbox not measured", account_id=account_id, error=str(error))
        return None


MANUAL_REVOKE_HINT = (
    "remove Warmline's access at https://myaccount.google.com/permissions"
)


def revoke_stored_grant(
    connector: GoogleSettings,
    _provider: str,
    _options: dict[str, Any],
    credential: str,
) -> Revocation:
    """Revoke a stored user grant at Google's revocation endpoint.

    The endpoint sits next to the connector's token endpoint, so it is
    https://oauth2.googleapis.com/revoke or the emulator's.  Revoking the
    refresh token ends the whole grant with its access tokens (RFC 7009,
    section 2.1).  Google returns 400 invalid_token for a token that has
    already ended, which counts as revoked.  Raises TokenRevocationError
    when the request fails.
    """
    try:
        info = json.loads(credential)
    except ValueError as error:
        raise TokenRevocationError(
            f"the stored Google credential is not JSON; {MANUAL_REVOKE_HINT}"
        ) from error
    token = None
    if isinstance(info, dict):
        token = info.get("refresh_token") or info.get("token")
    if not token:
        raise TokenRevocationError(
            f"the stored Google credential has no token; {MANUAL_REVOKE_HINT}"
        )
    url = urllib.parse.urljoin(connector.token_uri, "revoke")
    try:
        response = httpx.post(url, data={"token": token}, timeout=connector.timeout)
    except httpx.HTTPError as error:
        raise TokenRevocationError(
            f"the Google revocation endpoint {url} cannot be reached "
            f"({type(error).__name__}); {MANUAL_REVOKE_HINT}"
        ) from error
    if response.status_code == 200:
        return Revocation(RevocationOutcome.REVOKED, "Google revoked the grant")
    code = _oauth_error_code(response)
    if response.status_code == 400 and code == "invalid_token":
        return Revocation(RevocationOutcome.REVOKED, "the grant had already ended")
    raise TokenRevocationError(
        f"Google rejected the revocation with HTTP {response.status_code}"
        f"{f' ({code})' if code else ''}; {MANUAL_REVOKE_HINT}"
    )


def _oauth_error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else ""


def _gmail_sender(
    secret_box: Callable[[], SecretBox] | None,
    settings: GoogleProviderSettings,
    connector: GoogleSettings,
    account: Account,
    services: ReaderServices,
) -> GmailSender:
    """Open the mailbox for sending digests; raise MissingSendScope without a
    send scope in the stored grant."""
    if not SEND_SCOPES & set(account.options.get("scopes") or ()):
        raise missing_scope(account, GMAIL_SEND_SCOPE)
    credentials = _credentials(account, services, settings, connector, secret_box)
    return GmailSender(credentials, connector)


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


def grant_scopes(purposes: GrantPurposes) -> list[str]:
    """Return the OAuth scopes a Google grant needs for `purposes`."""
    scopes = requested_scopes(purposes.place_follow_ups)
    if purposes.send_digests:
        scopes.append(GMAIL_SEND_SCOPE)
    return scopes


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
    send_digests: bool | None = None,
    calendars: tuple[str, ...] = (),
    open_browser: bool = True,
    browser: str | None = None,
    port: int = 0,
    authorized: google.oauth2.credentials.Credentials | None = None,
) -> ConnectedAccounts:
    """Connect a staff member's Gmail mailbox and Google calendars, or reconnect them.

    `authorized` is a grant that another flow already obtained (the review
    site's web flow); without it the installed-app flow runs.  Raises
    click.ClickException when the consent was given for a Google account
    that is not one of the staff member's addresses.
    """
    with app.transaction() as (session, workspace):
        member = find_staff(session, workspace, staff_email)
        member_id, member_email = member.id, member.email
        addresses = {row.address for row in member.addresses} | {member.email}
        purposes = grant_purposes(
            session,
            workspace,
            settings.place_follow_ups,
            place_follow_ups=follow_ups,
            send_digests=send_digests,
        )
    place = purposes.place_follow_ups
    scopes = grant_scopes(purposes)
    connector = settings.connector_settings()
    grant: google.oauth2.credentials.Credentials | None = None
    if service_account:
        credentials: google.auth.credentials.Credentials = delegated_credentials(
            settings.service_account_info(), member_email, scopes, connector.token_uri
        )
        options: dict[str, Any] = {"mode": "service_account", "scopes": scopes}
    else:
        grant = credentials = authorized or authorize_installed_app(
            settings.client_config(),
            follow_ups=place,
            scopes=scopes,
            login_hint=member_email,
            open_browser=open_browser,
            browser=browser,
            timeout=settings.authorization_timeout,
            port=port,
        )
        options = {"mode": "user", "scopes": scopes}
    profile = GmailReader(lambda: credentials, connector).profile()
    address = profile.address
    if address not in addresses:
        raise click.ClickException(
            f"the Google account {address} is not an address of staff member "
            f"{member_email}; run the command again and choose their account, or "
            f"add the address with 'warmline staff add {member_email} --alias ...'"
        )
    calendar_options = {**options, "calendars": list(calendars or settings.calendars)}
    # The mailbox size and the project let the first sync be scheduled under
    # the project's daily quota (warmline.providers.gmail_schedule).
    gmail_options = {
        **options,
        "messages_total": profile.messages_total,
        "project_id": settings.project_id(service_account),
    }
    try:
        with app.transaction() as (session, workspace):
            member = session.get_one(StaffMember, member_id)
            gmail, calendar = upsert_mail_and_calendar(
                session,
                workspace.id,
                member,
                address,
                (GMAIL_PROVIDER, gmail_options),
                (CALENDAR_PROVIDER, calendar_options),
                shared_credential=grant is not None,
            )
            connected = ConnectedAccounts(address, gmail.id, calendar.id)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
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
    "--send-digests/--no-send-digests",
    "send_digests",
    default=None,
    help="Also ask to send mail (gmail.send), to send the daily digest from this "
    "mailbox; default: on when digest_transport is connector.",
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
    send_digests: bool | None,
    calendars: tuple[str, ...],
    no_browser: bool,
    browser: str | None,
    port: int,
) -> None:
    """Connect a staff member's Gmail mailbox and Google Calendar."""
    settings = GoogleProviderSettings.from_settings(app.settings)
    try:
        connected = connect_staff_member(
            app,
            settings,
            staff_email,
            service_account=service_account,
            follow_ups=follow_ups,
            send_digests=send_digests,
            calendars=calendars,
            open_browser=not no_browser,
            browser=browser,
            port=port,
        )
    except (ConnectorError, StaffError, SettingError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"connected {connected.address}: gmail account {connected.gmail_account_id}, "
        f"google_calendar account {connected.calendar_account_id}"
    )
