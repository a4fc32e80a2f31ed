"""Database models for every glossary entity.

Every row belongs to exactly one workspace.  Idempotency lives in the schema:
an activity is unique on (workspace, kind, external id, occurrence), and its
sighting in one account is unique on (account, provider key), so re-running
a sync can only update rows, never add duplicates.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every backend.

    SQLite keeps no offset, so values are stored naive in UTC and come back
    aware; a naive value on the way in is a bug and raises.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; pass an aware UTC value")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}


class SourceKind(enum.StrEnum):
    PRACTICE = "practice"
    PROVIDER = "provider"
    CONTACT = "contact"


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    ERROR = "error"
    DISABLED = "disabled"


class TouchpointStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"


class FollowUpStatus(enum.StrEnum):
    OPEN = "open"
    DONE = "done"
    DISMISSED = "dismissed"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings so adding a value needs no ALTER TYPE.
    return Enum(
        kind,
        name=name,
        native_enum=False,
        length=32,
        values_callable=lambda kinds: [k.value for k in kinds],
    )


class Workspace(Base):
    __tablename__ = "workspace"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WorkspaceSetting(Base):
    """A workspace setting's stored value, as JSON; the table is in settings.py."""

    __tablename__ = "workspace_setting"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[Any] = mapped_column(JSON)


class StaffMember(Base):
    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    working_hours: Mapped[str | None] = mapped_column(
        String(200), comment="their own working hours; null: the workspace's"
    )
    addresses: Mapped[list[StaffAddress]] = relationship(
        back_populates="staff_member", cascade="all, delete-orphan"
    )


class StaffAddress(Base):
    """An address that is the staff member's own: primary address or alias."""

    __tablename__ = "staff_address"
    __table_args__ = (UniqueConstraint("workspace_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    address: Mapped[str] = mapped_column(String(320))
    staff_member: Mapped[StaffMember] = relationship(back_populates="addresses")


class Account(Base):
    """One connected mailbox or calendar, or an imported file, with its cursor."""

    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("workspace_id", "provider", "location"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    provider: Mapped[str] = mapped_column(
        String(32), comment="mbox, eml, ics; later gmail, outlook, imap, caldav"
    )
    location: Mapped[str] = mapped_column(
        String(1000), comment="absolute path of the file or folder, or a mailbox id"
    )
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cursor: Mapped[str | None] = mapped_column(
        Text, comment="connector-defined; saved only after its batch commits"
    )
    status: Mapped[AccountStatus] = mapped_column(
        _enum(AccountStatus, "account_status"), default=AccountStatus.ACTIVE
    )
    secret: Mapped[str | None] = mapped_column(
        Text, comment="Fernet token of the credential (password or token cache)"
    )
    last_sync_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    staff_member: Mapped[StaffMember] = relationship()


class ReferralSource(Base):
    """A practice, or a provider or contact at one (single-table inheritance)."""

    __tablename__ = "referral_source"
    __table_args__ = (
        Index("ix_referral_source_workspace_kind", "workspace_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    kind: Mapped[SourceKind] = mapped_column(_enum(SourceKind, "source_kind"))
    name: Mapped[str] = mapped_column(String(300))
    practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_source.id"), comment="null for a practice"
    )
    title: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(500))
    npi: Mapped[str | None] = mapped_column(String(10))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    cadence_days: Mapped[int | None]
    import_key: Mapped[str] = mapped_column(
        String(700), comment="normalized kind/practice/name that re-imports match on"
    )
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    phones: Mapped[list[str]] = mapped_column(JSON, default=list)
    aliases: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="other names, from the sources CSV"
    )
    learned: Mapped[dict[str, list[str]]] = mapped_column(
        JSON,
        default=dict,
        comment="{emails, domains, aliases} taught by review decisions; "
        "a CSV re-import leaves them",
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    practice: Mapped[ReferralSource | None] = relationship(remote_side=[id])
    owner: Mapped[StaffMember | None] = relationship()

    def known(self, field: str) -> list[str]:
        """Return the listed and learned "emails", "domains" or "aliases"."""
        listed: list[str] = getattr(self, field) or []
        learned = (self.learned or {}).get(field, [])
        return list(dict.fromkeys([*listed, *learned]))

    def learn(self, field: str, value: str) -> bool:
        """Add a value a review decision taught; return False if already known."""
        if value in self.known(field):
            return False
        learned = dict(self.learned or {})
        learned[field] = [*learned.get(field, []), value]
        self.learned = learned
        self.updated_at = utcnow()
        return True

    __mapper_args__ = {"polymorphic_on": "kind"}


class Practice(ReferralSource):
    __mapper_args__ = {"polymorphic_identity": SourceKind.PRACTICE}


class Provider(ReferralSource):
    __mapper_args__ = {"polymorphic_identity": SourceKind.PROVIDER}


class Contact(ReferralSource):
    __mapper_args__ = {"polymorphic_identity": SourceKind.CONTACT}


class Activity(Base):
    """One email or meeting occurrence, as metadata; never a body."""

    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "external_id", "occurrence_key"),
        Index("ix_activity_workspace_occurred", "workspace_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    kind: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(
        String(998), comment="Message-ID without brackets, or the event UID"
    )
    occurrence_key: Mapped[str] = mapped_column(
        String(32), default="", comment="occurrence in ISO 8601 UTC, '' if single"
    )
    occurrence: Mapped[dt.datetime | None]
    occurred_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime | None]
    subject: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(1000))
    thread_id: Mapped[str | None] = mapped_column(String(998))
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    direction: Mapped[str | None] = mapped_column(
        String(16), comment="inbound or outbound for mail, null for meetings"
    )
    staff_member_id: Mapped[int] = mapped_column(
        ForeignKey("staff_member.id"),
        comment="the sender if a staff member sent it, else the first account's owner",
    )
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    defects: Mapped[list[str]] = mapped_column(JSON, default=list)
    dropped: Mapped[str | None] = mapped_column(
        String(32), comment="why it yields no touchpoint: internal, bulk, ..."
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    participants: Mapped[list[ActivityParticipant]] = relationship(
        cascade="all, delete-orphan", order_by="ActivityParticipant.id"
    )
    staff_member: Mapped[StaffMember] = relationship()


class ActivityParticipant(Base):
    __tablename__ = "activity_participant"
    __table_args__ = (UniqueConstraint("activity_id", "role", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    response: Mapped[str | None] = mapped_column(String(32))


class AccountActivity(Base):
    """One account's sighting of an activity, keyed by the provider's id."""

    __tablename__ = "account_activity"
    __table_args__ = (UniqueConstraint("account_id", "provider_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    provider_key: Mapped[str] = mapped_column(String(1000))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class QuarantinedItem(Base):
    """An item a connector could not read, kept with its reason, never content."""

    __tablename__ = "quarantined_item"
    __table_args__ = (UniqueConstraint("account_id", "provider_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    provider_key: Mapped[str] = mapped_column(String(1000))
    reason: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Touchpoint(Base):
    """An activity linked to one practice, with confidence and reasons."""

    __tablename__ = "touchpoint"
    __table_args__ = (
        UniqueConstraint("activity_id", "practice_id"),
        Index("ix_touchpoint_practice_status", "practice_id", "status"),
        Index("ix_touchpoint_practice_occurred", "practice_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE")
    )
    practice_id: Mapped[int] = mapped_column(ForeignKey("referral_source.id"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("referral_source.id"), comment="best-matched provider or contact"
    )
    confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[TouchpointStatus] = mapped_column(
        _enum(TouchpointStatus, "touchpoint_status")
    )
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, comment="[{signal, detail, score}] as the matcher gave them"
    )
    decided_by: Mapped[int | None] = mapped_column(
        ForeignKey("staff_member.id"), comment="set when a person confirmed or rejected"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        comment="its activity's time, copied so that a source's timeline is "
        "read in order from an index; warmline.store keeps it when the time moves"
    )

    activity: Mapped[Activity] = relationship()
    practice: Mapped[ReferralSource] = relationship(foreign_keys=[practice_id])
    person: Mapped[ReferralSource | None] = relationship(foreign_keys=[person_id])
    people: Mapped[list[TouchpointPerson]] = relationship(cascade="all, delete-orphan")


@event.listens_for(Touchpoint, "before_insert")
def _copy_activity_time(_mapper: Any, _connection: Any, target: Touchpoint) -> None:
    """Fill a new touchpoint's occurred_at from its activity, in the INSERT itself."""
    if target.occurred_at is not None:
        return
    activity = target.__dict__.get("activity")
    if activity is not None and activity.occurred_at is not None:
        target.occurred_at = activity.occurred_at
        return
    target.occurred_at = (
        select(Activity.occurred_at)
        .where(Activity.id == target.activity_id)
        .scalar_subquery()
    )


class TouchpointPerson(Base):
    """Every person a touchpoint counts for, directly or through a contact."""

    __tablename__ = "touchpoint_person"
    __table_args__ = (UniqueConstraint("touchpoint_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    touchpoint_id: Mapped[int] = mapped_column(
        ForeignKey("touchpoint.id", ondelete="CASCADE")
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("referral_source.id"), index=True)
    direct: Mapped[bool] = mapped_column(
        Boolean, comment="false when counted through a contact who works for them"
    )


class Referral(Base):
    """Referrals received from a source: counts and dates, no patient details."""

    __tablename__ = "referral"
    __table_args__ = (UniqueConstraint("workspace_id", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("referral_source.id"))
    received_on: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=1)
    external_ref: Mapped[str | None] = mapped_column(
        String(200), comment="an opaque referral id from the practice's system"
    )
    closed_at: Mapped[dt.datetime | None] = mapped_column(
        comment="when the outcome was sent back to the source"
    )


class FollowUp(Base):
    """A task for a staff member about a source, maybe placed on a calendar."""

    __tablename__ = "follow_up"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("referral_source.id"))
    staff_member_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    reason: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[FollowUpStatus] = mapped_column(
        _enum(FollowUpStatus, "follow_up_status"), default=FollowUpStatus.OPEN
    )
    calendar_event_id: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
