"""Models of the Gmail daily quota tally that first syncs are scheduled under.

Google counts Gmail quota units per Cloud project per day.  One row contains
what one account's syncs spent in one project on one quota day, and the
estimate reserved when its first sync was admitted that day (see
warmline.providers.gmail_schedule).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from warmline.models import Base, utcnow


class GmailQuotaUsage(Base):
    """Gmail quota units that one account spent in one project on one day."""

    __tablename__ = "gmail_quota_usage"
    __table_args__ = (UniqueConstraint("project_id", "day", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[str] = mapped_column(
        String(200), comment="Google Cloud project of the account's OAuth client"
    )
    day: Mapped[dt.date] = mapped_column(
        Date, comment="quota day, in google_quota_day_timezone"
    )
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("account.id", ondelete="SET NULL"),
        comment="null once the account is removed; its units still count",
    )
    units: Mapped[int] = mapped_column(
        Integer, default=0, comment="units spent by every sync of the day"
    )
    first_sync_units: Mapped[int] = mapped_column(
        Integer, default=0, comment="the part of units spent listing the mailbox"
    )
    reserved: Mapped[int] = mapped_column(
        Integer,
        default=0,
        comment="estimated units of the first sync admitted this day; "
        "0 when none was admitted or once it finished",
    )
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
