"""The emulated OAuth 2.0 server: authorization endpoint and token endpoint.

The authorization endpoint consents at once for the user named by
`login_hint` (or the default user) and redirects to the client's loopback
redirect URI with a code.  The token endpoint exchanges codes (checking the
PKCE verifier), refreshes tokens (rotating the refresh token when
`rotate_refresh_tokens` is on, after which the old one gets invalid_grant),
and grants service-account JWT assertions for domain-wide delegation after
checking their RS256 signature and claims.  The revocation endpoint ends
the whole grant of the refresh or access token it receives, as Google's
does, and returns 400 invalid_token for a token it does not know.

For OpenID Connect it serves a discovery document and a JWKS, and a code
grant whose scopes include "openid" also returns an ID token signed with
RS256 by the emulator's key.  Tests change claims through
`id_token_overrides` or sign with a key missing from the JWKS
(`sign_with_unknown_key`) to check that a client rejects such tokens.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

from tests.emulators.google.responses import Response, json_response

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_AUDIENCE = "https://oauth2.googleapis.com/token"
"""The `aud` Google requires in a JWT assertion, whatever URL it is sent to."""
ACCESS_TOKEN_SECONDS = 3599
ID_TOKEN_SECONDS = 3600


@dataclasses.dataclass
class Grant:
    """What a refresh or access token stands for."""

    client_id: str
    user: str
    scopes: tuple[str, ...]


@dataclasses.dataclass
class AccessToken:
    grant: Grant
    expires_at: float


@dataclasses.dataclass
class ServiceAccount:
    client_email: str
    client_id: str
    public_key: rsa.RSAPublicKey
    delegated_scopes: frozenset[str]


class OAuthServer:
    """Clients, grants and tokens of the emulated Google accounts server."""

    def __init__(self, users: set[str], default_user: str) -> None:
        self.users = users
        self.default_user = default_user
        self.clients: dict[str, str] = {}
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.rotate_refresh_tokens = False
        self.consenting_user: str | None = None
        self.lock = threading.Lock()
        self.codes: dict[str, tuple[Grant, str, str | None, str | None]] = {}
        self.refresh_tokens: dict[str, Grant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.authorization_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.revocation_requests: list[dict[str, str]] = []
        self.issuer = ""
        """Set by the server once it knows its URL, without a trailing slash."""
        self.signing_key = rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )
        self.key_id = "emulator-" + secrets.token_hex(4)
        self.id_token_overrides: dict[str, Any] = {}
        self.sign_with_unknown_key = False

    # --- set-up used by tests ---------------------------------------------------

    def register_client(self, client_id: str, client_secret: str) -> None:
        self.clients[client_id] = client_secret

    def register_service_account(
        self, client_email: str, client_id: str, public_key_pem: bytes, scopes: set[str]
    ) -> None:
        key = serialization.load_pem_public_key(public_key_pem)
        assert isinstance(key, rsa.RSAPublicKey)
        self.service_accounts[client_email] = ServiceAccount(
            client_email, client_id, key, frozenset(scopes)
        )

    def issue_refresh_token(self, client_id: str, user: str, scopes: list[str]) -> str:
        token = "rt-" + secrets.token_urlsafe(16)
        with self.lock:
            self.refresh_tokens[token] = Grant(client_id, user, tuple(scopes))
        return token

    def revoke_user(self, user: str) -> None:
        """Revoke every grant of `user`, as removing the app's access does."""
        with self.lock:
            for token in [t for t, g in self.refresh_tokens.items() if g.user == user]:
                del self.refresh_tokens[token]
            for token in [
                t for t, a in self.access_tokens.items() if a.grant.user == user
            ]:
                del self.access_tokens[token]

    def expire_access_tokens(self) -> None:
        """Make every issued access token fail with 401 from now on."""
        with self.lock:
            for access in self.access_tokens.values():
                access.expires_at = 0.0

    # --- lookups used by the API handlers ---------------------------------------

    def grant_for(self, token: str) -> Grant | None:
        with self.lock:
            access = self.access_tokens.get(token)
        if access is None or access.expires_at <= time.time():
            return None
        return access.grant

    # --- endpoints ----------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> Response:
        self.authorization_requests.append(dict(query))
        client_id = query.get("client_id", "")
        redirect_uri = query.get("redirect_uri", "")
        if client_id not in self.clients:
            return Response(400, b"invalid_client: unknown client_id")
        parsed = urllib.parse.urlsplit(redirect_uri)
        if parsed.scheme != "http" or parsed.hostname not in ("127.0.0.1", "localhost"):
            return Response(400, b"redirect_uri_mismatch: not a loopback address")
        # `consenting_user` plays a person who picks another Google account
        # than the one login_hint suggests.
        user = self.consenting_user or query.get("login_hint") or self.default_user
        if user not in self.users:
            return Response(400, b"unknown user")
        code = "code-" + secrets.token_urlsafe(16)
        grant = Grant(client_id, user, tuple(query.get("scope", "").split()))
        with self.lock:
            self.codes[code] = (
                grant,
                redirect_uri,
                query.get("code_challenge"),
                query.get("nonce"),
            )
        answer = {"code": code, "scope": query.get("scope", "")}
        if "state" in query:
            answer["state"] = query["state"]
        separator = "&" if parsed.query else "?"
        location = redirect_uri + separator + urllib.parse.urlencode(answer)
        return Response(302, b"", {"Location": location})

    def token(self, form: dict[str, str], authorization: str | None) -> Response:
        self.token_requests.append(dict(form))
        grant_type = form.get("grant_type")
        if grant_type == JWT_BEARER:
            return self._jwt_grant(form)
        client_id, client_secret = _client_credentials(form, authorization)
        if self.clients.get(client_id) != client_secret:
            return _oauth_error(
                401, "invalid_client", "The OAuth client was not found."
            )
        if grant_type == "authorization_code":
            return self._code_grant(form, client_id)
        if grant_type == "refresh_token":
            return self._refresh_grant(form, client_id)
        return _oauth_error(
            400, "unsupported_grant_type", f"Invalid grant_type: {grant_type}"
        )

    def revoke(self, form: dict[str, str]) -> Response:
        """End every token of the grant that `form["token"]` belongs to."""
        self.revocation_requests.append(dict(form))
        token = form.get("token", "")
        with self.lock:
            grant = self.refresh_tokens.get(token)
            access = self.access_tokens.get(token)
            if grant is None and access is not None:
                grant = access.grant
            if grant is None:
                return _oauth_error(400, "invalid_token", "Token expired or revoked")
            ended = (grant.client_id, grant.user)
            for key, stored in list(self.refresh_tokens.items()):
                if (stored.client_id, stored.user) == ended:
                    del self.refresh_tokens[key]
            for key, issued in list(self.access_tokens.items()):
                if (issued.grant.client_id, issued.grant.user) == ended:
                    del self.access_tokens[key]
        return Response(200, b"")

    def _code_grant(self, form: dict[str, str], client_id: str) -> Response:
        with self.lock:
            entry = self.codes.pop(form.get("code", ""), None)
        if entry is None:
            return _oauth_error(400, "invalid_grant", "Malformed auth code.")
        grant, redirect_uri, challenge, nonce = entry
        if grant.client_id != client_id or form.get("redirect_uri") != redirect_uri:
            return _oauth_error(400, "invalid_grant", "Bad Request")
        if challenge is not None:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if _b64url(digest) != challenge:
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
        refresh = self.issue_refresh_token(client_id, grant.user, list(grant.scopes))
        return self._token_response(grant, refresh, nonce)

    def _refresh_grant(self, form: dict[str, str], client_id: str) -> Response:
        token = form.get("refresh_token", "")
        with self.lock:
            grant = self.refresh_tokens.get(token)
            if grant is None or grant.client_id != client_id:
                grant = None
            elif self.rotate_refresh_tokens:
                del self.refresh_tokens[token]
        if grant is None:
            return _oauth_error(
                400, "invalid_grant", "Token has been expired or revoked."
            )
        new_refresh = None
        if self.rotate_refresh_tokens:
            new_refresh = self.issue_refresh_token(
                client_id, grant.user, list(grant.scopes)
            )
        return self._token_response(grant, new_refresh)

    def _jwt_grant(self, form: dict[str, str]) -> Response:
        try:
            claims = self._verified_claims(form.get("assertion", ""))
        except ValueError as error:
            return _oauth_error(400, "invalid_grant", str(error))
        account = self.service_accounts[claims["iss"]]
        scopes = tuple(str(claims.get("scope", "")).split())
        subject = claims.get("sub")
        if not scopes or not set(scopes) <= account.delegated_scopes:
            return _oauth_error(
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, "
                "or client not authorized for any of the scopes requested.",
            )
        if subject not in self.users:
            return _oauth_error(400, "invalid_grant", "Invalid email or User ID")
        return self._token_response(Grant(account.client_id, subject, scopes), None)

    def _verified_claims(self, assertion: str) -> dict[str, Any]:
        parts = assertion.split(".")
        if len(parts) != 3:
            raise ValueError("Invalid JWT: Token must be a short-lived token")
        header = json.loads(_unb64url(parts[0]))
        claims: dict[str, Any] = json.loads(_unb64url(parts[1]))
        if header.get("alg") != "RS256":
            raise ValueError(f"Invalid JWT: alg {header.get('alg')!r}")
        account = self.service_accounts.get(str(claims.get("iss")))
        if account is None:
            raise ValueError("Invalid JWT Signature.")
        try:
            account.public_key.verify(
                _unb64url(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature as error:
            raise ValueError("Invalid JWT Signature.") from error
        if claims.get("aud") != JWT_AUDIENCE:
            raise ValueError(f"Invalid JWT: aud {claims.get('aud')!r}")
        now = time.time()
        issued, expires = float(claims.get("iat", 0)), float(claims.get("exp", 0))
        if expires <= now or expires - issued > 3600 or issued > now + 300:
            raise ValueError(
                "Invalid JWT: Token must be a short-lived token (60 minutes)"
            )
        return claims

    def _token_response(
        self, grant: Grant, refresh_token: str | None, nonce: str | None = None
    ) -> Response:
        access = "at-" + secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = AccessToken(
                grant, time.time() + ACCESS_TOKEN_SECONDS
            )
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "scope": " ".join(grant.scopes),
            "token_type": "Bearer",
        }
        if refresh_token is not None:
            body["refresh_token"] = refresh_token
        if "openid" in grant.scopes:
            body["id_token"] = self.id_token(grant, nonce)
        return json_response(200, body, {"Cache-Control": "no-store"})

    # --- OpenID Connect -------------------------------------------------------------

    def discovery(self) -> Response:
        """Return the OpenID Provider metadata, as accounts.google.com serves it."""
        base = self.issuer + "/"
        return json_response(
            200,
            {
                "issuer": self.issuer,
                "authorization_endpoint": base + "o/oauth2/auth",
                "token_endpoint": base + "token",
                "jwks_uri": base + "oauth2/v3/certs",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "code_challenge_methods_supported": ["plain", "S256"],
            },
        )

    def jwks(self) -> Response:
        key = json.loads(RSAAlgorithm.to_jwk(self.signing_key.public_key()))
        key.update({"kid": self.key_id, "alg": "RS256", "use": "sig"})
        return json_response(200, {"keys": [key]})

    def id_token(self, grant: Grant, nonce: str | None) -> str:
        """Sign an ID token for the grant's user with `id_token_overrides` applied."""
        issued = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": hashlib.sha256(grant.user.encode()).hexdigest()[:21],
            "email": grant.user,
            "email_verified": True,
            "hd": grant.user.partition("@")[2],
            "iat": issued,
            "exp": issued + ID_TOKEN_SECONDS,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        claims.update(self.id_token_overrides)
        key = self.signing_key
        if self.sign_with_unknown_key:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        header = {"alg": "RS256", "kid": self.key_id, "typ": "JWT"}
        signing_input = (
            _b64url(json.dumps(header).encode())
            + "."
            + _b64url(json.dumps(claims).encode())
        )
        signature = key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return signing_input + "." + _b64url(signature)


def _client_credentials(
    form: dict[str, str], authorization: str | None
) -> tuple[str, str]:
    if authorization and authorization.lower().startswith("basic "):
        decoded = base64.b64decode(authorization[6:]).decode()
        client_id, _, client_secret = decoded.partition(":")
        return urllib.parse.unquote(client_id), urllib.parse.unquote(client_secret)
    return form.get("client_id", ""), form.get("client_secret", "")


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
