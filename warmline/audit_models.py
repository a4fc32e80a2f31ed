"""Models of data governance: the audit log and the monthly touch counts.

The audit log is append-only: the application inserts rows and never
updates or deletes them, and on PostgreSQL a trigger (migration
0004_privacy) rejects UPDATE and DELETE on the table.  Its details hold
ids, counts and setting names, never message content or addresses.

Retention deletes old activities and touchpoints but first adds them to
`TouchpointMonthCount`, so a source's history by month and its last touch
survive.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from warmline.models import Base, utcnow


class AuditLogError(RuntimeError):
    """An audit record was about to be changed or deleted, or has bad details."""


class AuditRecord(Base):
    """An audited action: who did it, when, and to what."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_workspace_occurred", "workspace_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(
        String(320), comment="staff member's email, or cli:<operating-system user>"
    )
    action: Mapped[str] = mapped_column(
        String(64), comment="dotted name such as account.remove or setting.change"
    )
    target: Mapped[str] = mapped_column(
        String(200), comment="kind:id of what was acted on, e.g. account:3"
    )
    details: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="ids, counts and names; never personal content"
    )


class TouchpointMonthCount(Base):
    """Confirmed touchpoints of one source in one month, kept after retention.

    A practice counts every touchpoint linked to it, and a provider or
    contact every touchpoint that counts for them (touchpoint_person), as in
    the cold list.  `direction` is '' for meetings.
    """

    __tablename__ = "touchpoint_month_count"
    __table_args__ = (
        UniqueConstraint("source_id", "month", "kind", "direction"),
        Index("ix_touchpoint_month_count_workspace_month", "workspace_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspace.id"))
    source_id: Mapped[int] = mapped_column(
        ForeignKey("referral_source.id", ondelete="CASCADE")
    )
    month: Mapped[dt.date] = mapped_column(Date, comment="first day of the month, UTC")
    kind: Mapped[str] = mapped_column(String(16), comment="email or meeting")
    direction: Mapped[str] = mapped_column(
        String(16), default="", comment="inbound, outbound, or '' for meetings"
    )
    count: Mapped[int] = mapped_column(Integer, default=0)
    last_touch_at: Mapped[dt.datetime] = mapped_column(
        comment="newest touch counted in this row"
    )


# Append-only guard: every Session rejects changes to audit records.


@event.listens_for(Session, "before_flush")
def _reject_changed_records(session: Session, _context: Any, _instances: Any) -> None:
    for instance in [*session.dirty, *session.deleted]:
        if isinstance(instance, AuditRecord) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AuditLogError(
                f"audit record {instance.id} cannot be changed or deleted; "
                "the audit log is append-only"
            )


@event.listens_for(Session, "do_orm_execute")
def _reject_bulk_statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditRecord:
        raise AuditLogError(
            "UPDATE and DELETE on audit_log are not allowed; the audit log is "
            "append-only"
        )
