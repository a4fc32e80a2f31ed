"""Forgetting on request and by age: account purge, source removal, retention.

Each service works inside the caller's transaction and adds an audit
record to it, so the change and its record commit together.  Work outside
the database, such as revoking a provider's tokens, runs only after the
commit (`revoke_credential`), and its failure leaves the purge in place.

- `remove_account`: disable an account, or purge it: its sightings,
  quarantined items, cursor and credential go, and so do the activities no
  other account saw, with their participants and touchpoints.
- `remove_source`: delete a referral source, and for a practice its
  providers and contacts, with their touchpoints deleted or unlinked.
- `apply_retention`: delete activities older than the workspace's
  `retention_months`, after adding their confirmed touchpoints to the
  monthly counts in `touchpoint_month_count`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import structlog
from sqlalchemy import Column, delete, func, or_, select, update
from sqlalchemy.orm import Session

from connectors import ScopeListed
from warmline import audit, last_touch, store, touch_counts
from warmline.audit_models import TouchpointMonthCount
from warmline.db import chunks, utc_aware
from warmline.models import (
    Account,
    AccountActivity,
    AccountStatus,
    Activity,
    Base,
    QuarantinedItem,
    ReferralSource,
    SourceKind,
    Touchpoint,
    TouchpointPerson,
    TouchpointStatus,
    Workspace,
)
from warmline.secrets import SecretBox, SecretKeyError
from warmline.workspaces import workspace_settings

log = structlog.get_logger(__name__)

CHUNK = 500
"""Activities aggregated and deleted per statement by retention."""


class PrivacyError(ValueError):
    """A removal or retention run cannot be done as requested."""


# --- accounts ----------------------------------------------------------------------


@dataclasses.dataclass
class AccountRemoval:
    """Result of `remove_account`: counts, and the credential left to revoke."""

    account_id: int
    provider: str
    purged: bool
    sightings: int = 0
    activities: int = 0
    quarantined: int = 0
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    credential: str | None = dataclasses.field(default=None, repr=False)
    """The account's own stored credential, still encrypted."""


class RevocationOutcome(enum.StrEnum):
    """Outcome of revoking a purged account's grant at its provider."""

    REVOKED = "revoked"
    """The provider confirmed that the grant ended, or had already ended."""
    NOT_SUPPORTED = "not_supported"
    """The provider offers no revocation to Warmline; a person must act."""
    FAILED = "failed"
    """The revocation request failed; the grant may still be valid."""
    SKIPPED = "skipped"
    """Nothing to revoke: no purge, no stored credential, or no revoker."""


@dataclasses.dataclass(frozen=True)
class Revocation:
    """Result of `revoke_credential`, with the next step for a person in `detail`."""

    outcome: RevocationOutcome
    detail: str = ""


class TokenRevocationError(RuntimeError):
    """A provider did not revoke a grant; the message names the step to take."""


TokenRevoker = Callable[[str, dict[str, Any], str], Revocation]
"""Revokes a provider's grant: (provider, account options, credential).

Returns REVOKED or NOT_SUPPORTED, and raises TokenRevocationError when the
provider could not be reached or refused the request.
"""


def report_password_deleted(
    _provider: str, _options: dict[str, Any], _credential: str
) -> Revocation:
    """Say how a purged IMAP or CalDAV password stops working.

    Warmline cannot revoke a password.  The purge deleted its copy, so the
    password works only for those who still know it.
    """
    return Revocation(
        RevocationOutcome.NOT_SUPPORTED,
        "Warmline deleted its copy of the password; change the password, or "
        "delete the app password, at the server to end this access",
    )


TOKEN_REVOKERS: dict[str, TokenRevoker] = {
    "imap": report_password_deleted,
    "caldav": report_password_deleted,
}
"""Revokers by account provider; the provider modules register theirs."""


def register_token_revoker(provider: str, revoker: TokenRevoker) -> None:
    """Make purges of `provider` accounts revoke the grant with `revoker`."""
    TOKEN_REVOKERS[provider] = revoker


def remove_account(
    session: Session,
    workspace: Workspace,
    account_id: int,
    *,
    purge: bool,
    actor: str,
) -> AccountRemoval:
    """Disable an account, or with `purge` delete it and what only it saw.

    A purge deletes the account's sightings (as `store.remove_sightings`
    does for a provider's deletions), so an activity that no other account
    saw is deleted with its participants and touchpoints.  Its quarantined
    items, cursor and credential go with the account row.  Raises
    PrivacyError for an unknown account, or when purging an account whose
    credential another account still uses.
    """
    account = _account(session, workspace, account_id)
    removal = AccountRemoval(account.id, account.provider, purge)
    if not purge:
        account.status = AccountStatus.DISABLED
        audit.record(
            session,
            actor,
            audit.ACCOUNT_DISABLE,
            f"account:{account.id}",
            {"provider": account.provider},
            workspace=workspace,
        )
        return removal
    _check_credential_unshared(session, account)
    removal.options = dict(account.options or {})
    removal.credential = account.secret
    seen = select(AccountActivity.activity_id).where(
        AccountActivity.account_id == account.id
    )
    activity_ids = set(session.scalars(seen))
    everything = ScopeListed(prefix="", since=dt.datetime.max.replace(tzinfo=dt.UTC))
    removal.sightings = store.remove_sightings(session, account.id, [], [everything])
    removal.activities = len(activity_ids) - _count_existing(session, activity_ids)
    removal.quarantined = _delete_where(
        QuarantinedItem.account_id, [account.id], session
    )
    session.delete(account)
    session.flush()
    details = {
        "provider": removal.provider,
        "sightings": removal.sightings,
        "activities": removal.activities,
        "quarantined": removal.quarantined,
    }
    audit.record(
        session,
        actor,
        audit.ACCOUNT_PURGE,
        f"account:{removal.account_id}",
        details,
        workspace=workspace,
    )
    return removal


def _account(session: Session, workspace: Workspace, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None or account.workspace_id != workspace.id:
        raise PrivacyError(
            f"no account with id {account_id}; see 'warmline accounts list'"
        )
    return account


def _check_credential_unshared(session: Session, account: Account) -> None:
    others = session.scalars(
        select(Account).where(
            Account.workspace_id == account.workspace_id, Account.id != account.id
        )
    )
    for other in others:
        if int((other.options or {}).get("credential_account_id") or 0) == account.id:
            raise PrivacyError(
                f"account {other.id} signs in with the credential of account "
                f"{account.id}; remove account {other.id} first"
            )


def _count_existing(session: Session, activity_ids: set[int]) -> int:
    remaining = 0
    for chunk in chunks(sorted(activity_ids)):
        remaining += (
            session.scalar(
                select(func.count()).select_from(Activity).where(Activity.id.in_(chunk))
            )
            or 0
        )
    return remaining


def revoke_credential(
    removal: AccountRemoval, secret_box: Callable[[], SecretBox]
) -> Revocation:
    """Revoke a purged account's grant at its provider; call after the commit.

    The purge has already committed, so a revoker's TokenRevocationError,
    or a credential the keys cannot decrypt, is returned as FAILED with the
    error and the manual step, and logged as a warning, rather than raised.
    """
    if not removal.purged or removal.credential is None:
        return Revocation(RevocationOutcome.SKIPPED)
    revoker = TOKEN_REVOKERS.get(removal.provider)
    if revoker is None:
        log.info(
            "token revocation not available",
            account_id=removal.account_id,
            provider=removal.provider,
        )
        return Revocation(RevocationOutcome.SKIPPED)
    try:
        credential = secret_box().decrypt(removal.credential)
        revocation = revoker(removal.provider, removal.options, credential)
    except (TokenRevocationError, SecretKeyError) as error:
        log.warning(
            "token revocation failed",
            account_id=removal.account_id,
            provider=removal.provider,
            error=str(error),
        )
        return Revocation(RevocationOutcome.FAILED, str(error))
    log.info(
        "token revocation finished",
        account_id=removal.account_id,
        provider=removal.provider,
        outcome=revocation.outcome.value,
    )
    return revocation


def record_revocation(
    session: Session,
    workspace: Workspace,
    removal: AccountRemoval,
    revocation: Revocation,
    *,
    actor: str,
) -> None:
    """Add the outcome of a purged account's revocation to the audit log."""
    if revocation.outcome is RevocationOutcome.SKIPPED:
        return
    audit.record(
        session,
        actor,
        audit.ACCOUNT_REVOKE,
        f"account:{removal.account_id}",
        {"provider": removal.provider, "outcome": revocation.outcome.value},
        workspace=workspace,
    )


# --- referral sources -----------------------------------------------------------------


class TouchpointHandling(enum.StrEnum):
    """Handling of a removed provider's or contact's touchpoints."""

    DELETE = "delete"
    UNLINK = "unlink"


@dataclasses.dataclass
class SourceRemoval:
    """Counts of the rows `remove_source` deleted or unlinked."""

    source_id: int
    kind: str
    sources: int = 0
    touchpoints_deleted: int = 0
    touchpoints_unlinked: int = 0
    related: dict[str, int] = dataclasses.field(default_factory=dict)
    """Rows of other tables (referrals, follow-ups, ...) deleted or unlinked."""


def remove_source(
    session: Session,
    workspace: Workspace,
    source_id: int,
    *,
    touchpoints: TouchpointHandling,
    actor: str,
) -> SourceRemoval:
    """Delete a referral source; a practice goes with its providers and contacts.

    A practice's touchpoints are deleted whatever `touchpoints` is,
    because a touchpoint needs a practice.  A provider's or contact's
    touchpoints are deleted, or with UNLINK kept with no person.  Rows of
    other tables that name a removed source are deleted when their column
    is required (referrals, follow-ups, monthly counts) and set to NULL
    when it is optional.
    """
    source = session.get(ReferralSource, source_id)
    if source is None or source.workspace_id != workspace.id:
        raise PrivacyError(
            f"no referral source with id {source_id}; see 'warmline sources list'"
        )
    removal = SourceRemoval(source.id, source.kind.value)
    people = [source.id]
    practices: list[int] = []
    if source.kind is SourceKind.PRACTICE:
        practices = [source.id]
        people = list(
            session.scalars(
                select(ReferralSource.id).where(ReferralSource.practice_id == source.id)
            )
        )
    removed = [*people, *practices]
    counted = touch_counts.counted_activities(session, removed)
    # Activities before their touchpoints, the order a sync locks them in.
    touch_counts.lock_activities(session, counted)
    if practices:
        removal.touchpoints_deleted += _delete_where(
            Touchpoint.practice_id, practices, session
        )
    touched = _sources_sharing_touchpoints(session, removed)
    removal.touchpoints_deleted += _person_touchpoints(
        session, people, touchpoints, removal
    )
    removal.related = _clear_references(session, removed)
    for chunk in chunks(people):
        session.execute(delete(ReferralSource).where(ReferralSource.id.in_(chunk)))
    if practices:
        session.execute(delete(ReferralSource).where(ReferralSource.id.in_(practices)))
    removal.sources = len(removed)
    last_touch.refresh_last_touches(session, touched - set(removed))
    touch_counts.refresh_touch_counts(session, counted)
    session.expire_all()
    details = {
        "kind": removal.kind,
        "sources": removal.sources,
        "touchpoints": touchpoints.value,
        "touchpoints_deleted": removal.touchpoints_deleted,
        "touchpoints_unlinked": removal.touchpoints_unlinked,
        **removal.related,
    }
    audit.record(
        session,
        actor,
        audit.SOURCE_REMOVE,
        f"source:{source_id}",
        details,
        workspace=workspace,
    )
    return removal


def _person_touchpoints(
    session: Session,
    people: list[int],
    handling: TouchpointHandling,
    removal: SourceRemoval,
) -> int:
    """Delete or unlink the touchpoints of removed people; return deletions."""
    deleted = 0
    for chunk in chunks(people):
        if handling is TouchpointHandling.DELETE:
            deleted += _delete_where(Touchpoint.person_id, chunk, session)
        else:
            result = session.execute(
                update(Touchpoint)
                .where(Touchpoint.person_id.in_(chunk))
                .values(person_id=None)
            )
            removal.touchpoints_unlinked += result.rowcount  # type: ignore[attr-defined]
        _delete_where(TouchpointPerson.person_id, chunk, session)
    return deleted


def _sources_sharing_touchpoints(session: Session, source_ids: list[int]) -> set[int]:
    """Return every source that a touchpoint of these sources counts for."""
    touchpoint_ids: set[int] = set()
    for chunk in chunks(source_ids):
        touchpoint_ids.update(
            session.scalars(
                select(Touchpoint.id).where(
                    or_(
                        Touchpoint.practice_id.in_(chunk),
                        Touchpoint.person_id.in_(chunk),
                    )
                )
            )
        )
        touchpoint_ids.update(
            session.scalars(
                select(TouchpointPerson.touchpoint_id).where(
                    TouchpointPerson.person_id.in_(chunk)
                )
            )
        )
    activity_ids: set[int] = set()
    for chunk in chunks(sorted(touchpoint_ids)):
        activity_ids.update(
            session.scalars(
                select(Touchpoint.activity_id).where(Touchpoint.id.in_(chunk))
            )
        )
    return last_touch.confirmed_sources(session, activity_ids)


# Columns that remove_source handles itself rather than generically.
_HANDLED = {
    ("touchpoint", "practice_id"),
    ("touchpoint", "person_id"),
    ("touchpoint_person", "person_id"),
    ("referral_source", "practice_id"),
    # Derived summaries; ON DELETE CASCADE removes a removed source's rows.
    ("source_last_touch", "source_id"),
    ("source_learned_cadence", "source_id"),
}


def _clear_references(session: Session, source_ids: list[int]) -> dict[str, int]:
    """Delete or unlink the rows of other tables that name removed sources."""
    counts: dict[str, int] = {}
    for column in _references_to("referral_source"):
        if (column.table.name, column.name) in _HANDLED:
            continue
        total = 0
        for chunk in chunks(source_ids):
            if column.nullable:
                statement: Any = (
                    column.table.update()
                    .where(column.in_(chunk))
                    .values({column.name: None})
                )
            else:
                statement = column.table.delete().where(column.in_(chunk))
            total += session.execute(statement).rowcount  # type: ignore[attr-defined]
        if total:
            counts[column.table.name] = counts.get(column.table.name, 0) + total
    return counts


def _references_to(table_name: str) -> Iterator[Column[Any]]:
    for table in Base.metadata.sorted_tables:
        for foreign_key in table.foreign_keys:
            if foreign_key.column.table.name == table_name:
                yield foreign_key.parent


# --- retention ----------------------------------------------------------------------


@dataclasses.dataclass
class RetentionReport:
    """Counts of one retention run; `cutoff` is None when retention is off."""

    months: int | None
    cutoff: dt.datetime | None
    activities: int = 0
    touchpoints_counted: int = 0
    quarantined: int = 0


def retention_cutoff(as_of: dt.datetime, months: int) -> dt.datetime:
    """Return `as_of` moved back by `months` calendar months (day clamped)."""
    if as_of.tzinfo is None:
        raise ValueError(f"naive datetime {as_of!r}; pass an aware UTC value")
    as_of = as_of.astimezone(dt.UTC)
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return as_of.replace(year=year, month=month, day=min(as_of.day, last_day))


def apply_retention(
    session: Session,
    workspace: Workspace,
    as_of: dt.datetime,
    *,
    actor: str,
    months: int | None = None,
) -> RetentionReport:
    """Delete activities older than the retention period, keeping monthly counts.

    `months` defaults to the workspace's retention_months; when both are
    unset nothing is deleted.  Each confirmed touchpoint of a deleted
    activity is first added to `touchpoint_month_count` for its practice
    and every person it counts for.  Running it again deletes and counts
    nothing new, because the counted activities are gone.
    """
    if months is None:
        months = workspace_settings(session, workspace)["retention_months"]
    if months is None:
        return RetentionReport(months=None, cutoff=None)
    cutoff = retention_cutoff(as_of, months)
    report = RetentionReport(months=months, cutoff=cutoff)
    old = select(Activity.id).where(
        Activity.workspace_id == workspace.id, Activity.occurred_at < cutoff
    )
    activity_ids = list(session.scalars(old.order_by(Activity.id)))
    for chunk in chunks(activity_ids, CHUNK):
        report.touchpoints_counted += _count_into_months(session, workspace, chunk)
        touched = last_touch.confirmed_sources(session, chunk)
        report.activities += _delete_where(Activity.id, chunk, session)
        last_touch.refresh_last_touches(session, touched)
        touch_counts.refresh_touch_counts(session, chunk)
    accounts = select(Account.id).where(Account.workspace_id == workspace.id)
    report.quarantined = session.execute(
        delete(QuarantinedItem).where(
            QuarantinedItem.account_id.in_(accounts),
            QuarantinedItem.last_seen_at < cutoff,
        )
    ).rowcount  # type: ignore[attr-defined]
    details = {
        "months": months,
        "cutoff": cutoff.isoformat(),
        "activities": report.activities,
        "touchpoints_counted": report.touchpoints_counted,
        "quarantined": report.quarantined,
    }
    audit.record(
        session,
        actor,
        audit.RETENTION_APPLY,
        f"workspace:{workspace.id}",
        details,
        workspace=workspace,
    )
    return report


MonthKey = tuple[int, dt.date, str, str]


def _count_into_months(
    session: Session, workspace: Workspace, activity_ids: list[int]
) -> int:
    """Add the confirmed touchpoints of these activities to the monthly counts."""
    rows = session.execute(
        select(
            Touchpoint.id,
            Touchpoint.practice_id,
            Activity.occurred_at,
            Activity.kind,
            Activity.direction,
        )
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(
            Touchpoint.activity_id.in_(activity_ids),
            Touchpoint.status == TouchpointStatus.CONFIRMED,
        )
    ).all()
    people: dict[int, list[int]] = defaultdict(list)
    touchpoint_ids = [row.id for row in rows]
    if touchpoint_ids:
        for touchpoint_id, person_id in session.execute(
            select(TouchpointPerson.touchpoint_id, TouchpointPerson.person_id).where(
                TouchpointPerson.touchpoint_id.in_(touchpoint_ids)
            )
        ):
            people[touchpoint_id].append(person_id)
    buckets: dict[MonthKey, tuple[int, dt.datetime]] = {}
    for row in rows:
        month = row.occurred_at.astimezone(dt.UTC).date().replace(day=1)
        for source_id in {row.practice_id, *people[row.id]}:
            key = (source_id, month, row.kind, row.direction or "")
            count, newest = buckets.get(key, (0, row.occurred_at))
            buckets[key] = (count + 1, max(newest, row.occurred_at))
    _add_to_months(session, workspace, buckets)
    return len(rows)


def _add_to_months(
    session: Session,
    workspace: Workspace,
    buckets: dict[MonthKey, tuple[int, dt.datetime]],
) -> None:
    for (source_id, month, kind, direction), (count, newest) in buckets.items():
        row = session.scalar(
            select(TouchpointMonthCount).where(
                TouchpointMonthCount.source_id == source_id,
                TouchpointMonthCount.month == month,
                TouchpointMonthCount.kind == kind,
                TouchpointMonthCount.direction == direction,
            )
        )
        if row is None:
            session.add(
                TouchpointMonthCount(
                    workspace_id=workspace.id,
                    source_id=source_id,
                    month=month,
                    kind=kind,
                    direction=direction,
                    count=count,
                    last_touch_at=newest,
                )
            )
        else:
            row.count += count
            row.last_touch_at = max(row.last_touch_at, newest)
    session.flush()


def aggregated_last_touches(
    session: Session, workspace: Workspace, as_of: dt.datetime
) -> dict[int, dt.datetime]:
    """Map each source id to its newest touch kept in the monthly counts.

    relationships.last_touches reads touchpoints only, so a source whose
    touchpoints were all aged out needs this to keep its last touch date.
    """
    rows = session.execute(
        select(
            TouchpointMonthCount.source_id, func.max(TouchpointMonthCount.last_touch_at)
        )
        .where(
            TouchpointMonthCount.workspace_id == workspace.id,
            TouchpointMonthCount.last_touch_at <= as_of,
        )
        .group_by(TouchpointMonthCount.source_id)
    )
    return {source_id: utc_aware(newest) for source_id, newest in rows}


def monthly_touch_counts(session: Session, workspace: Workspace) -> dict[MonthKey, int]:
    """Count confirmed touches per (source, month, kind, direction), all time.

    Adds the stored touchpoints to the counts kept by retention, so a chart
    of a source's history looks the same before and after a retention run.
    """
    counts: dict[MonthKey, int] = defaultdict(int)
    for stored in session.scalars(
        select(TouchpointMonthCount).where(
            TouchpointMonthCount.workspace_id == workspace.id
        )
    ):
        key = (stored.source_id, stored.month, stored.kind, stored.direction)
        counts[key] += stored.count
    live = session.execute(
        select(
            Touchpoint.id,
            Touchpoint.practice_id,
            Activity.occurred_at,
            Activity.kind,
            Activity.direction,
        )
        .join(Activity, Activity.id == Touchpoint.activity_id)
        .where(
            Touchpoint.workspace_id == workspace.id,
            Touchpoint.status == TouchpointStatus.CONFIRMED,
        )
    ).all()
    people: dict[int, set[int]] = defaultdict(set)
    for touchpoint_id, person_id in session.execute(
        select(TouchpointPerson.touchpoint_id, TouchpointPerson.person_id)
        .join(Touchpoint, Touchpoint.id == TouchpointPerson.touchpoint_id)
        .where(Touchpoint.workspace_id == workspace.id)
    ):
        people[touchpoint_id].add(person_id)
    for row in live:
        month = row.occurred_at.astimezone(dt.UTC).date().replace(day=1)
        for source_id in {row.practice_id, *people[row.id]}:
            counts[(source_id, month, row.kind, row.direction or "")] += 1
    return dict(counts)


# --- helpers -----------------------------------------------------------------


def _delete_where(column: Any, values: Iterable[int], session: Session) -> int:
    deleted = 0
    for chunk in chunks(list(values)):
        result = session.execute(delete(column.class_).where(column.in_(chunk)))
        deleted += result.rowcount  # type: ignore[attr-defined]
    return deleted
