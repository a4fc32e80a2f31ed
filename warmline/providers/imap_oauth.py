"""IMAP accounts that sign in with a Google or Microsoft OAuth grant.

Gmail and Outlook accept AUTHENTICATE XOAUTH2 (Gmail also OAUTHBEARER)
only with access tokens of their IMAP scopes: Google's
`https://mail.google.com/` (Google has no narrower scope that IMAP
accepts) and Microsoft's `https://outlook.office.com/IMAP.AccessAsUser.All`
with `offline_access` for a refresh token.  msal adds `offline_access`,
`openid` and `profile` to every sign-in itself.  Only `warmline accounts
add imap --oauth` requests these scopes; `accounts connect` keeps its
metadata-only scopes.

The grant is the IMAP account's own credential, stored encrypted:
google-auth's authorized-user JSON, or msal's token cache.  It is not
shared with a Gmail API or Graph account of the same person, because
those grants have other scopes and rotate their own refresh tokens.  Each
login takes an access token that google-auth or msal refreshes under the
credential store's lock when it is near its expiry, and a new one when the
IMAP server rejects it.  A refused grant (invalid_grant, revoked consent)
raises NeedsReauthorization, so the sync marks that account needs_reauth
and goes on with the others.

`register_token_sources` lets warmline.readers build these token sources,
and makes a purge revoke a Google grant; the command line and the workers
call it at start.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from typing import Any

import click
import google_auth_httplib2
import httplib2
from sqlalchemy.orm import Session, sessionmaker

from connectors import NeedsReauthorization, SourceUnavailable
from connectors.google import StoredCredentials
from connectors.google.auth import RECONNECT_HINT, authorize_installed_app
from connectors.imap import AccessTokenSource
from connectors.microsoft import DelegatedTokenSource
from warmline.accounts import AccountError
from warmline.models import Account
from warmline.privacy import Revocation, register_token_revoker, report_password_deleted
from warmline.providers.google import GoogleProviderSettings, revoke_stored_grant
from warmline.providers.microsoft import (
    MicrosoftSettings,
    report_unrevocable_grant,
    sign_in,
)
from warmline.readers import ReaderServices, register_imap_token_source
from warmline.secrets import DatabaseCredentialStore, SecretBox

GOOGLE_IMAP_SCOPE = "https://mail.google.com/"
MICROSOFT_IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"


class GoogleAccessTokens:
    """Access tokens of a stored Google grant, for IMAP logins.

    The grant is loaded on the first call, when the reader logs in, so a
    missing or unreadable grant stops the sync as NeedsReauthorization.
    Token requests time out after `timeout` seconds.
    """

    def __init__(
        self, credentials: Callable[[], StoredCredentials], timeout: float
    ) -> None:
        self._factory = credentials
        self._timeout = timeout
        self._credentials: StoredCredentials | None = None
        self._lock = threading.Lock()

    def access_token(self, force_refresh: bool = False) -> str:
        with self._lock:
            if self._credentials is None:
                self._credentials = self._factory()
            credentials = self._credentials
            if force_refresh or not credentials.valid:
                http = httplib2.Http(timeout=self._timeout)
                try:
                    credentials.refresh(google_auth_httplib2.Request(http))
                finally:
                    http.close()
            return str(credentials.token)


class WithRenewalAdvice:
    """A token source whose NeedsReauthorization names the command that renews it.

    The connectors advise `accounts connect`, which renews the grants of
    API accounts, not the one an IMAP account stores.
    """

    def __init__(self, source: AccessTokenSource, provider: str) -> None:
        self._source = source
        self._provider = provider

    def access_token(self, force_refresh: bool = False) -> str:
        try:
            return self._source.access_token(force_refresh)
        except NeedsReauthorization as error:
            reason = str(error).replace(RECONNECT_HINT, "").rstrip("; ")
            raise NeedsReauthorization(
                f"{reason}; sign in again with 'warmline accounts add imap "
                f"--oauth {self._provider}' and the account's --host, --user "
                "and --staff"
            ) from error


def register_token_sources(
    secret_box: Callable[[], SecretBox] | None = None,
    google_settings: GoogleProviderSettings | None = None,
    microsoft_settings: MicrosoftSettings | None = None,
) -> None:
    """Register the token sources and the grant revoker of IMAP accounts.

    Settings not given are read from the WARMLINE_GOOGLE_* and
    WARMLINE_MICROSOFT_* variables now.  A `secret_box` given here comes
    before the reader services' one.
    """
    google = google_settings or GoogleProviderSettings.load()
    microsoft = microsoft_settings or MicrosoftSettings.from_environ()
    connector = google.connector_settings()
    token_uri = connector.token_uri

    def store(account: Account, services: ReaderServices) -> DatabaseCredentialStore:
        box = (secret_box or services.secret_box)()
        return DatabaseCredentialStore(services.sessions, account.id, box)

    def google_tokens(account: Account, services: ReaderServices) -> AccessTokenSource:
        grant = store(account, services)
        tokens = GoogleAccessTokens(
            lambda: StoredCredentials.from_store(grant, token_uri), google.timeout
        )
        return WithRenewalAdvice(tokens, "google")

    def microsoft_tokens(
        account: Account, services: ReaderServices
    ) -> AccessTokenSource:
        try:
            config = microsoft.graph_config()
        except click.UsageError as error:
            # An unset client id stops this account, not the whole sync.
            raise SourceUnavailable(error.message) from error
        tokens = DelegatedTokenSource(
            config,
            store(account, services),
            account.options["username"].lower(),
            [MICROSOFT_IMAP_SCOPE],
        )
        return WithRenewalAdvice(tokens, "microsoft")

    def revoke(provider: str, options: dict[str, Any], credential: str) -> Revocation:
        # A purge ends a Google grant at Google; Microsoft offers no
        # revocation of one grant, and a password cannot be revoked.
        if options.get("oauth") == "google":
            return revoke_stored_grant(connector, provider, options, credential)
        if options.get("oauth") == "microsoft":
            return report_unrevocable_grant(provider, options, credential)
        return report_password_deleted(provider, options, credential)

    register_imap_token_source("google", google_tokens)
    register_imap_token_source("microsoft", microsoft_tokens)
    register_token_revoker("imap", revoke)


@dataclasses.dataclass(frozen=True)
class ImapGrant:
    """A new grant for IMAP: its provider and the credential to store."""

    provider: str
    credential: str = dataclasses.field(repr=False)


def authorize_google(
    settings: GoogleProviderSettings,
    username: str,
    *,
    open_browser: bool = True,
    browser: str | None = None,
    port: int = 0,
) -> ImapGrant:
    """Ask Google for a grant of the IMAP scope for the account `username`.

    The installed-app flow suggests `username` as the account; Google does
    not report which account consented without an email scope, so an IMAP
    server that rejects the token at the first sync is where a wrong choice
    shows.
    """
    credentials = authorize_installed_app(
        settings.client_config(),
        scopes=[GOOGLE_IMAP_SCOPE],
        login_hint=username,
        open_browser=open_browser,
        browser=browser,
        timeout=settings.authorization_timeout,
        port=port,
    )
    if not credentials.refresh_token:
        raise NeedsReauthorization(
            "Google returned no refresh token; remove Warmline's access at "
            "https://myaccount.google.com/permissions and add the account again"
        )
    return ImapGrant("google", credentials.to_json())  # type: ignore[no-untyped-call]


def authorize_microsoft(
    settings: MicrosoftSettings,
    username: str,
    show_url: Callable[[str], None],
) -> ImapGrant:
    """Sign `username` in to Microsoft for the IMAP scope.

    Raises AccountError when the person signed in as another user, because
    Outlook accepts the token only for the signed-in user's mailbox.
    """
    authorization = sign_in(
        settings, username, False, show_url, scopes=[MICROSOFT_IMAP_SCOPE]
    )
    if authorization.username != username.lower():
        raise AccountError(
            f"the Microsoft sign-in was for {authorization.username}, not for the "
            f"IMAP user {username}; run the command again and sign in as "
            f"{username}, or give --user {authorization.username}"
        )
    return ImapGrant("microsoft", authorization.token_cache)


def store_grant(
    sessions: sessionmaker[Session], account_id: int, box: SecretBox, grant: ImapGrant
) -> None:
    """Save the grant as the account's credential, encrypted."""
    store = DatabaseCredentialStore(sessions, account_id, box)
    with store.locked():
        store.save(grant.credential)
