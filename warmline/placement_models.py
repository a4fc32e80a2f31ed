"""Table of follow-up placements: which event on which calendar stands for
which follow-up.

One row per follow-up and calendar account.  A row outlives its follow-up
(`follow_up_id` becomes null when the follow-up row is deleted) so that the
next placement pass still removes the event.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models import Base, utcnow


class FollowUpPlacement(Base):
    """A follow-up's event on one calendar account, or why it has none."""

    __tablename__ = "follow_up_placement"
    __table_args__ = (UniqueConstraint("follow_up_id", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    follow_up_id: Mapped[int | None] = mapped_column(
        ForeignKey("follow_up.id", ondelete="SET NULL"), index=True
    )
    account_id: Mapped[int] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(
        String(200),
        comment="Warmline's key on the event: extended property, transactionId or UID",
    )
    status: Mapped[str] = mapped_column(
        String(16),
        comment="placed; unplaced (no free slot or a failure, see detail); "
        "deleted_by_staff (never placed again)",
    )
    event_id: Mapped[str | None] = mapped_column(
        String(1000), comment="provider's event id, or the CalDAV resource path"
    )
    starts_at: Mapped[dt.datetime | None] = mapped_column(
        comment="the event's start as last seen or written"
    )
    ends_at: Mapped[dt.datetime | None]
    due_on: Mapped[dt.date | None] = mapped_column(
        Date, comment="the follow-up's due date the slot was chosen for"
    )
    moved_by_staff: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        comment="a person moved the event; Warmline no longer changes its times",
    )
    text_hash: Mapped[str] = mapped_column(
        String(64), default="", comment="SHA-256 of the title and description written"
    )
    detail: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
