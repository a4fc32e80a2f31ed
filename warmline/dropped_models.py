"""Models of the items a sync dropped before storing them.

The pipeline drops an activity with a blocklisted participant before it
writes anything about it, so no activity row can count it.  One
`DroppedItem` row per account and provider key records the drop instead.
The row is written in the transaction that moves the account's cursor past
the item, so a batch that rolls back records nothing.  The unique key makes a
re-read harmless: a retried batch, a reset cursor or a replaced file reads the
same items again and adds no row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from warmline.models import Base, utcnow
from warmline.store import insert_ignoring_conflicts

BLOCKLISTED = "blocklisted"
"""Reason of an activity with a participant on the workspace's blocklist."""


class DroppedItem(Base):
    """One item an account's sync dropped before storage, and why."""

    __tablename__ = "dropped_item"
    __table_args__ = (UniqueConstraint("account_id", "provider_key_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE")
    )
    provider_key_sha256: Mapped[str] = mapped_column(
        String(64),
        comment="SHA-256 of the provider key in hex; the key itself is not kept",
    )
    reason: Mapped[str] = mapped_column(String(40))
    dropped_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def key_digest(provider_key: str) -> str:
    """Return the hex SHA-256 of a provider key, as `DroppedItem` stores it."""
    return hashlib.sha256(provider_key.encode("utf-8")).hexdigest()


def record_dropped(
    session: Session, account_id: int, provider_keys: Iterable[str], reason: str
) -> None:
    """Insert a `DroppedItem` per provider key, skipping those already recorded."""
    now = utcnow()
    rows = {
        digest: {
            "account_id": account_id,
            "provider_key_sha256": digest,
            "reason": reason,
            "dropped_at": now,
        }
        for digest in map(key_digest, provider_keys)
    }
    if rows:
        statement = insert_ignoring_conflicts(session, DroppedItem)
        session.execute(statement, list(rows.values()))
