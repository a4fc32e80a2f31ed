"""Signed snooze links in the daily digest, and the snooze they grant.

Each link carries a token signed with the review site's session key
(itsdangerous, HMAC-SHA1 with a salt of its own, compared in constant time).
The token names the workspace, the staff member, the follow-up and the
period, and expires LINK_LIFETIME after the digest is made.  Anyone with
the link may snooze that one follow-up, so no sign-in is needed.  Using a
link twice snoozes once, because each use is recorded in the audit log
under the token's SHA-256 prefix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from warmline import audit
from warmline.audit_models import AuditRecord
from warmline.models import FollowUp, StaffMember, Workspace
from warmline.remind.errors import ReminderError
from warmline.remind.followups import FollowUpView, follow_up_views, snooze_follow_up
from warmline.settings import ProcessSettings

PERIODS = {"2w": "2 weeks", "1m": "1 month", "3m": "3 months"}
LINK_LIFETIME = dt.timedelta(days=14)
SNOOZE_ACTION = "follow_up.snooze"
_SALT = "warmline.digest.snooze"


class SnoozeLinkError(ReminderError):
    """A snooze link that cannot be used; `status` is the HTTP status to show."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclasses.dataclass(frozen=True)
class SnoozeGrant:
    """Permission carried by one snooze link: one period on one staff member's
    follow-up, until `expires_at`."""

    workspace_id: int
    staff_member_id: int
    follow_up_id: int
    period: str
    expires_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class SnoozeResult:
    """The follow-up after a link was used; `repeated` when it was used before."""

    view: FollowUpView
    repeated: bool


def load_link_key(settings: ProcessSettings) -> bytes | None:
    """Return the review site's session key, or None when the site has none yet.

    The key is read the way web.config reads it, so links made by the command
    line or a worker verify on the site.
    """
    if settings.web_session_key.strip():
        return settings.web_session_key.strip().encode()
    key_file = Path(settings.web_session_key_file)
    if not key_file.exists():
        return None
    return key_file.read_text(encoding="ascii").strip().encode()


def _serializer(key: bytes) -> URLSafeSerializer:
    return URLSafeSerializer(key, salt=_SALT)


def sign_grant(key: bytes, grant: SnoozeGrant) -> str:
    payload = [
        grant.workspace_id,
        grant.staff_member_id,
        grant.follow_up_id,
        grant.period,
        int(grant.expires_at.timestamp()),
    ]
    token: str = _serializer(key).dumps(payload)
    return token


def snooze_url(base_url: str, key: bytes, grant: SnoozeGrant) -> str:
    """Return the link under `base_url` that snoozes the grant's follow-up."""
    token = quote(sign_grant(key, grant), safe="")
    return (
        f"{base_url.rstrip('/')}/digest/follow-ups/{grant.follow_up_id}/snooze"
        f"?token={token}"
    )


def read_grant(
    key: bytes, token: str, follow_up_id: int, now: dt.datetime
) -> SnoozeGrant:
    """Verify a link's token for `follow_up_id` and return what it grants.

    Raises SnoozeLinkError with status 400 for a token that is malformed or
    not signed with `key`, and 403 for one that expired or names another
    follow-up.
    """
    try:
        payload: Any = _serializer(key).loads(token)
        workspace_id, staff_id, granted_id, period, expires = payload
        grant = SnoozeGrant(
            workspace_id=int(workspace_id),
            staff_member_id=int(staff_id),
            follow_up_id=int(granted_id),
            period=str(period),
            expires_at=dt.datetime.fromtimestamp(int(expires), dt.UTC),
        )
    except (BadSignature, TypeError, ValueError) as error:
        raise SnoozeLinkError(
            "This snooze link is invalid or was changed; use the links in your "
            "latest digest.",
            400,
        ) from error
    if grant.period not in PERIODS:
        raise SnoozeLinkError(f"Unknown snooze period {grant.period!r}.", 400)
    if grant.follow_up_id != follow_up_id:
        raise SnoozeLinkError(
            f"This snooze link is for another follow-up, not {follow_up_id}.", 403
        )
    if now >= grant.expires_at:
        raise SnoozeLinkError(
            f"This snooze link expired on {grant.expires_at:%Y-%m-%d %H:%M} UTC; "
            "use the links in your latest digest or 'warmline followups snooze'.",
            403,
        )
    return grant


def token_id(token: str) -> str:
    """Return the short hash of a token that audit records store."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:16]


def granted_follow_up(
    session: Session, grant: SnoozeGrant
) -> tuple[Workspace, StaffMember, FollowUp]:
    """Load the grant's follow-up; raise SnoozeLinkError unless it is the staff
    member's own follow-up in the grant's workspace."""
    follow_up = session.get(FollowUp, grant.follow_up_id)
    member = session.get(StaffMember, grant.staff_member_id)
    if follow_up is None or member is None:
        raise SnoozeLinkError(f"Follow-up {grant.follow_up_id} not found.", 404)
    if (
        follow_up.workspace_id != grant.workspace_id
        or member.workspace_id != grant.workspace_id
        or follow_up.staff_member_id != member.id
    ):
        raise SnoozeLinkError(
            f"Follow-up {grant.follow_up_id} is not assigned to the staff member "
            "this link was sent to.",
            403,
        )
    return session.get_one(Workspace, grant.workspace_id), member, follow_up


def snooze_by_link(
    session: Session, grant: SnoozeGrant, token: str, now: dt.datetime
) -> SnoozeResult:
    """Snooze the grant's follow-up as 'warmline followups snooze' does, once.

    A second use of the same token changes nothing and returns the follow-up
    with `repeated` set.  Raises SnoozeLinkError as granted_follow_up does,
    and ReminderError when the follow-up is no longer open.
    """
    workspace, member, follow_up = granted_follow_up(session, grant)
    target = f"follow_up:{follow_up.id}"
    used = token_id(token)
    for details in session.scalars(
        select(AuditRecord.details).where(
            AuditRecord.workspace_id == workspace.id,
            AuditRecord.action == SNOOZE_ACTION,
            AuditRecord.target == target,
        )
    ):
        if details.get("link") == used:
            view = follow_up_views(session, workspace, ids=[follow_up.id])[0]
            return SnoozeResult(view, repeated=True)
    today = now.astimezone(zoneinfo.ZoneInfo(member.timezone)).date()
    view = snooze_follow_up(session, workspace, follow_up.id, grant.period, today)
    details = {"period": grant.period, "via": "digest link", "link": used}
    audit.record(
        session, member.email, SNOOZE_ACTION, target, details, workspace=workspace
    )
    return SnoozeResult(view, repeated=False)
