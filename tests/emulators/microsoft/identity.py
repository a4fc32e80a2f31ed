"""The identity platform's v2.0 endpoints: discovery, authorize and token.

It implements what msal uses in Warmline's flows: the authorization-code
grant with PKCE (S256), the refresh-token grant with rotation that rejects
the previous token, and the client-credentials grant.  Errors follow the
platform's shape: `error`, `error_description` starting with the AADSTS
code, and `error_codes`.

ID tokens are signed with RS256 by a key that the tenant's JWKS
(`/{tenant}/discovery/v2.0/keys`) publishes.  Tests change claims through
`id_token_overrides` or sign with a key missing from the JWKS
(`sign_with_unknown_key`) to check that a client rejects such tokens.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

ACCESS_TOKEN_SECONDS = 3599
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
GRAPH_RESOURCE = "https://graph.microsoft.com/"
MULTI_TENANT = frozenset({"common", "organizations", "consumers"})


@dataclasses.dataclass
class User:
    upn: str
    name: str
    oid: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))


@dataclasses.dataclass
class App:
    client_id: str
    secret: str | None = None  # None for a public client


@dataclasses.dataclass
class Grant:
    """What an access or refresh token stands for."""

    client_id: str
    user: User | None  # None for an application token
    scopes: frozenset[str]
    expires_at: float


@dataclasses.dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _auto_post_form(action: str, params: Mapping[str, str]) -> str:
    """Return the page that makes a browser POST `params` to the redirect URI."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}"/>'
        for k, v in params.items()
    )
    return (
        '<html><body onload="document.forms[0].submit()">'
        f'<form method="POST" action="{html.escape(action)}">{inputs}</form>'
        "</body></html>"
    )


def _error(status: int, error: str, code: int, text: str, **extra: Any) -> Response:
    body = {
        "error": error,
        "error_description": f"AADSTS{code}: {text}",
        "error_codes": [code],
        "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
        **extra,
    }
    return Response(status, body)


class Identity:
    """Tenant, apps, users and the tokens issued to them."""

    def __init__(self, base_url: str, tenant_id: str) -> None:
        self.base_url = base_url
        self.tenant_id = tenant_id
        self.apps: dict[str, App] = {}
        self.users: dict[str, User] = {}
        self.default_user: User | None = None
        self.access_tokens: dict[str, Grant] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.rotated: set[str] = set()  # refresh tokens already exchanged
        self.codes: dict[str, dict[str, Any]] = {}
        self.revoked_consent: set[str] = set()
        self.interaction_required: set[str] = set()
        self.inactive_refresh_tokens: set[str] = set()  # users, AADSTS700082
        self.token_requests: list[dict[str, str]] = []
        self.signing_key = rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
        self.key_id = "emulator-" + secrets.token_hex(4)
        self.id_token_overrides: dict[str, Any] = {}
        self.sign_with_unknown_key = False
        self._lock = threading.Lock()

    # --- set-up ---------------------------------------------------------

    def add_app(self, client_id: str, secret: str | None = None) -> App:
        self.apps[client_id] = App(client_id, secret)
        return self.apps[client_id]

    def add_user(self, upn: str, name: str) -> User:
        user = User(upn.lower(), name)
        self.users[user.upn] = user
        if self.default_user is None:
            self.default_user = user
        return user

    def expire_access_tokens(self) -> None:
        with self._lock:
            for grant in self.access_tokens.values():
                grant.expires_at = 0.0

    def grant_for(self, access_token: str, now: float) -> Grant | None:
        grant = self.access_tokens.get(access_token)
        if grant is None or grant.expires_at <= now:
            return None
        if grant.user is not None and grant.user.upn in self.revoked_consent:
            return None
        return grant

    # --- endpoints ------------------------------------------------------

    def openid_configuration(self, tenant: str) -> Response:
        # As on login.microsoftonline.com, a multi-tenant authority names the
        # issuer with a {tenantid} placeholder for the token's `tid` claim.
        issuer_tenant = "{tenantid}" if tenant in MULTI_TENANT else self.tenant_id
        issuer = f"{self.base_url}/{issuer_tenant}/v2.0"
        return Response(
            200,
            {
                "issuer": issuer,
                "authorization_endpoint": f"{self.base_url}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{self.base_url}/{tenant}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{self.base_url}/{tenant}/oauth2/v2.0/devicecode",
                "response_types_supported": ["code", "id_token", "code id_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "jwks_uri": f"{self.base_url}/{tenant}/discovery/v2.0/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            },
        )

    def jwks(self) -> Response:
        key = json.loads(RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        key.update({"kid": self.key_id, "use": "sig"})
        return Response(200, {"keys": [key]})

    def authorize(self, query: Mapping[str, str]) -> Response:
        """Sign in the hinted (or default) user at once and redirect with a code."""
        app = self.apps.get(query.get("client_id", ""))
        if app is None:
            return _error(400, "unauthorized_client", 700016, "Application not found.")
        redirect_uri = query.get("redirect_uri", "")
        if urllib.parse.urlsplit(redirect_uri).hostname not in {
            "localhost",
            "127.0.0.1",
        }:
            return _error(
                400, "invalid_request", 50011, "The redirect URI does not match."
            )
        if query.get("response_type") != "code":
            return _error(
                400, "unsupported_response_type", 70005, "Use response_type=code."
            )
        challenge = query.get("code_challenge")
        if app.secret is None and (
            not challenge or query.get("code_challenge_method") != "S256"
        ):
            return _error(
                400,
                "invalid_request",
                9002325,
                "Proof Key for Code Exchange is required.",
            )
        hint = query.get("login_hint", "").lower()
        user = self.users.get(hint) if hint else self.default_user
        if user is None:
            return _error(
                400, "invalid_request", 50034, "The user account does not exist."
            )
        self.revoked_consent.discard(user.upn)  # signing in consents again
        code = "code-" + secrets.token_urlsafe(24)
        self.codes[code] = {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scopes": query.get("scope", ""),
            "challenge": challenge,
            "nonce": query.get("nonce"),
            "user": user,
        }
        params = {
            "code": code,
            "state": query.get("state", ""),
            "session_state": secrets.token_hex(8),
        }
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urllib.parse.urlencode(params)
        return Response(302, None, {"Location": location})

    def token(self, form: Mapping[str, str], now: float) -> Response:
        with self._lock:
            self.token_requests.append(dict(form))
            app = self.apps.get(form.get("client_id", ""))
            if app is None:
                return _error(
                    400, "unauthorized_client", 700016, "Application not found."
                )
            if app.secret is not None and form.get("client_secret") != app.secret:
                return _error(
                    401, "invalid_client", 7000215, "Invalid client secret provided."
                )
            grant_type = form.get("grant_type")
            if grant_type == "authorization_code":
                return self._redeem_code(app, form, now)
            if grant_type == "refresh_token":
                return self._refresh(app, form, now)
            if grant_type == "client_credentials":
                return self._client_credentials(app, form, now)
            return _error(
                400, "unsupported_grant_type", 70003, "Unsupported grant type."
            )

    def _redeem_code(self, app: App, form: Mapping[str, str], now: float) -> Response:
        entry = self.codes.pop(form.get("code", ""), None)
        if entry is None or entry["client_id"] != app.client_id:
            return _error(
                400,
                "invalid_grant",
                70000,
                "The provided authorization code is invalid.",
            )
        if form.get("redirect_uri") != entry["redirect_uri"]:
            return _error(
                400, "invalid_grant", 50011, "The redirect URI does not match."
            )
        if entry["challenge"]:
            verifier = form.get("code_verifier", "")
            digest = _b64url(hashlib.sha256(verifier.encode()).digest())
            if digest != entry["challenge"]:
                return _error(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied "
                    "in the authorization request.",
                )
        scopes = frozenset(entry["scopes"].split())
        return self._issue(app, entry["user"], scopes, now, nonce=entry["nonce"])

    def _refresh(self, app: App, form: Mapping[str, str], now: float) -> Response:
        token = form.get("refresh_token", "")
        if token in self.rotated:
            return _error(
                400,
                "invalid_grant",
                70000,
                "The provided value for the 'refresh_token' is not valid; "
                "it was already redeemed.",
            )
        grant = self.refresh_tokens.get(token)
        if grant is None or grant.client_id != app.client_id or grant.user is None:
            return _error(400, "invalid_grant", 9002313, "Invalid refresh token.")
        user = grant.user
        if user.upn in self.inactive_refresh_tokens:
            return _error(
                400,
                "invalid_grant",
                700082,
                "The refresh token has expired due to inactivity. The token was "
                "issued on 2025-12-01T10:00:00Z and was inactive for 90.00:00:00.",
            )
        if user.upn in self.revoked_consent:
            return _error(
                400,
                "invalid_grant",
                65001,
                "The user or administrator has not consented to use the application.",
                suberror="consent_required",
            )
        if user.upn in self.interaction_required:
            return _error(
                400,
                "interaction_required",
                50076,
                "Due to a configuration change made by your administrator, you must "
                "use multi-factor authentication.",
            )
        self.rotated.add(token)
        del self.refresh_tokens[token]
        requested = frozenset(form.get("scope", "").split()) or grant.scopes
        return self._issue(app, user, requested, now)

    def _client_credentials(
        self, app: App, form: Mapping[str, str], now: float
    ) -> Response:
        if app.secret is None:
            return _error(
                400, "invalid_client", 7000218, "A client secret is required."
            )
        if form.get("scope") != GRAPH_RESOURCE + ".default":
            return _error(400, "invalid_scope", 1002012, "Use the .default scope.")
        access_token = "at-app-" + secrets.token_urlsafe(24)
        scopes = frozenset({"Mail.ReadBasic.All", "Calendars.Read"})
        self.access_tokens[access_token] = Grant(
            app.client_id, None, scopes, now + ACCESS_TOKEN_SECONDS
        )
        body = {
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "ext_expires_in": ACCESS_TOKEN_SECONDS,
            "access_token": access_token,
        }
        return Response(200, body)

    def _issue(
        self,
        app: App,
        user: User,
        requested: frozenset[str],
        now: float,
        nonce: str | None = None,
    ) -> Response:
        graph_scopes = frozenset(
            scope.removeprefix(GRAPH_RESOURCE)
            for scope in requested
            if scope not in RESERVED_SCOPES
        )
        access_token = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[access_token] = Grant(
            app.client_id, user, graph_scopes, now + ACCESS_TOKEN_SECONDS
        )
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(sorted(graph_scopes | (requested & {"offline_access"}))),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "ext_expires_in": ACCESS_TOKEN_SECONDS,
            "access_token": access_token,
            "client_info": _b64url(
                json.dumps({"uid": user.oid, "utid": self.tenant_id}).encode()
            ),
        }
        if "offline_access" in requested:
            refresh_token = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[refresh_token] = Grant(
                app.client_id, user, graph_scopes, float("inf")
            )
            body["refresh_token"] = refresh_token
        if "openid" in requested or nonce is not None:
            body["id_token"] = self._id_token(app, user, nonce)
        return Response(200, body)

    def _id_token(self, app: App, user: User, nonce: str | None) -> str:
        issued = int(time.time())
        claims = {
            "aud": app.client_id,
            "iss": f"{self.base_url}/{self.tenant_id}/v2.0",
            "iat": issued,
            "nbf": issued,
            "exp": issued + 3600,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": user.upn,
            "sub": "sub-" + user.oid,
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        claims.update(self.id_token_overrides)
        key = self.signing_key
        if self.sign_with_unknown_key:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        header = {"typ": "JWT", "alg": "RS256", "kid": self.key_id}
        signing_input = (
            _b64url(json.dumps(header).encode())
            + "."
            + _b64url(json.dumps(claims).encode())
        )
        signature = key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return f"{signing_input}.{_b64url(signature)}"
