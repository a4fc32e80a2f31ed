"""Tokens for Graph through msal: delegated (auth code + PKCE) and application.

Delegated accounts keep msal's `SerializableTokenCache` in a CredentialStore,
one cache per grant.  Before each silent acquisition the cache is loaded
again from the store under the store's lock, and it is saved whenever msal
reports `has_state_changed`.  A refresh token is single-use in effect: once
one worker redeems it, another worker still holding the old cache would
send a token the server may reject, so workers must never refresh from a
cache they loaded earlier.  The account is looked up with
`get_accounts(username=...)`, because msal ignores `account=None`.

`invalid_grant` (AADSTS700082, an expired refresh token, among others),
`interaction_required` and `consent_required` raise NeedsReauthorization
with the reason at once: only a person can fix them, so nothing retries.
msal talks to the authority through httpx with the connector's timeouts,
and with instance discovery off, so it contacts the configured authority
host and nothing else.  Token values are never logged.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import warnings
from collections.abc import Mapping
from typing import Any

import httpx
import msal
import structlog

from connectors.base import CredentialStore
from connectors.errors import (
    NeedsReauthorization,
    SourceUnavailable,
    TransientError,
)
from connectors.microsoft.config import GraphConfig

log = structlog.get_logger(__name__)

GRAPH_RESOURCE = "https://graph.microsoft.com/"
APPLICATION_SCOPES = (GRAPH_RESOURCE + ".default",)
# Seconds before expiry at which a cached access token is refreshed.
EXPIRY_MARGIN = 300.0

# Errors from the token endpoint that only a new sign-in or consent fixes.
REAUTHORIZATION_ERRORS = frozenset(
    {
        "invalid_grant",
        "interaction_required",
        "consent_required",
        "login_required",
        "invalid_client",
        "unauthorized_client",
    }
)
REFRESH_TOKEN_EXPIRED = 700082


def delegated_scopes(place_follow_ups: bool = False) -> list[str]:
    """Return the least Graph permissions Warmline requests from a staff member.

    Mail.ReadBasic reads message metadata without bodies.  Calendars.Read
    suffices unless follow-ups are placed on the calendar.  msal adds
    offline_access, openid and profile itself and rejects them if passed.
    """
    calendar = "Calendars.ReadWrite" if place_follow_ups else "Calendars.Read"
    # Unqualified names mean Graph permissions to the identity platform.
    return ["Mail.ReadBasic", calendar]


class MsalHttpClient:
    """msal's HTTP client interface (get and post) over httpx.

    Each call opens and closes its own httpx client, so nothing stays open
    between the few token requests of a sync.
    """

    def __init__(self, config: GraphConfig) -> None:
        self._config = config

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> httpx.Response:
        with self._config.http_client() as client:
            return client.get(url, params=params, headers=_clean(headers))

    def post(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> httpx.Response:
        with self._config.http_client() as client:
            if isinstance(data, str | bytes):
                return client.post(
                    url, params=params, content=data, headers=_clean(headers)
                )
            return client.post(url, params=params, data=data, headers=_clean(headers))


def _clean(headers: Mapping[str, Any] | None) -> dict[str, str] | None:
    # msal passes None for unset optional headers such as client-request-id.
    if headers is None:
        return None
    return {name: str(value) for name, value in headers.items() if value is not None}


def build_msal_app(
    config: GraphConfig,
    cache: msal.TokenCache | None = None,
    confidential: bool | None = None,
) -> msal.ClientApplication:
    """Create the msal application; it fetches the authority's OpenID metadata.

    A configured client secret makes it a confidential client, else a
    public one.  Network failures raise TransientError and an unusable
    authority raises SourceUnavailable.
    """
    confidential = bool(config.client_secret) if confidential is None else confidential
    options: dict[str, Any] = {
        "authority": config.authority,
        "token_cache": cache,
        "http_client": MsalHttpClient(config),
        # Skips the alias lookup at login.microsoftonline.com, so msal
        # contacts only the configured authority host.
        "instance_discovery": False,
    }
    try:
        if confidential:
            if not config.client_secret:
                raise SourceUnavailable(
                    "application permissions need a client secret; set the "
                    "Microsoft client secret"
                )
            return msal.ConfidentialClientApplication(
                config.client_id, client_credential=config.client_secret, **options
            )
        return msal.PublicClientApplication(config.client_id, **options)
    except httpx.TransportError as error:
        raise TransientError(
            f"the identity platform at {config.authority_host} cannot be reached: "
            f"{type(error).__name__}"
        ) from error
    except ValueError as error:
        raise SourceUnavailable(
            f"the authority {config.authority} is not usable: {error}"
        ) from error


def raise_for_token_error(result: Mapping[str, Any], what: str) -> None:
    """Raise the connector error for an msal error result; never shows a token."""
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "").splitlines()
    reason = f"{what} failed: {error}" + (f": {description[0]}" if description else "")
    codes = result.get("error_codes") or []
    suberror = str(result.get("suberror") or "")
    if (
        error in REAUTHORIZATION_ERRORS
        or suberror in REAUTHORIZATION_ERRORS
        or REFRESH_TOKEN_EXPIRED in codes
    ):
        raise NeedsReauthorization(reason)
    raise TransientError(reason)


@dataclasses.dataclass(frozen=True)
class Authorization:
    """The result of a completed sign-in: who signed in and their token cache."""

    username: str
    tenant_id: str | None
    scopes: tuple[str, ...]
    token_cache: str = dataclasses.field(repr=False)


class AuthorizationCodeFlow:
    """The delegated sign-in: the authorization URL, then the code redemption.

    msal sends a PKCE challenge (S256) and a nonce with the URL and checks
    the state and nonce on the way back.  A web server that completes the
    flow in another request keeps `saved_flow` (it contains the PKCE
    verifier, so keep it secret) and passes it back as `saved_flow`.
    """

    def __init__(
        self,
        config: GraphConfig,
        scopes: list[str],
        redirect_uri: str,
        login_hint: str | None = None,
        *,
        response_mode: str = "form_post",
        saved_flow: Mapping[str, Any] | None = None,
    ) -> None:
        self._cache = msal.SerializableTokenCache()
        self._app = build_msal_app(config, self._cache)
        self._scopes = scopes
        if saved_flow is not None:
            self._flow = dict(saved_flow)
            return
        # form_post keeps the code out of the redirect URL, browser history
        # and logs (RFC 9700 section 4.3.1); msal 1.39 warns without it.  A
        # site whose session cookie is SameSite=Lax needs "query", because
        # browsers leave that cookie off a cross-site form POST; PKCE still
        # binds the code to this flow, so the warning is silenced for it.
        with warnings.catch_warnings():
            if response_mode == "query":
                warnings.filterwarnings(
                    "ignore", message="response_mode='form_post' is recommended"
                )
            self._flow = self._app.initiate_auth_code_flow(
                scopes,
                redirect_uri=redirect_uri,
                login_hint=login_hint,
                response_mode=response_mode,
            )

    @property
    def auth_uri(self) -> str:
        return str(self._flow["auth_uri"])

    @property
    def saved_flow(self) -> dict[str, Any]:
        """Return the flow's state, nonce and PKCE verifier, as JSON-ready values."""
        return dict(self._flow)

    def complete(self, auth_response: Mapping[str, str]) -> Authorization:
        """Redeem the redirect's query parameters for tokens."""
        if "error" in auth_response:
            raise_for_token_error(auth_response, "sign-in")
        try:
            result = self._app.acquire_token_by_auth_code_flow(
                self._flow, dict(auth_response)
            )
        except ValueError as error:
            # msal raises it when the state does not match the request's.
            raise NeedsReauthorization(f"sign-in failed: {error}") from error
        except httpx.TransportError as error:
            raise TransientError("the token endpoint cannot be reached") from error
        if "access_token" not in result:
            raise_for_token_error(result, "sign-in")
        claims = result.get("id_token_claims") or {}
        username = str(claims.get("preferred_username") or "").lower()
        if not username:
            raise NeedsReauthorization("sign-in returned no username; sign in again")
        return Authorization(
            username=username,
            tenant_id=claims.get("tid"),
            scopes=tuple(self._scopes),
            token_cache=self._cache.serialize(),
        )


class DelegatedTokenSource:
    """Access tokens of one signed-in user from a token cache in `store`.

    The msal application is built on first use, not in the constructor,
    because building it fetches the authority's metadata.
    """

    def __init__(
        self,
        config: GraphConfig,
        store: CredentialStore,
        username: str,
        scopes: list[str],
    ) -> None:
        self._config = config
        self._store = store
        self._username = username
        self._scopes = scopes
        self._cache = msal.SerializableTokenCache()
        self._app: msal.ClientApplication | None = None
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def access_token(self, force_refresh: bool = False) -> str:
        with self._lock:
            now = time.monotonic()
            if (
                not force_refresh
                and self._token
                and self._expires_at - now > EXPIRY_MARGIN
            ):
                return self._token
            if self._app is None:
                self._app = build_msal_app(self._config, self._cache)
            result = self._acquire(self._app, force_refresh)
            self._token = str(result["access_token"])
            self._expires_at = now + float(result.get("expires_in", 0))
            return self._token

    def _acquire(
        self, app: msal.ClientApplication, force_refresh: bool
    ) -> dict[str, Any]:
        with self._store.locked():
            stored = self._store.load()
            if stored is None:
                raise NeedsReauthorization(
                    f"no token cache is stored for {self._username}; "
                    "reconnect the account"
                )
            self._cache.deserialize(stored)
            accounts = app.get_accounts(username=self._username)
            if not accounts:
                raise NeedsReauthorization(
                    f"the stored token cache contains no sign-in for {self._username}; "
                    "reconnect the account"
                )
            try:
                result = app.acquire_token_silent_with_error(
                    self._scopes, account=accounts[0], force_refresh=force_refresh
                )
            except httpx.TransportError as error:
                raise TransientError(
                    f"the token endpoint cannot be reached: {type(error).__name__}"
                ) from error
            finally:
                if self._cache.has_state_changed:
                    self._store.save(self._cache.serialize())
        if result is None:
            raise NeedsReauthorization(
                f"the token cache of {self._username} contains no refresh token; "
                "reconnect the account"
            )
        if "access_token" not in result:
            raise_for_token_error(result, f"token refresh for {self._username}")
        log.debug("graph token acquired", username=self._username, forced=force_refresh)
        return dict(result)


class ApplicationTokenSource:
    """App-only access tokens (client credentials) for a whole tenant."""

    def __init__(self, config: GraphConfig) -> None:
        if config.tenant in {"common", "organizations", "consumers"}:
            raise SourceUnavailable(
                "application permissions need a tenant id or domain, not "
                f"{config.tenant!r}"
            )
        self._config = config
        self._app: msal.ClientApplication | None = None
        self._lock = threading.Lock()

    def access_token(self, force_refresh: bool = False) -> str:
        with self._lock:
            if self._app is None:
                self._app = build_msal_app(self._config, confidential=True)
            app = self._app
            if force_refresh:
                # msal serves a cached app token until it expires; a fresh
                # cache makes it ask the token endpoint.
                app.token_cache = msal.TokenCache()
            try:
                assert isinstance(app, msal.ConfidentialClientApplication)
                result = app.acquire_token_for_client(list(APPLICATION_SCOPES))
            except httpx.TransportError as error:
                raise TransientError(
                    f"the token endpoint cannot be reached: {type(error).__name__}"
                ) from error
        if "access_token" not in result:
            raise_for_token_error(result, "application token request")
        return str(result["access_token"])
