"""The emulated tokeninfo endpoint, which IMAP servers call to check a token.

`GET /tokeninfo?access_token=TOKEN` responds as Google's
oauth2.googleapis.com/tokeninfo does: the token's client (`azp`, `aud`),
user (`sub`, `email`), scopes and remaining lifetime in seconds, all as
strings, or 400 `invalid_token` for a token that is unknown, revoked or
expired.  Google includes `email` only for grants with the email scope.
The emulator always includes it, so that Dovecot's oauth2 passdb can
match it to the IMAP user name.
"""

from __future__ import annotations

import hashlib
import time

from tests.emulators.google.oauth import OAuthServer
from tests.emulators.google.responses import Response, json_response

PATH = "/tokeninfo"


def tokeninfo(oauth: OAuthServer, query: dict[str, str]) -> Response:
    """Describe the access token in `query["access_token"]`."""
    token = query.get("access_token", "")
    with oauth.lock:
        access = oauth.access_tokens.get(token)
    remaining = 0 if access is None else int(access.expires_at - time.time())
    if access is None or remaining <= 0:
        return json_response(
            400, {"error": "invalid_token", "error_description": "Invalid Value"}
        )
    grant = access.grant
    return json_response(
        200,
        {
            "azp": grant.client_id,
            "aud": grant.client_id,
            "sub": _subject(grant.user),
            "scope": " ".join(grant.scopes),
            "exp": str(int(access.expires_at)),
            "expires_in": str(remaining),
            "email": grant.user,
            "email_verified": "true",
            "access_type": "offline",
        },
    )


def _subject(email: str) -> str:
    """Return a stable numeric account id, like Google's `sub`."""
    return str(int(hashlib.sha256(email.encode()).hexdigest()[:15], 16))
