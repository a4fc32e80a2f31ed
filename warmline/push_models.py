"""Models of push notifications: provider subscriptions and requested syncs.

A `PushSubscription` row is one channel through which a provider notifies
Warmline that an account changed: a Gmail watch (users.watch on a Pub/Sub
topic) or a Microsoft Graph subscription to an Outlook account's messages or
events.  A `SyncRequest` row says that a notification asked for a sync of
its account that has not run yet; see warmline.push for how it is consumed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models import Base, utcnow


class PushSubscription(Base):
    """A Gmail watch or a Graph subscription that notifies about one account."""

    __tablename__ = "push_subscription"
    __table_args__ = (
        UniqueConstraint("account_id", "kind", "resource"),
        UniqueConstraint("subscription_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), comment="gmail_watch or graph")
    resource: Mapped[str] = mapped_column(
        String(500), comment="Graph resource path, or the Gmail Pub/Sub topic"
    )
    subscription_id: Mapped[str | None] = mapped_column(
        String(200), comment="Graph subscription id; null for a Gmail watch"
    )
    client_state: Mapped[str | None] = mapped_column(
        Text, comment="Fernet token of the Graph clientState secret"
    )
    history_id: Mapped[str | None] = mapped_column(
        String(32), comment="Gmail historyId that users.watch returned"
    )
    expires_at: Mapped[dt.datetime] = mapped_column(
        comment="when the provider stops notifying unless renewed"
    )
    renewed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)


class SyncRequest(Base):
    """A sync of the account that a notification asked for and no sync has done."""

    __tablename__ = "sync_request"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    generation: Mapped[int] = mapped_column(
        Integer, comment="raised by every request; a sync clears only what it saw"
    )
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[dt.datetime | None] = mapped_column(
        comment="when a Celery task was last sent for it; null in the embedded mode"
    )
    reason: Mapped[str] = mapped_column(String(64))
