"""OpenID Connect sign-in with Google and Microsoft, and the OAuth flow cookie.

The site runs the authorization-code flow with PKCE (S256, RFC 7636).  The
state, nonce and PKCE verifier of a flow travel in the cookie
`warmline_oauth`, encrypted and authenticated with Fernet under a key
derived from the session key, and valid for FLOW_LIFETIME.  The callback
accepts the code only when its `state` equals the cookie's, and redeems it
at the token endpoint with the verifier.  The ID token must be signed by a
key of the provider's JWKS, and its issuer, audience, expiry and nonce must
be the expected ones (OpenID Connect Core 1.0, section 3.1.3.7).

Endpoints come from each provider's discovery document, fetched on first
use and kept for the process's lifetime.  The JWKS is fetched again when a
token names an unknown key id, at most once per JWKS_REFRESH_INTERVAL.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

import httpx
import jwt
import structlog
from cryptography.fernet import Fernet, InvalidToken

from warmline.providers.google import GoogleProviderSettings
from warmline.providers.microsoft import MicrosoftSettings
from warmline.settings import ProcessSettings

log = structlog.get_logger(__name__)

FLOW_COOKIE = "warmline_oauth"
FLOW_LIFETIME = dt.timedelta(minutes=10)
CLOCK_SKEW = dt.timedelta(minutes=5)
"""Tolerance for clock differences when checking an ID token's times."""
JWKS_REFRESH_INTERVAL = 60.0
SIGN_IN_SCOPE = "openid email profile"
GOOGLE_ACCOUNTS_URL = "https://accounts.google.com/"
PROVIDER_TITLES = {"google": "Google", "microsoft": "Microsoft"}
# Asymmetric algorithms only: an HMAC algorithm would make the client
# secret a signing key, and "none" would accept unsigned tokens.
ALLOWED_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "PS256")


class SignInError(Exception):
    """The provider's response cannot be used; the message is for the user."""


@dataclasses.dataclass(frozen=True)
class OidcClientConfig:
    """One registered OpenID Connect client at one provider."""

    provider: str
    discovery_url: str
    client_id: str
    client_secret: str = dataclasses.field(default="", repr=False)
    verify: str | bool = True
    """A CA file for a private CA (the emulator's), or True for the system's CAs."""
    timeout: float = 30.0


@dataclasses.dataclass(frozen=True)
class PendingSignIn:
    """The secrets of one authorization request, kept in the flow cookie."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> PendingSignIn:
        return cls(
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(32),
            secrets.token_urlsafe(64),
        )

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """The relying party for one provider: authorization URL, code, ID token."""

    def __init__(self, config: OidcClientConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_fetched_at = float("-inf")
        self._lock = threading.Lock()

    def authorization_url(
        self, redirect_uri: str, pending: PendingSignIn, login_hint: str = ""
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": redirect_uri,
            "scope": SIGN_IN_SCOPE,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
            "prompt": "select_account",
        }
        if login_hint:
            params["login_hint"] = login_hint
        endpoint = str(self.metadata()["authorization_endpoint"])
        separator = "&" if "?" in endpoint else "?"
        return endpoint + separator + urllib.parse.urlencode(params)

    def sign_in(
        self,
        callback: Mapping[str, str],
        pending: PendingSignIn,
        redirect_uri: str,
        now: dt.datetime,
    ) -> dict[str, Any]:
        """Check the callback, redeem its code and return the ID token's claims."""
        if "error" in callback:
            raise SignInError(
                f"{self.title} did not sign you in ({callback['error'][:100]})."
            )
        given_state = callback.get("state") or ""
        if not hmac.compare_digest(pending.state.encode(), given_state.encode()):
            raise SignInError(
                "The provider's response does not belong to the sign-in started "
                "in this browser; start again."
            )
        code = callback.get("code") or ""
        if not code:
            raise SignInError(f"{self.title} returned no authorization code.")
        id_token = self._redeem(code, redirect_uri, pending.verifier)
        return self.verify_id_token(id_token, pending.nonce, now)

    @property
    def title(self) -> str:
        return PROVIDER_TITLES.get(self.config.provider, self.config.provider)

    def metadata(self) -> dict[str, Any]:
        """Return the provider's discovery document, fetched once per process."""
        with self._lock:
            if self._metadata is None:
                document = self._get_json(self.config.discovery_url, "discovery")
                missing = {
                    "issuer",
                    "authorization_endpoint",
                    "token_endpoint",
                    "jwks_uri",
                } - set(document)
                if missing:
                    raise SignInError(
                        f"The discovery document of {self.title} lacks "
                        f"{', '.join(sorted(missing))}."
                    )
                self._metadata = document
            return self._metadata

    def verify_id_token(
        self, id_token: str, nonce: str, now: dt.datetime
    ) -> dict[str, Any]:
        """Check the ID token's signature and claims; return the claims."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.InvalidTokenError as error:
            raise SignInError(f"The ID token is malformed: {error}.") from error
        algorithm = header.get("alg")
        if algorithm not in ALLOWED_ALGORITHMS:
            raise SignInError(f"The ID token's algorithm {algorithm!r} is not allowed.")
        key = self._signing_key(str(header.get("kid") or ""))
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=[algorithm],
                audience=self.config.client_id,
                # Times are checked below against the site's clock.
                options={
                    "require": ["iss", "aud", "exp", "iat", "sub"],
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidTokenError as error:
            raise SignInError(f"The ID token is invalid: {error}.") from error
        self._check_claims(claims, nonce, now)
        return claims

    def _check_claims(
        self, claims: Mapping[str, Any], nonce: str, now: dt.datetime
    ) -> None:
        issuer = str(self.metadata()["issuer"])
        # Microsoft's multi-tenant authorities publish the issuer with a
        # {tenantid} placeholder that the token's `tid` claim fills.
        issuer = issuer.replace("{tenantid}", str(claims.get("tid", "{tenantid}")))
        accepted = {issuer}
        if self.config.provider == "google":
            # Google still returns "accounts.google.com" without the scheme
            # for legacy implementations (developers.google.com/identity/
            # openid-connect/reference, "issuer").
            accepted.add(issuer.removeprefix("https://"))
        if claims["iss"] not in accepted:
            raise SignInError(
                f"The ID token was issued by {str(claims['iss'])[:100]!r}, "
                f"not by {issuer!r}."
            )
        audiences = claims["aud"] if isinstance(claims["aud"], list) else []
        if len(audiences) > 1 and claims.get("azp") != self.config.client_id:
            raise SignInError("The ID token was issued to another client (azp).")
        expires = _epoch(claims["exp"])
        if expires is None or expires + CLOCK_SKEW <= now:
            raise SignInError("The ID token has expired; sign in again.")
        not_before = _epoch(claims.get("nbf", claims["iat"]))
        if not_before is None or not_before - CLOCK_SKEW > now:
            raise SignInError("The ID token is not valid yet; check the clock.")
        given = str(claims.get("nonce") or "")
        if not hmac.compare_digest(nonce.encode(), given.encode()):
            raise SignInError(
                "The ID token's nonce does not match this sign-in; start again."
            )

    def _redeem(self, code: str, redirect_uri: str, verifier: str) -> str:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self.config.client_id,
            "code_verifier": verifier,
        }
        if self.config.client_secret:
            form["client_secret"] = self.config.client_secret
        endpoint = str(self.metadata()["token_endpoint"])
        try:
            with self._http() as client:
                response = client.post(endpoint, data=form)
        except httpx.HTTPError as error:
            raise SignInError(
                f"The token endpoint of {self.title} cannot be reached "
                f"({type(error).__name__}); try again."
            ) from error
        body = _json_object(response)
        if response.status_code != 200:
            raise SignInError(
                f"{self.title} rejected the authorization code "
                f"({str(body.get('error') or response.status_code)[:100]}); "
                "start again."
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise SignInError(f"{self.title} returned no ID token.")
        return id_token

    def _signing_key(self, key_id: str) -> jwt.PyJWK:
        with self._lock:
            key = self._keys.get(key_id)
            stale = time.monotonic() - self._keys_fetched_at > JWKS_REFRESH_INTERVAL
        if key is None and stale:
            self._fetch_keys()
            key = self._keys.get(key_id)
        if key is None:
            raise SignInError(
                f"The ID token is signed with a key that {self.title} does not publish."
            )
        return key

    def _fetch_keys(self) -> None:
        document = self._get_json(str(self.metadata()["jwks_uri"]), "JWKS")
        try:
            key_set = jwt.PyJWKSet.from_dict(document)
        except jwt.PyJWTError as error:
            raise SignInError(
                f"The JWKS of {self.title} is invalid: {error}."
            ) from error
        keys = {str(key.key_id or ""): key for key in key_set.keys}
        with self._lock:
            self._keys = keys
            self._keys_fetched_at = time.monotonic()

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            with self._http() as client:
                response = client.get(url)
        except httpx.HTTPError as error:
            raise SignInError(
                f"The {what} document of {self.title} cannot be fetched "
                f"({type(error).__name__}); try again later."
            ) from error
        body = _json_object(response)
        if response.status_code != 200 or not body:
            raise SignInError(
                f"The {what} document of {self.title} could not be read "
                f"(HTTP {response.status_code})."
            )
        return body

    def _http(self) -> httpx.Client:
        verify: ssl.SSLContext | bool = True
        if isinstance(self.config.verify, str):
            verify = ssl.create_default_context(cafile=self.config.verify)
        return httpx.Client(verify=verify, timeout=self.config.timeout, trust_env=False)


def _epoch(value: Any) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FlowCookies:
    """Seals a flow's values into the cookie value and opens them again.

    Fernet encrypts, so the PKCE verifier stays secret, and authenticates,
    so a changed cookie is rejected.  The key is derived from the session
    key, so every process that shares the session key reads the cookie.
    """

    def __init__(self, session_key: bytes) -> None:
        digest = hashlib.sha256(b"warmline.web.oauth-flow:" + session_key).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def seal(self, values: Mapping[str, Any], now: dt.datetime) -> str:
        data = json.dumps(dict(values), separators=(",", ":")).encode()
        return self._fernet.encrypt_at_time(data, int(now.timestamp())).decode()

    def open(self, cookie: str | None, now: dt.datetime) -> dict[str, Any] | None:
        """Return the sealed values, or None when missing, changed or expired."""
        if not cookie:
            return None
        try:
            data = self._fernet.decrypt_at_time(
                cookie.encode(),
                int(FLOW_LIFETIME.total_seconds()),
                int(now.timestamp()),
            )
        except (InvalidToken, ValueError):
            return None
        values = json.loads(data)
        return values if isinstance(values, dict) else None


@dataclasses.dataclass
class OAuthSetup:
    """The providers the site can use, read once from the settings at start-up.

    `google` and `microsoft` are the core's provider settings, used to
    connect accounts.  `clients` contains an OpenID Connect client for each
    provider whose web client is configured.
    """

    settings: ProcessSettings
    google: GoogleProviderSettings
    microsoft: MicrosoftSettings
    clients: dict[str, OidcClient]
    cookies: FlowCookies
    worker_app: Any = None
    """The Celery app that sends "sync now" tasks, built on first use."""

    def client(self, provider: str) -> OidcClient | None:
        return self.clients.get(provider)

    def sign_in_choices(self) -> list[tuple[str, str]]:
        """Return (provider, title) of each provider the sign-in page offers."""
        return [(name, PROVIDER_TITLES[name]) for name in sorted(self.clients)]


def load_oauth_setup(
    settings: ProcessSettings,
    session_key: bytes,
    environ: Mapping[str, str] | None = None,
) -> OAuthSetup:
    """Take the google_* settings and read the WARMLINE_MICROSOFT_* variables."""
    google = GoogleProviderSettings.from_settings(settings)
    microsoft = MicrosoftSettings.from_environ(environ)
    clients = {}
    web_client = google.web_client_config().get("web")
    if web_client:
        root = google.api_root or GOOGLE_ACCOUNTS_URL
        config = OidcClientConfig(
            provider="google",
            discovery_url=root.rstrip("/") + "/.well-known/openid-configuration",
            client_id=str(web_client["client_id"]),
            client_secret=str(web_client["client_secret"]),
            timeout=google.timeout,
        )
        clients["google"] = OidcClient(config)
    if microsoft.client_id:
        authority = f"{microsoft.authority_host.rstrip('/')}/{microsoft.tenant}"
        config = OidcClientConfig(
            provider="microsoft",
            discovery_url=authority + "/v2.0/.well-known/openid-configuration",
            client_id=microsoft.client_id,
            client_secret=microsoft.client_secret,
            verify=microsoft.ca_file or True,
            timeout=microsoft.timeout,
        )
        clients["microsoft"] = OidcClient(config)
    return OAuthSetup(settings, google, microsoft, clients, FlowCookies(session_key))
