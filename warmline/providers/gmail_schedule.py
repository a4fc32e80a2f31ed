"""First Gmail syncs spread under the per-project daily quota.

Google counts Gmail quota units per Cloud project per day as well as per
user per minute.  For projects created on or after 1 May 2026, Google's
Gmail API usage limits page
(developers.google.com/workspace/gmail/api/reference/quota) names a daily
billing threshold of 80,000,000 units per project, beyond which charges
apply.  A first sync lists the whole mailbox and fetches every message, so
a practice that connects many staff at once could spend a day's units in a
few hours.  An incremental sync costs a few units.

This module keeps a tally of the units each Gmail account's syncs spent per
project and quota day (`GmailQuotaUsage`), and admits a first sync only
while its estimated cost fits in what the project has left of
google_project_daily_units that day:

- an account needs a first sync while it has no cursor, or while its
  cursor is still in a full listing;
- first syncs are admitted in a stable order, oldest-connected account
  first (`Account.created_at`, then id).  A younger account never overtakes
  an older one that is waiting, so a large mailbox is not starved by small
  ones;
- an admitted first sync reserves its estimate for the rest of the day, or
  until it finishes, so that the next admission counts it before it has
  spent anything.  The day's spending is the sum over accounts of the
  larger of units spent and units reserved;
- a first sync whose estimate exceeds the whole daily budget is admitted
  when it is next in line, no other first sync ran that day and the day's
  budget is not spent yet; it continues on the following days;
- the others are deferred until the next quota day starts;
- incremental syncs of accounts already synced always run, and their units
  count against the day.

Estimates: users.getProfile reports the mailbox size (messagesTotal, spam
and trash included, so the estimate is high rather than low).  The size is
stored in the account's options at connect time, refreshed by every full
listing, and measured with one users.getProfile call when missing.  A
listing in progress is charged only what is left of its estimate.

The project of an account is `project_id` in its options, taken from the
OAuth client or service account key when it was connected; accounts
connected before that share the project "default".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import zlib
import zoneinfo
from collections.abc import Callable, Sequence

import structlog
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from connectors.google import GmailCursor, QuotaRegime, ReadStats
from warmline.db import insert_for
from warmline.models import Account, AccountStatus, utcnow
from warmline.quota_models import GmailQuotaUsage
from warmline.readers import ReaderServices
from warmline.sync_admission import Deferral

log = structlog.get_logger(__name__)

GMAIL_PROVIDER = "gmail"
DEFAULT_PROJECT = "default"

MeasureMailbox = Callable[[ReaderServices, int], int | None]
"""Return an account's mailbox size (users.getProfile), or None if it failed."""


@dataclasses.dataclass(frozen=True)
class DailyBudget:
    """The per-project daily budget and what a first sync's calls cost."""

    units: int
    time_zone: str
    regime: QuotaRegime
    list_page_size: int

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def day(self, moment: dt.datetime) -> dt.date:
        """Return the quota day that `moment` (aware) falls on."""
        # NOTE: Google's Gmail page names only "a 24-hour period".  A day
        # that starts at midnight Pacific time, as other Google daily quotas
        # do, is an assumption; google_quota_day_timezone changes the zone.
        return moment.astimezone(self.zone).date()

    def next_day_start(self, moment: dt.datetime) -> dt.datetime:
        """Return when the quota day after `moment`'s starts, in UTC."""
        following = self.day(moment) + dt.timedelta(days=1)
        midnight = dt.datetime.combine(following, dt.time(), tzinfo=self.zone)
        return midnight.astimezone(dt.UTC)

    def first_sync_units(self, messages_total: int) -> int:
        """Estimate the units of a full listing of `messages_total` messages.

        One users.getProfile, one users.messages.list per page and one
        users.messages.get per message.  Retried calls cost again and are
        not counted.
        """
        pages = max(1, math.ceil(messages_total / self.list_page_size))
        return (
            self.regime.units("users.getProfile")
            + pages * self.regime.units("users.messages.list")
            + messages_total * self.regime.units("users.messages.get")
        )


def project_of(options: dict[str, object]) -> str:
    """Return the Google Cloud project that an account's grant belongs to."""
    return str(options.get("project_id") or DEFAULT_PROJECT)


def first_sync_since(cursor: str | None) -> tuple[bool, dt.datetime | None]:
    """Return whether a cursor needs a first sync, and when its listing began."""
    state = GmailCursor.load(cursor)
    if state is None:
        return True, None
    if state.mode == "full":
        return True, state.since
    return False, None


# --- the tally ----------------------------------------------------------------


def record_usage(
    sessions: sessionmaker[Session],
    account_id: int,
    budget: DailyBudget,
    stats: ReadStats,
) -> None:
    """Add one read's units to the account's row of the day.

    A finished full listing also ends the day's reservation, and a mailbox
    size that the read reported replaces the stored one.  A database error
    is logged and dropped, because the read itself succeeded or failed on
    its own and the tally is an estimate anyway.
    """
    # NOTE: a read that runs past midnight counts all its units on the day
    # it ends.
    try:
        with sessions.begin() as session:
            account = session.get(Account, account_id)
            if account is None:
                return
            project = project_of(account.options or {})
            row = _usage_row(session, project, budget.day(utcnow()), account_id)
            row.units += stats.quota_units
            if stats.full_listing:
                row.first_sync_units += stats.quota_units
            if stats.listing_finished:
                row.reserved = 0
            row.updated_at = utcnow()
            if stats.messages_total is not None:
                _store_size(account, stats.messages_total)
    except SQLAlchemyError as error:
        log.warning(
            "gmail quota usage not recorded",
            account_id=account_id,
            units=stats.quota_units,
            error=str(error),
        )


def _store_size(account: Account, messages_total: int) -> None:
    if (account.options or {}).get("messages_total") != messages_total:
        account.options = {**(account.options or {}), "messages_total": messages_total}


def _usage_row(
    session: Session, project: str, day: dt.date, account_id: int
) -> GmailQuotaUsage:
    """Return the row of (project, day, account), created when missing.

    INSERT ... ON CONFLICT DO NOTHING first, so two writers never both
    insert; on SQLite the insert also makes the transaction a writer, which
    serializes admissions.
    """
    values = {
        "project_id": project,
        "day": day,
        "account_id": account_id,
        "units": 0,
        "first_sync_units": 0,
        "reserved": 0,
        "updated_at": utcnow(),
    }
    session.execute(
        insert_for(session, GmailQuotaUsage).values(values).on_conflict_do_nothing()
    )
    row = session.scalars(
        select(GmailQuotaUsage)
        .where(
            GmailQuotaUsage.project_id == project,
            GmailQuotaUsage.day == day,
            GmailQuotaUsage.account_id == account_id,
        )
        .with_for_update()
    ).one()
    return row


def day_spent(session: Session, project: str, day: dt.date) -> tuple[int, int]:
    """Return the units counted against the day, and those of first syncs.

    The second figure, units reserved plus units spent listing mailboxes,
    is 0 until a first sync was admitted that day.
    """
    counted = func.coalesce(
        func.sum(
            func.max(GmailQuotaUsage.units, GmailQuotaUsage.reserved)
            if session.get_bind().dialect.name == "sqlite"
            else func.greatest(GmailQuotaUsage.units, GmailQuotaUsage.reserved)
        ),
        0,
    )
    first_syncs = func.coalesce(
        func.sum(GmailQuotaUsage.reserved + GmailQuotaUsage.first_sync_units), 0
    )
    row = session.execute(
        select(counted, first_syncs).where(
            GmailQuotaUsage.project_id == project, GmailQuotaUsage.day == day
        )
    ).one()
    return int(row[0]), int(row[1])


# --- admission ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Waiting:
    """An account of the project that waits for its first sync."""

    account_id: int
    messages_total: int | None
    listing_since: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class _Verdict:
    """The outcome of one admission: admit, reserving `estimate`, or defer."""

    left: int
    estimate: int | None = None
    reason: str | None = None


def _admitted_accounts(session: Session, project: str, day: dt.date) -> set[int]:
    """Return the accounts whose first sync has a reservation on `day`."""
    return {
        account_id
        for account_id in session.scalars(
            select(GmailQuotaUsage.account_id).where(
                GmailQuotaUsage.project_id == project,
                GmailQuotaUsage.day == day,
                GmailQuotaUsage.reserved > 0,
            )
        )
        if account_id is not None
    }


class GmailAdmission:
    """The admission check of gmail accounts (see the module docstring)."""

    def __init__(self, budget: DailyBudget, measure: MeasureMailbox) -> None:
        self.budget = budget
        self.measure = measure

    def __call__(self, services: ReaderServices, account_id: int) -> Deferral | None:
        # NOTE: an incremental sync whose history id has expired relists the
        # whole mailbox without admission, because only the read finds out.
        with services.sessions() as session:
            account = session.get_one(Account, account_id)
            needs_first, _since = first_sync_since(account.cursor)
            if not needs_first or account.status is not AccountStatus.ACTIVE:
                return None
            project = project_of(account.options or {})
        waiting = self._waiting(services, project)
        now = utcnow()
        with services.sessions.begin() as session:
            return self._decide(session, project, now, waiting, account_id)

    def _waiting(self, services: ReaderServices, project: str) -> list[_Waiting]:
        """List the project's accounts waiting for a first sync, in spread order.

        Sizes missing from the options are measured here, outside the
        deciding transaction, because measuring calls Google.
        """
        with services.sessions() as session:
            rows = session.execute(
                select(Account.id, Account.options, Account.cursor)
                .where(
                    Account.provider == GMAIL_PROVIDER,
                    Account.status == AccountStatus.ACTIVE,
                )
                .order_by(Account.created_at, Account.id)
            ).all()
        waiting = []
        for row in rows:
            options = row.options or {}
            needs_first, since = first_sync_since(row.cursor)
            if not needs_first or project_of(options) != project:
                continue
            size = options.get("messages_total")
            if size is None:
                size = self.measure(services, row.id)
            waiting.append(_Waiting(row.id, size, since))
        return waiting

    def _decide(
        self,
        session: Session,
        project: str,
        now: dt.datetime,
        waiting: Sequence[_Waiting],
        account_id: int,
    ) -> Deferral | None:
        """Admit `account_id` and reserve its estimate, or return its Deferral."""
        day = self.budget.day(now)
        _lock_project(session, project)
        own = _usage_row(session, project, day, account_id)
        if own.reserved > 0:
            return None  # admitted earlier today

        spent, first_syncs = day_spent(session, project, day)
        admitted = _admitted_accounts(session, project, day)
        queue = [
            item
            for item in waiting
            if item.account_id not in admitted
            and (item.messages_total is not None or item.account_id == account_id)
        ]
        verdict = self._judge(
            session, queue, account_id, self.budget.units - spent, first_syncs
        )

        if verdict.reason is not None:
            return self._deferral(now, project, verdict.reason, verdict.left)
        if verdict.estimate is not None:
            own.reserved = max(verdict.estimate, 1)
            log.info(
                "first gmail sync admitted",
                account_id=account_id,
                project=project,
                estimate=verdict.estimate,
                left=verdict.left,
            )
        return None

    def _judge(
        self,
        session: Session,
        queue: Sequence[_Waiting],
        account_id: int,
        left: int,
        first_syncs: int,
    ) -> _Verdict:
        """Walk the queue in spread order until `account_id`'s turn."""
        ahead = 0
        for position, item in enumerate(queue):
            if item.messages_total is None:
                # Unmeasurable: let the sync run and report why.
                return _Verdict(left)
            estimate = self._estimate(session, item)
            oversized = (
                estimate > self.budget.units
                and position == 0
                and first_syncs == 0
                and left > 0
            )
            fits = ahead + estimate <= left or oversized
            if item.account_id == account_id and fits:
                return _Verdict(left, estimate=estimate)
            if item.account_id == account_id:
                reason = f"the first Gmail sync needs about {estimate:,} units"
                if position:
                    reason += (
                        f" after the {position} account(s) connected earlier "
                        "that are admitted first"
                    )
                return _Verdict(left, reason=reason)
            if not fits:
                # The accounts behind a waiting one wait too.
                reason = (
                    f"{position + 1} account(s) connected earlier wait for their "
                    "first Gmail sync and go first"
                )
                return _Verdict(left, reason=reason)
            ahead += estimate
        return _Verdict(left)

    def _estimate(self, session: Session, item: _Waiting) -> int:
        assert item.messages_total is not None
        estimate = self.budget.first_sync_units(item.messages_total)
        if item.listing_since is None:
            return estimate
        spent = session.scalar(
            select(func.coalesce(func.sum(GmailQuotaUsage.first_sync_units), 0)).where(
                GmailQuotaUsage.account_id == item.account_id,
                GmailQuotaUsage.day >= self.budget.day(item.listing_since),
            )
        )
        return max(0, estimate - int(spent or 0))

    def _deferral(
        self, now: dt.datetime, project: str, reason: str, left: int
    ) -> Deferral:
        left_text = (
            f"{max(left, 0):,} of {self.budget.units:,} units are left today "
            f"in project {project}"
        )
        return Deferral(self.budget.next_day_start(now), f"{reason}; {left_text}")


def _lock_project(session: Session, project: str) -> None:
    """Serialize the admissions of one project across workers (PostgreSQL).

    On SQLite the first write of the transaction (`_usage_row`) does this,
    because SQLite admits one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"gmail-quota:{project}".encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
