"""Google authorization: the installed-app flow, stored user grants and
service accounts with domain-wide delegation.

A user grant is kept in the account's `CredentialStore` as the JSON that
`google.oauth2.credentials.Credentials.to_json()` writes: refresh token,
access token and its expiry, client id and secret, scopes.  The core
encrypts it.  `StoredCredentials` refreshes the access token under the
store's lock and saves the result at once, so a refresh token that the
server rotated is never lost.  A worker that finds a fresh token in the
store uses it instead of refreshing again.

Google ends a refresh token when the user revokes access, after six months
unused, on a password change (for Gmail scopes), past the limit of live
tokens per client and user, and after 7 days for an app whose OAuth consent
screen is in "Testing" status.  The refresh then fails with `invalid_grant`,
which becomes `NeedsReauthorization`: the account stops until a person
connects it again, and its sync cursor is kept.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import google.auth.exceptions
import google.oauth2.credentials
import google.oauth2.service_account
import structlog
from google_auth_oauthlib.flow import InstalledAppFlow

from connectors.base import CredentialStore
from connectors.errors import ConnectorError, NeedsReauthorization, TransientError

log = structlog.get_logger(__name__)

GMAIL_METADATA_SCOPE = "https://www.googleapis.com/auth/gmail.metadata"
"""Message ids, labels and headers; no bodies, attachments or search."""

CALENDAR_READONLY_SCOPE = "https://www.googleapis.com/auth/calendar.readonly"
CALENDAR_EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"
"""Read and write events; asked for only when follow-ups go on calendars."""

RECONNECT_HINT = "reconnect it with 'warmline accounts connect google'"

# google-auth refreshes a token 3 minutes 45 seconds before its expiry (its
# REFRESH_THRESHOLD), so a stored token closer to its expiry than this
# margin is not worth adopting.
_ADOPT_MARGIN = dt.timedelta(minutes=5)


def requested_scopes(follow_ups: bool = False) -> list[str]:
    """Return the least scopes Warmline needs, with event writing if asked."""
    scopes = [GMAIL_METADATA_SCOPE, CALENDAR_READONLY_SCOPE]
    if follow_ups:
        scopes.append(CALENDAR_EVENTS_SCOPE)
    return scopes


class StoredCredentials(google.oauth2.credentials.Credentials):
    """User credentials whose refreshes go through a `CredentialStore`.

    Build them with `from_store`.  One object may serve several threads.
    """

    _store: CredentialStore
    _refresh_lock: threading.Lock

    @classmethod
    def from_store(cls, store: CredentialStore, token_uri: str) -> StoredCredentials:
        """Load the stored grant, to be refreshed at `token_uri`.

        The token endpoint comes from the settings, never from the stored
        value, so a changed store cannot send the refresh token elsewhere.
        Raises NeedsReauthorization when nothing usable is stored.
        """
        info = _load_info(store)
        missing = {"refresh_token", "client_id", "client_secret"} - info.keys()
        if missing:
            raise NeedsReauthorization(
                "the stored Google credential lacks "
                f"{', '.join(sorted(missing))}; " + RECONNECT_HINT
            )
        expiry = None
        if isinstance(info.get("expiry"), str):
            try:
                expiry = _naive_utc(_parse_expiry(info["expiry"]))
            except ValueError:
                expiry = None
        credentials = cls(
            token=info.get("token") if expiry is not None else None,
            refresh_token=info["refresh_token"],
            token_uri=token_uri,
            client_id=info["client_id"],
            client_secret=info["client_secret"],
            scopes=info.get("scopes"),
            expiry=expiry,
        )
        credentials._store = store
        credentials._refresh_lock = threading.Lock()
        return credentials

    def refresh(self, request: Any) -> None:
        """Get a new access token, or adopt one another worker stored.

        Raises NeedsReauthorization when Google refuses the grant and
        TransientError when the token endpoint cannot be reached.
        """
        rejected = self.token
        with self._refresh_lock:
            if self.token != rejected and self.valid:
                return
            with self._store.locked():
                stored = _load_info(self._store)
                if _usable_token(stored, rejected):
                    self._adopt(stored)
                    return
                # Another worker may have stored a rotated refresh token.
                if stored.get("refresh_token"):
                    self._refresh_token = stored["refresh_token"]
                try:
                    super().refresh(request)  # type: ignore[no-untyped-call]
                except google.auth.exceptions.RefreshError as error:
                    raise translate_refresh_error(error) from error
                except google.auth.exceptions.TransportError as error:
                    raise TransientError(
                        f"the Google token endpoint cannot be reached: {error}"
                    ) from error
                self._store.save(self.to_json())  # type: ignore[no-untyped-call]
        log.debug("access token refreshed")

    def _adopt(self, stored: Mapping[str, Any]) -> None:
        self.token = stored["token"]
        self.expiry = _naive_utc(_parse_expiry(stored["expiry"]))
        if stored.get("refresh_token"):
            self._refresh_token = stored["refresh_token"]


def save_credentials(
    store: CredentialStore, credentials: google.oauth2.credentials.Credentials
) -> None:
    """Store a new grant, as the installed-app flow returns it."""
    if not credentials.refresh_token:
        raise NeedsReauthorization(
            "Google returned no refresh token; remove Warmline's access at "
            "https://myaccount.google.com/permissions and connect again"
        )
    with store.locked():
        store.save(credentials.to_json())  # type: ignore[no-untyped-call]


def translate_refresh_error(
    error: google.auth.exceptions.RefreshError,
) -> ConnectorError:
    """Map a failed token request to NeedsReauthorization or TransientError.

    Only an OAuth error response (RFC 6749 section 5.2: a JSON object with a
    string `error`) means the grant or client is refused.  Anything else,
    such as a proxy's 502 page, is transient.  google-auth has already
    retried 5xx and 429 answers three times (its `_exponential_backoff`).
    """
    details = error.args[1] if len(error.args) > 1 else None
    code = description = ""
    if isinstance(details, Mapping) and isinstance(details.get("error"), str):
        code = details["error"]
        description = str(details.get("error_description", ""))
    if error.retryable or not code:
        return TransientError(f"the Google token endpoint failed: {error.args[0]}")
    if code == "invalid_grant":
        return NeedsReauthorization(
            f"Google refused the stored grant (invalid_grant: {description}); "
            "it was revoked or expired, as grants of an app in Testing status "
            f"do after 7 days; {RECONNECT_HINT}"
        )
    return NeedsReauthorization(
        f"the Google token request failed ({code}: {description}); " + RECONNECT_HINT
    )


def authorize_installed_app(
    client_config: Mapping[str, Any],
    *,
    follow_ups: bool = False,
    scopes: Sequence[str] | None = None,
    login_hint: str | None = None,
    open_browser: bool = True,
    browser: str | None = None,
    timeout: float = 300.0,
    port: int = 0,
) -> google.oauth2.credentials.Credentials:
    """Run the installed-app authorization-code flow with a loopback redirect.

    `client_config` is the client secrets JSON of a "Desktop app" OAuth
    client.  The flow serves one request on 127.0.0.1:`port` (0 picks a
    free port), opens the authorization URL in `browser` (a browser name of the
    `webbrowser` module, None for the default browser) unless
    `open_browser` is false, and prints the URL.  It waits at most
    `timeout` seconds for the redirect.  PKCE is on, and `prompt=consent`
    makes Google return a refresh token even for an earlier grant.
    `scopes` replaces the API scopes of `requested_scopes(follow_ups)`, for
    a grant that serves IMAP instead.
    """
    wanted = list(scopes) if scopes is not None else requested_scopes(follow_ups)
    flow = InstalledAppFlow.from_client_config(dict(client_config), scopes=wanted)
    extra: dict[str, str] = {"access_type": "offline", "prompt": "consent"}
    if login_hint:
        extra["login_hint"] = login_hint
    try:
        credentials: google.oauth2.credentials.Credentials = flow.run_local_server(
            host="127.0.0.1",
            port=port,
            open_browser=open_browser,
            browser=browser,
            timeout_seconds=timeout,
            authorization_prompt_message="Open this address to authorize: {url}",
            success_message="Warmline is authorized; you may close this window.",
            **extra,
        )
    except google.auth.exceptions.GoogleAuthError as error:
        raise NeedsReauthorization(f"the authorization failed: {error}") from error
    except Warning as warning:
        # oauthlib raises (not warns) Warning("Scope has changed ...") when
        # the person unticked a requested scope on Google's consent screen.
        raise NeedsReauthorization(
            f"Google granted fewer scopes than requested ({warning}); connect "
            "again and allow every requested access"
        ) from warning
    return credentials


def delegated_credentials(
    service_account_info: Mapping[str, Any],
    subject: str,
    scopes: Sequence[str],
    token_uri: str | None = None,
) -> google.oauth2.service_account.Credentials:
    """Build credentials that act as `subject` through domain-wide delegation.

    `service_account_info` is the service account's JSON key.  A Workspace
    administrator must grant its client id these `scopes` under Security >
    API controls > Domain-wide delegation.  Each token request is a signed
    JWT with `sub` set to the staff member's address; nothing is stored.
    """
    info = dict(service_account_info)
    if token_uri is not None:
        info["token_uri"] = token_uri
    service_account = google.oauth2.service_account.Credentials
    try:
        credentials: google.oauth2.service_account.Credentials = (
            service_account.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=list(scopes), subject=subject
            )
        )
    except (ValueError, KeyError) as error:
        raise NeedsReauthorization(
            f"the service account key is invalid: {error}; download a new JSON key"
        ) from error
    return credentials


def _load_info(store: CredentialStore) -> dict[str, Any]:
    value = store.load()
    if value is None:
        raise NeedsReauthorization("no Google credential is stored; " + RECONNECT_HINT)
    try:
        info = json.loads(value)
    except ValueError as error:
        raise NeedsReauthorization(
            "the stored Google credential is not JSON; " + RECONNECT_HINT
        ) from error
    if not isinstance(info, dict):
        raise NeedsReauthorization(
            "the stored Google credential is not a JSON object; " + RECONNECT_HINT
        )
    return info


def _usable_token(stored: Mapping[str, Any], rejected: str | None) -> bool:
    """Tell whether the stored access token is new to us and not about to expire."""
    token = stored.get("token")
    expiry = stored.get("expiry")
    if not token or token == rejected or not isinstance(expiry, str):
        return False
    try:
        moment = _parse_expiry(expiry)
    except ValueError:
        return False
    return moment - _ADOPT_MARGIN > dt.datetime.now(dt.UTC)


def _parse_expiry(text: str) -> dt.datetime:
    """Read google-auth's expiry format ("2026-03-02T10:00:00.123456Z") as UTC."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    # google-auth compares `expiry` with a naive UTC clock.
    return moment.astimezone(dt.UTC).replace(tzinfo=None)
