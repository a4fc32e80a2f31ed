"""Token introspection (RFC 7662) for the emulator's access tokens.

The Microsoft identity platform offers no introspection endpoint: Exchange
Online validates its own tokens.  A test IMAP server (Dovecot's oauth2
passdb) needs one to accept the emulator's tokens, so the emulator serves
`POST /_emulator/introspect` with the form field `token`.  An active token
is described by `active`, `username` (the user's UPN), `scope`,
`client_id` and `exp`; any other token gets `{"active": false}`.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Protocol

from tests.emulators.microsoft.identity import Identity, Response

PATH = "/_emulator/introspect"


class Clock(Protocol):
    def monotonic(self) -> float: ...


def introspect(identity: Identity, body: bytes, clock: Clock) -> Response:
    """Describe the access token in the form field `token` of `body`."""
    form = dict(urllib.parse.parse_qsl(body.decode("ascii", "replace")))
    now = clock.monotonic()
    grant = identity.grant_for(form.get("token", ""), now)
    if grant is None or grant.user is None:
        return Response(200, {"active": False})
    return Response(
        200,
        {
            "active": True,
            "token_type": "Bearer",
            "username": grant.user.upn,
            "scope": " ".join(sorted(grant.scopes)),
            "client_id": grant.client_id,
            "exp": int(time.time() + grant.expires_at - now),
        },
    )
