"""Server-side sessions behind a signed cookie, with a CSRF token per session.

The cookie contains a random token signed with the site's session key.  The
database stores only the token's SHA-256, so a copy of the table cannot be
replayed as a cookie.  Signing out or expiry deletes the row.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, Signer
from sqlalchemy import Select, and_, bindparam, delete, select
from sqlalchemy.orm import Session

from warmline.models import StaffAddress, StaffMember
from warmline.web_models import WebRole, WebSession, WebUser

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


@dataclasses.dataclass(frozen=True)
class SignedIn:
    """A live session's user, with the staff member who has the user's address."""

    user_id: int
    email: str
    role: WebRole
    workspace_id: int
    csrf_token: str
    staff_member_id: int | None
    timezone: str


def _signed_in_query() -> Select[*tuple[Any, ...]]:
    """Select SignedIn's columns for the live session whose token hash is bound.

    The staff member is the one with the user's address in the user's
    workspace.  Built once, because every request runs it and building the
    joins took longer than running the query.
    """
    return (
        select(
            WebUser.id,
            WebUser.email,
            WebUser.role,
            WebUser.workspace_id,
            WebSession.csrf_token,
            StaffAddress.staff_member_id,
            StaffMember.timezone,
        )
        .join(WebUser, WebUser.id == WebSession.user_id)
        .outerjoin(
            StaffAddress,
            and_(
                StaffAddress.workspace_id == WebUser.workspace_id,
                StaffAddress.address == WebUser.email,
            ),
        )
        .outerjoin(StaffMember, StaffMember.id == StaffAddress.staff_member_id)
        .where(
            WebSession.token_hash == bindparam("token_hash"),
            WebSession.expires_at > bindparam("now"),
        )
    )


_SIGNED_IN = _signed_in_query()


def find_signed_in(session: Session, token: str, now: dt.datetime) -> SignedIn | None:
    """Return the user of the live session with this token, or None.

    A user without a staff member gets None and the time zone "UTC".
    """
    row = session.execute(_SIGNED_IN, {"token_hash": _hash(token), "now": now}).first()
    if row is None:
        return None
    user_id, email, role, workspace_id, csrf_token, staff_id, timezone = row
    return SignedIn(
        user_id, email, role, workspace_id, csrf_token, staff_id, timezone or "UTC"
    )


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _hash(token)))
