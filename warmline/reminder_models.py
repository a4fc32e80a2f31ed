"""Tables of the reminders: follow-up details, digest sends, workspace secrets.

Two partial unique indexes make the reminders idempotent in the schema
rather than in code alone: a source has at most one open follow-up per
reason, and at most one referral row without an id per day.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warmline.models import Base, FollowUp, Referral, StaffMember, utcnow

_OPEN = text("status = 'open'")
_WITHOUT_ID = text("external_ref IS NULL")

Index(
    "uq_follow_up_open_source_reason",
    FollowUp.workspace_id,
    FollowUp.source_id,
    FollowUp.reason,
    unique=True,
    sqlite_where=_OPEN,
    postgresql_where=_OPEN,
)
Index(
    "uq_referral_source_day_without_ref",
    Referral.workspace_id,
    Referral.source_id,
    Referral.received_on,
    unique=True,
    sqlite_where=_WITHOUT_ID,
    postgresql_where=_WITHOUT_ID,
)


class FollowUpBasis(Base):
    """Reason a follow-up exists and the cause that closed it, one row each."""

    __tablename__ = "follow_up_basis"

    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("follow_up.id", ondelete="CASCADE"), primary_key=True
    )
    basis_at: Mapped[dt.datetime | None] = mapped_column(
        comment="cold: last touch when created; close_loop: earliest open "
        "referral; thank_you: the meeting's start"
    )
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activity.id", ondelete="SET NULL"),
        comment="the meeting a thank-you is for",
    )
    note: Mapped[str] = mapped_column(String(300), default="")
    closed_by: Mapped[str | None] = mapped_column(
        String(16), comment="touchpoint, staff or resolved"
    )

    follow_up: Mapped[FollowUp] = relationship()


class DigestSend(Base):
    """A claim on one staff member's digest for one local date.

    The row is committed before the message goes to the SMTP server, so a
    crash after that point can never lead to a second message that day.
    """

    __tablename__ = "digest_send"
    __table_args__ = (
        UniqueConstraint("workspace_id", "staff_member_id", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    local_date: Mapped[dt.date] = mapped_column(
        Date, comment="the date in the staff member's time zone"
    )
    status: Mapped[str] = mapped_column(
        String(16), comment="sending until the server accepted it, then sent"
    )
    message_id: Mapped[str] = mapped_column(String(300))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    staff_member: Mapped[StaffMember] = relationship()


class WorkspaceSecret(Base):
    """A workspace credential, such as the SMTP password, encrypted with Fernet."""

    __tablename__ = "workspace_secret"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    name: Mapped[str] = mapped_column(String(64))
    token: Mapped[str] = mapped_column(Text, comment="Fernet token of the value")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
