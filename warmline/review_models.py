"""Database models of what people taught the matcher by reviewing.

A rejection leaves exclusions: pairs of a correspondent (an address, or a
meeting title or location) and a practice that the matcher must not propose
again.  Suggestions of new sources that a person accepted or dismissed are
remembered so that they are not offered twice.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models import Base, utcnow


class MatchExclusion(Base):
    """A correspondent that must not link to a practice again."""

    __tablename__ = "match_exclusion"
    __table_args__ = (UniqueConstraint("workspace_id", "practice_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("referral_source.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(
        String(1000),
        comment="address:<address>, title:<folded title> or location:<folded text>",
    )
    created_by: Mapped[str] = mapped_column(
        String(200), comment="web:<user id> or cli:<system user>"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SuggestionAction(enum.StrEnum):
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


class SuggestionDecision(Base):
    """A person's answer to a suggested source, so it is not suggested again."""

    __tablename__ = "source_suggestion_decision"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    key: Mapped[str] = mapped_column(
        String(400), comment="domain:<domain> or address:<address>"
    )
    action: Mapped[SuggestionAction] = mapped_column(
        Enum(
            SuggestionAction,
            name="suggestion_action",
            native_enum=False,
            length=32,
            values_callable=lambda kinds: [k.value for k in kinds],
        )
    )
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_source.id", ondelete="SET NULL"),
        comment="the source an accepted suggestion created",
    )
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
