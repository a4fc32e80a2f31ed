"""Models of the Celery runtime: the leases that keep work exclusive.

A lease row is created on first use and never deleted, so acquiring a lease
is one atomic UPDATE of an existing row on SQLite and PostgreSQL alike
(see warmline.leases).  The row also counts the consecutive failed
attempts of the work it guards, which is how a sync that keeps failing, or
keeps killing its worker, is parked instead of retried forever.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models import Base


class WorkerLease(Base):
    """An expiring claim on one unit of work, such as one account's sync."""

    __tablename__ = "worker_lease"

    key: Mapped[str] = mapped_column(
        String(200), primary_key=True, comment="what is guarded: sync:account:42"
    )
    holder: Mapped[str | None] = mapped_column(
        String(200), comment="Celery task id of the holder; null once released"
    )
    token: Mapped[str | None] = mapped_column(
        String(32), comment="random per acquisition; renew and release must match"
    )
    worker: Mapped[str | None] = mapped_column(
        String(300), comment="host name and process id of the holder, for people"
    )
    acquired_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime] = mapped_column(
        comment="free to take after this unless renewed; database clock on PostgreSQL"
    )
    failures: Mapped[int] = mapped_column(
        Integer,
        default=0,
        comment="consecutive failed attempts, lost workers included; 0 after a success",
    )
    last_error: Mapped[str | None] = mapped_column(Text)
