"""Outlook accounts in the core: reader factories and `accounts connect microsoft`.

A staff member's sign-in creates two accounts on one grant: "outlook_mail"
and "outlook_calendar", both located at the signed-in username.  The mail
account stores the msal token cache, encrypted.  The calendar account names
the mail account in its options as `credential_account_id`, so both use the
same cache and the same lock.  Two caches of one grant would each rotate
the refresh token and could reject each other's.

Settings come from WARMLINE_MICROSOFT_* environment variables, read by
`MicrosoftSettings.from_environ` when the command or the reader registration
starts.
"""

from __future__ import annotations

import dataclasses
import html
import http.server
import os
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import click
import structlog
from sqlalchemy.orm import Session, object_session, sessionmaker

from connectors import ConnectorError, Reader
from connectors.microsoft import (
    ApplicationTokenSource,
    Authorization,
    AuthorizationCodeFlow,
    DelegatedTokenSource,
    GraphClient,
    GraphConfig,
    OutlookCalendarReader,
    OutlookMailReader,
    Timeouts,
    TokenSource,
    delegated_scopes,
)
from connectors.microsoft.placement import GraphWriteClient, OutlookCalendarWriter
from connectors.microsoft.send import MAIL_SEND_SCOPE, GraphMailSender
from connectors.placement import CalendarWriter
from warmline.accounts import AccountError, upsert_mail_and_calendar
from warmline.db import session_factory
from warmline.digest_senders import missing_scope, register_sender
from warmline.models import Account, StaffMember
from warmline.placement_writers import register_writer
from warmline.privacy import Revocation, RevocationOutcome, register_token_revoker
from warmline.providers import GrantPurposes, grant_purposes
from warmline.readers import register_reader
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.staff import StaffError, find_staff

if TYPE_CHECKING:
    from warmline.cli import AppContext

log = structlog.get_logger(__name__)

MAIL_PROVIDER = "outlook_mail"
CALENDAR_PROVIDER = "outlook_calendar"
ENV_PREFIX = "WARMLINE_MICROSOFT_"


@dataclasses.dataclass(frozen=True)
class MicrosoftSettings:
    """The Microsoft settings; each field reads WARMLINE_MICROSOFT_<NAME>."""

    client_id: str = ""
    tenant: str = "organizations"
    client_secret: str = dataclasses.field(default="", repr=False)
    authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    ca_file: str = ""
    mail_folders: tuple[str, ...] = ("inbox", "sentitems")
    calendars: tuple[str, ...] = ("",)
    calendar_days_back: int = 180
    calendar_days_ahead: int = 60
    place_follow_ups: bool = False
    timeout: float = 60.0
    page_size: int = 100
    sign_in_timeout: float = 300.0

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None
    ) -> MicrosoftSettings:
        """Read the settings from the environment; unset ones keep their default."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + field.name.upper())
            if raw is None or raw == "":
                continue
            try:
                values[field.name] = _parse(field.name, raw, field.default)
            except ValueError as error:
                raise click.UsageError(
                    f"invalid {ENV_PREFIX}{field.name.upper()}={raw!r}: {error}"
                ) from error
        return cls(**values)

    def graph_config(self) -> GraphConfig:
        if not self.client_id:
            raise click.UsageError(
                f"{ENV_PREFIX}CLIENT_ID is not set; register an app (see "
                "docs/microsoft.md) and set its application (client) id"
            )
        return GraphConfig(
            client_id=self.client_id,
            tenant=self.tenant,
            client_secret=self.client_secret or None,
            authority_host=self.authority_host,
            graph_url=self.graph_url,
            ca_file=self.ca_file or None,
            timeouts=Timeouts(read=self.timeout),
            page_size=self.page_size,
        )


def _parse(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.strip().lower() not in {"true", "false", "1", "0", "yes", "no"}:
            raise ValueError("use true or false")
        return raw.strip().lower() in {"true", "1", "yes"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, tuple):
        parts = tuple(part.strip() for part in raw.split(";"))
        return parts if name == "calendars" else tuple(p for p in parts if p)
    return raw.strip()


# --- readers -------------------------------------------------------------------


def register_readers(
    secret_box: Callable[[], SecretBox] | None = None,
    settings: MicrosoftSettings | None = None,
) -> None:
    """Register the outlook_mail and outlook_calendar readers and the calendar writer.

    The factories take the account and, where the core passes them, its
    reader services (sessions and secret box).  A `secret_box` given here
    comes before the services' one, and without services the account's own
    session opens the credential store.  The box is loaded once,
    when the first Outlook account is opened, so commands that read no
    Outlook account never load the keys.
    """
    settings = settings or MicrosoftSettings.from_environ()
    boxes: list[SecretBox] = []

    def box(services: Any) -> SecretBox:
        if secret_box is None:
            if services is None:
                raise ValueError(
                    "register_readers needs secret_box when the core passes "
                    "no reader services"
                )
            return services.secret_box()  # type: ignore[no-any-return]
        if not boxes:
            boxes.append(secret_box())
        return boxes[0]

    def mail_reader(account: Account, services: Any = None) -> Reader:
        client = _client(account, settings, lambda: box(services), services)
        folders = account.options.get("mail_folders") or settings.mail_folders
        return OutlookMailReader(client, folders=folders)

    def calendar_reader(account: Account, services: Any = None) -> Reader:
        client = _client(account, settings, lambda: box(services), services)
        return OutlookCalendarReader(
            client,
            calendars=account.options.get("calendars") or settings.calendars,
            default_timezone=account.staff_member.timezone,
            days_back=settings.calendar_days_back,
            days_ahead=settings.calendar_days_ahead,
        )

    def calendar_writer(account: Account, services: Any = None) -> CalendarWriter:
        client = _client(
            account, settings, lambda: box(services), services, GraphWriteClient
        )
        assert isinstance(client, GraphWriteClient)
        calendars = account.options.get("calendars") or settings.calendars
        return OutlookCalendarWriter(client, calendars[0] if calendars else "")

    def mail_sender(account: Account, services: Any = None) -> GraphMailSender:
        if not _grants_mail_send(account):
            raise missing_scope(account, MAIL_SEND_SCOPE)
        client = _client(
            account, settings, lambda: box(services), services, GraphMailSender
        )
        assert isinstance(client, GraphMailSender)
        return client

    register_reader(MAIL_PROVIDER, mail_reader)
    register_reader(CALENDAR_PROVIDER, calendar_reader)
    register_writer(CALENDAR_PROVIDER, calendar_writer)
    register_sender(MAIL_PROVIDER, mail_sender)
    register_token_revoker(MAIL_PROVIDER, report_unrevocable_grant)
    register_token_revoker(CALENDAR_PROVIDER, report_unrevocable_grant)


def _grants_mail_send(account: Account) -> bool:
    """Tell whether the account's grant includes Mail.Send.

    An application grant's permissions are set in Microsoft Entra, not
    recorded here, so a missing one shows as 403 when the digest is sent.
    """
    if account.options.get("mode") == "application":
        return True
    # The identity platform may return scopes as full resource URIs.
    names = {
        str(scope).rsplit("/", 1)[-1].lower()
        for scope in account.options.get("scopes") or ()
    }
    return MAIL_SEND_SCOPE.lower() in names


def report_unrevocable_grant(
    _provider: str, options: dict[str, Any], _credential: str
) -> Revocation:
    """Say how a purged Outlook grant can end, because Warmline cannot end it.

    The Microsoft identity platform has no revocation endpoint for one
    delegated refresh token.  Graph's revokeSignInSessions ends every
    application's sessions of the user, not only Warmline's, and needs the
    User.RevokeSessions.All permission, so Warmline does not call it.  The
    purge has already deleted the encrypted msal token cache, so Warmline
    keeps no token; the refresh token stays valid at Microsoft until it
    goes unused for 90 days or a person removes the consent.
    """
    username = str(options.get("username") or "the user")
    return Revocation(
        RevocationOutcome.NOT_SUPPORTED,
        "Microsoft offers no way for an application to revoke its own grant; "
        "Warmline deleted its tokens, and the grant ends after 90 days unused, "
        f"or earlier when an administrator removes {username}'s consent to "
        "Warmline in the Microsoft Entra admin center (Enterprise applications, "
        "Warmline, Permissions)",
    )


def _client(
    account: Account,
    settings: MicrosoftSettings,
    box: Callable[[], SecretBox],
    services: Any = None,
    client_class: type[GraphClient] = GraphClient,
) -> GraphClient:
    config = settings.graph_config()
    options = account.options
    username = str(options.get("username") or account.location)
    tokens: TokenSource
    if options.get("mode") == "application":
        tokens = ApplicationTokenSource(config)
    else:
        sessions = getattr(services, "sessions", None) or _sessions_of(account)
        grant_account = int(options.get("credential_account_id") or account.id)
        store = DatabaseCredentialStore(sessions, grant_account, box())
        scopes = list(options.get("scopes") or delegated_scopes())
        tokens = DelegatedTokenSource(config, store, username, scopes)
    return client_class(
        config, tokens, username, application=options.get("mode") == "application"
    )


def _sessions_of(account: Account) -> sessionmaker[Session]:
    session = object_session(account)
    if session is None:
        raise ValueError(f"account {account.id} is not attached to a session")
    return session_factory(session.get_bind())  # type: ignore[arg-type]


# --- connecting -------------------------------------------------------------------


def open_browser(url: str) -> None:
    """Open the sign-in page; tests replace this with an HTTP client."""
    click.launch(url)


class LoopbackRedirect:
    """A one-shot HTTP listener on 127.0.0.1 that receives the sign-in redirect.

    It accepts the authorization response as a form POST (response_mode
    form_post) or as a query string.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._params: dict[str, str] | None = None
        self._received = threading.Event()
        self._server = http.server.HTTPServer(("127.0.0.1", 0), self._handler())
        self.uri = f"http://localhost:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackRedirect:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self) -> dict[str, str]:
        if not self._received.wait(self._timeout) or self._params is None:
            raise click.ClickException(
                f"no sign-in arrived within {self._timeout:.0f} s; "
                "run the command again"
            )
        return self._params

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Log nothing, because the request contains the authorization code."""

            def do_GET(self) -> None:
                query = urllib.parse.urlsplit(self.path).query
                self._finish(query)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._finish(self.rfile.read(length).decode("ascii", "replace"))

            def _finish(self, encoded: str) -> None:
                params = dict(urllib.parse.parse_qsl(encoded))
                if "code" not in params and "error" not in params:
                    self.send_error(404)
                    return
                listener._params = params
                listener._received.set()
                text = "Warmline: sign-in finished. You can close this window."
                if "error" in params:
                    text = f"Warmline: sign-in failed ({html.escape(params['error'])})."
                body = f"<html><body><p>{text}</p></body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def grant_scopes(purposes: GrantPurposes) -> list[str]:
    """Return the Graph permissions a delegated grant needs for `purposes`."""
    scopes = delegated_scopes(purposes.place_follow_ups)
    if purposes.send_digests:
        scopes.append(MAIL_SEND_SCOPE)
    return scopes


@dataclasses.dataclass(frozen=True)
class ConnectedAccounts:
    username: str
    mail_account_id: int
    calendar_account_id: int


def sign_in(
    settings: MicrosoftSettings,
    login_hint: str,
    place_follow_ups: bool,
    show_url: Callable[[str], None],
    scopes: list[str] | None = None,
) -> Authorization:
    """Run the delegated sign-in through a loopback redirect and return its result.

    `scopes` replaces the Graph permissions, for a grant that serves IMAP.
    """
    config = settings.graph_config()
    scopes = scopes or delegated_scopes(place_follow_ups)
    with LoopbackRedirect(settings.sign_in_timeout) as redirect:
        flow = AuthorizationCodeFlow(
            config, scopes, redirect.uri, login_hint=login_hint
        )
        show_url(flow.auth_uri)
        return flow.complete(redirect.wait())


def connect_staff_member(
    app: AppContext,
    settings: MicrosoftSettings,
    staff_email: str,
    *,
    application: bool = False,
    place_follow_ups: bool | None = None,
    send_digests: bool | None = None,
    show_url: Callable[[str], None] = open_browser,
    signed_in: Authorization | None = None,
) -> ConnectedAccounts:
    """Connect a staff member's Outlook mailbox and calendar, or reconnect them.

    `signed_in` is a sign-in that another flow already completed (the
    review site's web flow); without it the loopback sign-in runs.
    """
    with app.transaction() as (session, workspace):
        member = find_staff(session, workspace, staff_email)
        member_id, member_email = member.id, member.email
        purposes = grant_purposes(
            session,
            workspace,
            settings.place_follow_ups,
            place_follow_ups=place_follow_ups,
            send_digests=send_digests,
        )
    follow_ups = purposes.place_follow_ups
    if application:
        _check_application_access(settings, member_email)
        options: dict[str, Any] = {"mode": "application", "username": member_email}
        token_cache = None
        username = member_email
    else:
        scopes = grant_scopes(purposes)
        authorization = signed_in or sign_in(
            settings, member_email, follow_ups, show_url, scopes
        )
        username = authorization.username
        if username != member_email.lower():
            log.warning(
                "signed-in user differs from the staff member's address",
                staff=member_email,
                username=username,
            )
        options = {
            "mode": "delegated",
            "username": username,
            "tenant_id": authorization.tenant_id,
            "scopes": list(authorization.scopes),
        }
        token_cache = authorization.token_cache
    try:
        with app.transaction() as (session, workspace):
            member = session.get_one(StaffMember, member_id)
            mail, calendar = upsert_mail_and_calendar(
                session,
                workspace.id,
                member,
                username,
                (MAIL_PROVIDER, options),
                (CALENDAR_PROVIDER, options),
                shared_credential=token_cache is not None,
            )
            ids = ConnectedAccounts(username, mail.id, calendar.id)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    if token_cache is not None:
        store = DatabaseCredentialStore(
            app.sessions, ids.mail_account_id, app.secret_box()
        )
        with store.locked():
            store.save(token_cache)
    log.info(
        "outlook accounts connected",
        username=username,
        mail_account=ids.mail_account_id,
        calendar_account=ids.calendar_account_id,
    )
    return ids


def _check_application_access(settings: MicrosoftSettings, mailbox: str) -> None:
    config = settings.graph_config()
    client = GraphClient(
        config, ApplicationTokenSource(config), mailbox, application=True
    )
    try:
        client.get(client.url("/mailFolders/inbox", {"$select": "id"}))
    finally:
        client.close()


@click.command("microsoft")
@click.option(
    "--staff",
    "staff_email",
    required=True,
    help="Address of the staff member whose mailbox and calendar to connect.",
)
@click.option(
    "--application",
    is_flag=True,
    help="Read the mailbox with the app's application permissions "
    "(client credentials, tenant-wide admin consent) instead of a sign-in.",
)
@click.option(
    "--follow-ups/--no-follow-ups",
    "follow_ups",
    default=None,
    help="Also request Calendars.ReadWrite to place follow-ups; "
    "default: WARMLINE_MICROSOFT_PLACE_FOLLOW_UPS.",
)
@click.option(
    "--send-digests/--no-send-digests",
    "send_digests",
    default=None,
    help="Also request Mail.Send, to send the daily digest from this mailbox; "
    "default: on when digest_transport is connector.",
)
@click.option(
    "--no-browser",
    is_flag=True,
    help="Print the sign-in URL instead of opening a browser.",
)
@click.pass_obj
def connect_command(
    app: AppContext,
    staff_email: str,
    application: bool,
    follow_ups: bool | None,
    send_digests: bool | None,
    no_browser: bool,
) -> None:
    """Connect a staff member's Outlook mailbox and calendar (Microsoft 365)."""
    settings = MicrosoftSettings.from_environ()

    def show_url(url: str) -> None:
        click.echo("Sign in at this address to connect the account:")
        click.echo(url)
        if not no_browser:
            open_browser(url)

    try:
        connected = connect_staff_member(
            app,
            settings,
            staff_email,
            application=application,
            place_follow_ups=follow_ups,
            send_digests=send_digests,
            show_url=show_url,
        )
    except (ConnectorError, StaffError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"connected {connected.username}: mail account {connected.mail_account_id}, "
        f"calendar account {connected.calendar_account_id}"
    )
