"""Signing in and out: with an address and password under the rate limits, or
with the verified address that an identity provider returns (OpenID Connect).

Every sign-in, and every rejected one whose address belongs to a web user,
is written to the audit log of the user's workspace.  A rejected address
that belongs to no user has no workspace, so only its log line remains.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline import audit
from warmline.models import Workspace
from warmline.staff import StaffError, normalize_address
from warmline.web_models import WebRole, WebUser
from warmline.workspaces import workspace_settings
from web.sessions import end_session, start_session
from web.state import WebState
from web.text import clean_text
from web.throttle import clear_failures, record_failure, retry_after

log = structlog.get_logger(__name__)

UNUSABLE_PASSWORD_HASH = "!"
"""Stored for users created by a provider sign-in: no password matches it."""


@dataclasses.dataclass(frozen=True)
class SignInOutcome:
    """A session token on success; otherwise why the sign-in failed."""

    token: str | None = None
    csrf_token: str | None = None
    user: WebUser | None = None
    retry_after: dt.timedelta | None = None
    error: str | None = None

    @property
    def message(self) -> str:
        if self.error is not None:
            return self.error
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
        if user is not None:
            _audit_sign_in(db, user, now, "password", refused="wrong_password")
        db.commit()
        log.warning("sign-in failed", email=email, client=client)
        return SignInOutcome()
    clear_failures(db, email)
    if state.passwords.needs_rehash(user.password_hash):
        user.password_hash = state.passwords.rehash(password)
    return _start_session(db, state, user, "password")


def _start_session(
    db: Session, state: WebState, user: WebUser, method: str
) -> SignInOutcome:
    """Start a session for `user`, record the sign-in and commit."""
    now = state.config.clock()
    user.last_sign_in_at = now
    token, row = start_session(db, user, now, state.config.session_lifetime)
    _audit_sign_in(db, user, now, method)
    db.commit()
    log.info(
        "signed in", user_id=user.id, workspace_id=user.workspace_id, method=method
    )
    return SignInOutcome(token=token, csrf_token=row.csrf_token, user=user)


def _audit_sign_in(
    db: Session,
    user: WebUser,
    now: dt.datetime,
    method: str,
    refused: str | None = None,
) -> None:
    # An unknown address has no workspace, so only its log line remains.
    audit.record_sign_in(
        db,
        workspace_id=user.workspace_id,
        user_id=user.id,
        email=user.email,
        method=method,
        refused=refused,
        occurred_at=now,
    )


def provider_sign_in(
    db: Session, state: WebState, provider: str, claims: dict[str, object]
) -> SignInOutcome:
    """Sign in the web user whose address the verified ID token `claims` carry.

    The user's workspace must accept `provider` (web_sign_in_providers) and
    the address's domain (web_sign_in_domains, else own_domains).  An
    address that is no user yet becomes a member of the one workspace that
    accepts it and has web_sign_in_creates_members on.  Commits either way.
    """
    email = _verified_address(provider, claims)
    if email is None:
        log.warning("provider sign-in without a verified address", provider=provider)
        return SignInOutcome(
            error="The provider did not confirm an email address for this account."
        )
    user = db.scalar(select(WebUser).where(WebUser.email == email))
    if user is None:
        return _create_member(db, state, provider, email)
    reason = _provider_rejection(db, user.workspace, provider, email)
    if reason is not None:
        _audit_sign_in(db, user, state.config.clock(), provider, refused=reason)
        db.commit()
        log.warning("provider sign-in rejected", provider=provider, reason=reason)
        return SignInOutcome(error=REJECTION_MESSAGES[reason])
    return _start_session(db, state, user, provider)


REJECTION_MESSAGES = {
    "provider_not_enabled": (
        "Your workspace does not accept this sign-in provider; sign in with your "
        "password or ask an admin to turn the provider on."
    ),
    "domain_not_allowed": (
        "Addresses at this domain may not sign in with a provider in your "
        "workspace; ask an admin to add the domain."
    ),
}
NO_USER_MESSAGE = (
    "This address is not a user of any workspace; ask an admin to add you "
    "with 'warmline users add'."
)


def _verified_address(provider: str, claims: dict[str, object]) -> str | None:
    if provider == "google":
        # Google sets email_verified; an unverified address proves nothing.
        raw = claims.get("email") if claims.get("email_verified") is True else None
    else:
        # NOTE: preferred_username is the sign-in name (UPN) that the user's
        # tenant assigns.  A multi-tenant registration trusts every tenant's
        # assignment, so WARMLINE_MICROSOFT_TENANT should name the practice's
        # tenant, which makes the issuer check accept only its users.
        raw = claims.get("email") or claims.get("preferred_username")
    if not isinstance(raw, str):
        return None
    try:
        return normalize_address(raw)
    except StaffError:
        return None


def _provider_rejection(
    db: Session, workspace: Workspace, provider: str, email: str
) -> str | None:
    settings = workspace_settings(db, workspace)
    if provider not in settings["web_sign_in_providers"]:
        return "provider_not_enabled"
    domains = settings["web_sign_in_domains"] or settings["own_domains"]
    if email.rpartition("@")[2] not in domains:
        return "domain_not_allowed"
    return None


def _create_member(
    db: Session, state: WebState, provider: str, email: str
) -> SignInOutcome:
    candidates = [
        workspace
        for workspace in db.scalars(select(Workspace).order_by(Workspace.id))
        if workspace_settings(db, workspace)["web_sign_in_creates_members"]
        and _provider_rejection(db, workspace, provider, email) is None
    ]
    if len(candidates) != 1:
        # No workspace, or several that would each take the address.
        log.warning(
            "provider sign-in by an unknown address",
            provider=provider,
            workspaces=len(candidates),
        )
        return SignInOutcome(error=NO_USER_MESSAGE)
    user = WebUser(
        workspace_id=candidates[0].id,
        email=email,
        password_hash=UNUSABLE_PASSWORD_HASH,
        role=WebRole.MEMBER,
    )
    db.add(user)
    db.flush()
    log.info("web user created by provider sign-in", provider=provider)
    return _start_session(db, state, user, provider)


def sign_out(db: Session, token: str | None) -> None:
    if token is not None:
        end_session(db, token)
        db.commit()
