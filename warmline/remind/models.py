"""Tables of the follow-up feeds: one secret iCalendar feed per staff member."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models import Base, utcnow


class StaffFeed(Base):
    """The secret token in a staff member's follow-up feed URL.

    The feed is served to whoever presents the token, so only its SHA-256
    hash is looked up; the token itself is kept encrypted, so that
    `warmline staff feed` can print the URL again without rotating it.
    """

    __tablename__ = "staff_feed"
    __table_args__ = (
        UniqueConstraint("staff_member_id"),
        UniqueConstraint("token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    staff_member_id: Mapped[int] = mapped_column(
        ForeignKey("staff_member.id", ondelete="CASCADE")
    )
    token_hash: Mapped[str] = mapped_column(
        String(64), comment="SHA-256 of the URL token, hexadecimal"
    )
    token: Mapped[str] = mapped_column(Text, comment="Fernet token of the URL token")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
