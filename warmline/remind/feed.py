"""Secret iCalendar feeds: each staff member's open follow-ups as all-day events.

Any calendar app can subscribe to a feed URL, so the URL itself is the
credential.  Its token has 256 random bits.  The database stores the
token's SHA-256 hash, which requests are checked against, and a Fernet copy
of the token, so that the URL can be printed again.  Rotating replaces both,
and the old URL stops working at once because nothing caches a feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from reminders import Reason, sections
from warmline.models import StaffMember, Workspace
from warmline.remind.errors import ReminderError
from warmline.remind.followups import FollowUpView, follow_up_views
from warmline.remind.models import StaffFeed
from warmline.secrets import SecretBox
from warmline.workspaces import workspace_settings

TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
"""Shape of a token from secrets.token_urlsafe(TOKEN_BYTES)."""

PRODUCT_ID = "-//Warmline//Follow-up feed//EN"
SUMMARY_PREFIXES = {
    Reason.COLD.value: "Get back in touch",
    Reason.CLOSE_LOOP.value: "Report back",
    Reason.THANK_YOU.value: "Say thank you",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def feed_url(
    session: Session,
    workspace: Workspace,
    member: StaffMember,
    box: SecretBox,
    *,
    rotate: bool = False,
) -> tuple[str, bool]:
    """Return a staff member's feed URL and whether a new token was made.

    A token is made on first use and when `rotate` is true; otherwise the
    stored one is decrypted.  Raises ReminderError when feed_base_url is
    not set.
    """
    base = workspace_settings(session, workspace)["feed_base_url"]
    if not base:
        raise ReminderError(
            "feed_base_url is not set; run 'warmline config set feed_base_url "
            "https://HOST' with the review site's address"
        )
    feed = session.scalar(
        select(StaffFeed).where(StaffFeed.staff_member_id == member.id)
    )
    made = feed is None or rotate
    if feed is None:
        feed = StaffFeed(workspace_id=workspace.id, staff_member_id=member.id)
        session.add(feed)
    if made:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        feed.token_hash = token_hash(token)
        feed.token = box.encrypt(token)
        feed.created_at = dt.datetime.now(dt.UTC)
    else:
        token = box.decrypt(feed.token)
    session.flush()
    return f"{base.rstrip('/')}/feeds/{token}.ics", made


def find_feed(session: Session, token: str) -> StaffFeed | None:
    """Return the feed whose token is `token`, or None.

    The row is found by the token's hash, so the lookup's timing depends on
    the hash and not on how much of a guessed token is right.  The final
    comparison is constant-time as well.
    """
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    wanted = token_hash(token)
    feed = session.scalar(select(StaffFeed).where(StaffFeed.token_hash == wanted))
    if feed is None or not hmac.compare_digest(feed.token_hash, wanted):
        return None
    return feed


def feed_calendar(session: Session, feed: StaffFeed, now: dt.datetime) -> bytes:
    """Build the iCalendar file of the feed's staff member's open follow-ups."""
    member = session.get_one(StaffMember, feed.staff_member_id)
    workspace = session.get_one(Workspace, feed.workspace_id)
    views = follow_up_views(
        session, workspace, staff_email=member.email, open_only=True
    )
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Warmline follow-ups: {member.name}")
    for view in views:
        calendar.add_component(_event(view, workspace, now))
    body: bytes = calendar.to_ical()
    return body


def follow_up_uid(workspace: Workspace, follow_up_id: int) -> str:
    """Return the feed event's UID, the same for a follow-up on every fetch."""
    return f"follow-up-{workspace.id}-{follow_up_id}-feed@warmline"


def _event(
    view: FollowUpView, workspace: Workspace, now: dt.datetime
) -> icalendar.Event:
    source = sections.source_label(view.source, view.practice)
    prefix = SUMMARY_PREFIXES.get(view.reason, view.reason)
    event = icalendar.Event()
    event.add("uid", follow_up_uid(workspace, view.follow_up_id))
    event.add("dtstamp", now)
    # An all-day event: a follow-up is due on a day, not at a time.
    event.add("dtstart", view.due_on)
    event.add("dtend", view.due_on + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("summary", f"{prefix}: {source}")
    description = f"{view.note}\n\n" if view.note else ""
    event.add(
        "description",
        f"{description}Warmline follow-up {view.follow_up_id}. Mark it done "
        f"with 'warmline followups done {view.follow_up_id}'.",
    )
    return event
