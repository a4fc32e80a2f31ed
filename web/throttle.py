"""Sign-in rate limits, counted in the database so they hold across processes.

A sign-in is rejected without checking the password while either the typed
address or the client address has `max_failures` failures within `window`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from warmline.web_models import LoginFailure


@dataclasses.dataclass(frozen=True)
class LoginLimit:
    max_failures: int
    window: dt.timedelta


def retry_after(
    session: Session, limit: LoginLimit, email: str, client: str, now: dt.datetime
) -> dt.timedelta | None:
    """Return how long sign-ins stay blocked for this address or client, if they are."""
    waits = [
        _wait(session, limit, LoginFailure.email == email, now),
        _wait(session, limit, LoginFailure.client_address == client, now),
    ]
    blocked = [wait for wait in waits if wait is not None]
    return max(blocked) if blocked else None


def _wait(
    session: Session, limit: LoginLimit, key: object, now: dt.datetime
) -> dt.timedelta | None:
    recent = session.scalars(
        select(LoginFailure.failed_at)
        .where(key, LoginFailure.failed_at > now - limit.window)  # type: ignore[arg-type]
        .order_by(LoginFailure.failed_at.desc())
        .limit(limit.max_failures)
    ).all()
    if len(recent) < limit.max_failures:
        return None
    # Sign-ins open again once the oldest of the last max_failures failures
    # leaves the window.
    return max(recent[-1] + limit.window - now, dt.timedelta(seconds=1))


def record_failure(
    session: Session, limit: LoginLimit, email: str, client: str, now: dt.datetime
) -> None:
    """Store one failure and delete the failures that left the window."""
    session.execute(
        delete(LoginFailure).where(LoginFailure.failed_at <= now - limit.window)
    )
    session.add(LoginFailure(email=email, client_address=client, failed_at=now))


def clear_failures(session: Session, email: str) -> None:
    """Forget the address's failures after a successful sign-in.

    The client's failures stay, so one known password does not reset the
    count of guesses at other addresses from the same client.
    """
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
