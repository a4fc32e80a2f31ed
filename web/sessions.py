"""Server-side sessions behind a signed cookie, with a CSRF token per session.

The cookie contains a random token signed with the site's session key.  The
database stores only the token's SHA-256, so a copy of the table cannot be
replayed as a cookie.  Signing out or expiry deletes the row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload

from warmline.web_models import WebSession, WebUser

SESSION_COOKIE = "warmline_session"
SIGNIN_COOKIE = "warmline_signin"


class CookieSigner:
    """Signs and checks cookie values with the site's session key."""

    def __init__(self, key: bytes) -> None:
        self._signer = Signer(key, salt="warmline.web.cookie")

    def sign(self, value: str) -> str:
        return self._signer.sign(value).decode("ascii")

    def unsign(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            return self._signer.unsign(cookie).decode("ascii")
        except (BadSignature, UnicodeError):
            return None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def start_session(
    session: Session, user: WebUser, now: dt.datetime, lifetime: dt.timedelta
) -> tuple[str, WebSession]:
    """Store a new session for `user`; return its cookie token and the row.

    Expired sessions of every user are deleted on the way.
    """
    token = new_token()
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    row = WebSession(
        user_id=user.id,
        token_hash=_hash(token),
        csrf_token=new_token(),
        created_at=now,
        expires_at=now + lifetime,
    )
    session.add(row)
    return token, row


def find_session(session: Session, token: str, now: dt.datetime) -> WebSession | None:
    """Return the live session with this token, its user loaded."""
    return session.scalar(
        select(WebSession)
        .options(joinedload(WebSession.user))
        .where(WebSession.token_hash == _hash(token), WebSession.expires_at > now)
    )


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
