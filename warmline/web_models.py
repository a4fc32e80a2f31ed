"""Database models of the review site: users, sessions, sign-in failures,
uploaded source files and the record of review decisions.

Each row belongs to one workspace, directly or through its user, so the site
can scope every query to the signed-in user's workspace.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from warmline.models import Base, TouchpointStatus, Workspace, utcnow


class WebRole(enum.StrEnum):
    """Permission level of a web user: members review, admins also import."""

    ADMIN = "admin"
    MEMBER = "member"


class UploadKind(enum.StrEnum):
    """The contents of an uploaded CSV file: referral sources or referrals."""

    SOURCES = "sources"
    REFERRALS = "referrals"


class DecisionAction(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    REASSIGN = "reassign"


def _string_enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings, as in warmline.models, so a new value needs no
    # ALTER TYPE on PostgreSQL.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=32,
        values_callable=lambda kinds: [k.value for k in kinds],
    )


class WebUser(Base):
    """A person who signs in to the review site of one workspace."""

    __tablename__ = "web_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    email: Mapped[str] = mapped_column(
        String(320), unique=True, comment="lower case; the sign-in name"
    )
    password_hash: Mapped[str] = mapped_column(Text, comment="argon2id PHC string")
    role: Mapped[WebRole] = mapped_column(_string_enum(WebRole, "web_role"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_sign_in_at: Mapped[dt.datetime | None]

    workspace: Mapped[Workspace] = relationship()


class WebSession(Base):
    """A signed-in browser session: the cookie contains the token, the row its hash."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("web_user.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(
        String(64), unique=True, comment="SHA-256 hex of the cookie's random token"
    )
    csrf_token: Mapped[str] = mapped_column(
        String(64), comment="sent back in every form and unsafe API request"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]

    user: Mapped[WebUser] = relationship()


class LoginFailure(Base):
    """One failed sign-in, counted per address and per client for rate limits."""

    __tablename__ = "web_login_failure"
    __table_args__ = (
        Index("ix_web_login_failure_email_failed", "email", "failed_at"),
        Index("ix_web_login_failure_client_failed", "client_address", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(
        String(320), comment="the address typed, lower case, known user or not"
    )
    client_address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SourceUpload(Base):
    """A sources or referrals CSV uploaded for preview, kept after its import."""

    __tablename__ = "web_source_upload"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_user.id", ondelete="SET NULL")
    )
    kind: Mapped[UploadKind] = mapped_column(
        _string_enum(UploadKind, "upload_kind"), server_default=UploadKind.SOURCES
    )
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[str] = mapped_column(Text, comment="the file as UTF-8 text")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    imported_at: Mapped[dt.datetime | None]
    summary: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="created, updated and unchanged counts of the import"
    )


class TouchpointDecision(Base):
    """A person's confirmation, rejection or reassignment of a touchpoint.

    Written for every decision made on the site, including those whose user
    matches no staff member and so leaves Touchpoint.decided_by empty.
    """

    __tablename__ = "touchpoint_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    touchpoint_id: Mapped[int] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("web_user.id", ondelete="SET NULL")
    )
    staff_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id"), comment="the user's staff member, if any"
    )
    action: Mapped[DecisionAction] = mapped_column(
        _string_enum(DecisionAction, "decision_action")
    )
    previous_status: Mapped[TouchpointStatus | None] = mapped_column(
        _string_enum(TouchpointStatus, "touchpoint_status"),
        comment="null when the decision created the touchpoint",
    )
    status: Mapped[TouchpointStatus] = mapped_column(
        _string_enum(TouchpointStatus, "touchpoint_status")
    )
    reassigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="SET NULL"),
        comment="for a reassignment to another practice: the new touchpoint",
    )
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[WebUser | None] = relationship()
