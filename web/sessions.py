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
from sqlalchemy import and_, delete, select
from sqlalchemy.orm import Session, aliased, contains_eager

from warmline.models import StaffAddress, StaffMember
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


def find_signed_in(
    session: Session, token: str, now: dt.datetime
) -> tuple[WebSession, int | None, str] | None:
    """Return the live session with this token, its staff member's id and time zone.

    One query, because every request runs it: the user is loaded with the
    session, and the staff member is the one with the user's address in
    the user's workspace (None and "UTC" when there is none).
    """
    user = aliased(WebUser)
    row = session.execute(
        select(WebSession, StaffAddress.staff_member_id, StaffMember.timezone)
        .join(user, user.id == WebSession.user_id)
        .options(contains_eager(WebSession.user.of_type(user)))
        .outerjoin(
            StaffAddress,
            and_(
                StaffAddress.workspace_id == user.workspace_id,
                StaffAddress.address == user.email,
            ),
        )
        .outerjoin(StaffMember, StaffMember.id == StaffAddress.staff_member_id)
        .where(WebSession.token_hash == _hash(token), WebSession.expires_at > now)
    ).first()
    if row is None:
        return None
    web_session, staff_id, timezone = row
    return web_session, staff_id, timezone or "UTC"


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
