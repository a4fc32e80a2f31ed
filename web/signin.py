"""Signing in and out with an address and password, under the rate limits."""

from __future__ import annotations

import dataclasses
import datetime as dt

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline.web_models import WebUser
from web.sessions import end_session, start_session
from web.state import WebState
from web.text import clean_text
from web.throttle import clear_failures, record_failure, retry_after

log = structlog.get_logger(__name__)


@dataclasses.dataclass(frozen=True)
class SignInOutcome:
    """A session token on success; otherwise why the sign-in failed."""

    token: str | None = None
    csrf_token: str | None = None
    user: WebUser | None = None
    retry_after: dt.timedelta | None = None

    @property
    def message(self) -> str:
        if self.retry_after is not None:
            minutes = max(1, round(self.retry_after.total_seconds() / 60))
            return (
                "Too many failed sign-ins for this address or from this network; "
                f"try again in {minutes} minute(s)."
            )
        return "The address or password is wrong."


def normalize_email(email: str) -> str:
    return clean_text(email).strip().lower()[:320]


def sign_in(
    db: Session, state: WebState, email: str, password: str, client: str
) -> SignInOutcome:
    """Check the password and start a session; commits either way."""
    email = normalize_email(email)
    now = state.config.clock()
    limit = state.login_limit
    wait = retry_after(db, limit, email, client, now)
    if wait is not None:
        log.warning("sign-in rate limited", email=email, client=client)
        return SignInOutcome(retry_after=wait)
    user = db.scalar(select(WebUser).where(WebUser.email == email))
    stored_hash = user.password_hash if user is not None else None
    if user is None or not state.passwords.verify(stored_hash, password):
        record_failure(db, limit, email, client, now)
        db.commit()
        log.warning("sign-in failed", email=email, client=client)
        return SignInOutcome()
    clear_failures(db, email)
    if state.passwords.needs_rehash(user.password_hash):
        user.password_hash = state.passwords.rehash(password)
    user.last_sign_in_at = now
    token, row = start_session(db, user, now, state.config.session_lifetime)
    db.commit()
    log.info("signed in", user_id=user.id, workspace_id=user.workspace_id)
    return SignInOutcome(token=token, csrf_token=row.csrf_token, user=user)


def sign_out(db: Session, token: str | None) -> None:
    if token is not None:
        end_session(db, token)
        db.commit()
