"""The accounts page: each account's sync state and what its syncs stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from warmline.models import (
    Account,
    AccountActivity,
    AccountStatus,
    Activity,
    QuarantinedItem,
    StaffMember,
    Touchpoint,
    TouchpointStatus,
)

STATUS_TEXT = {
    AccountStatus.ACTIVE: "Syncing normally.",
    AccountStatus.NEEDS_REAUTH: (
        "The provider no longer accepts the stored sign-in; connect the account "
        "again from the command line."
    ),
    AccountStatus.ERROR: (
        "The last sync failed and the account is paused until someone fixes "
        "the cause and syncs it again."
    ),
    AccountStatus.DISABLED: "Turned off; it is not synced.",
}


@dataclasses.dataclass(frozen=True)
class AccountOverview:
    id: int
    provider: str
    location: str
    staff_email: str
    status: AccountStatus
    status_text: str
    last_sync_at: dt.datetime | None
    cursor_age: dt.timedelta | None
    """Time since the last successful sync, which saved the current cursor."""
    has_cursor: bool
    last_error: str | None
    stored: int
    matched: int
    dropped: dict[str, int]
    quarantined: int


def account_overviews(
    session: Session, workspace_id: int, as_of: dt.datetime
) -> list[AccountOverview]:
    accounts = session.execute(
        select(Account, StaffMember.email)
        .join(StaffMember, StaffMember.id == Account.staff_member_id)
        .where(Account.workspace_id == workspace_id)
        .order_by(Account.id)
    ).all()
    ids = [account.id for account, _email in accounts]
    stored = _count_by_account(session, ids, None)
    matched = _count_by_account(session, ids, True)
    dropped = _dropped_by_account(session, ids)
    quarantined_rows = session.execute(
        select(QuarantinedItem.account_id, func.count(QuarantinedItem.id))
        .where(QuarantinedItem.account_id.in_(ids))
        .group_by(QuarantinedItem.account_id)
    )
    quarantined = {account_id: count for account_id, count in quarantined_rows}
    return [
        AccountOverview(
            id=account.id,
            provider=account.provider,
            location=account.location,
            staff_email=email,
            status=account.status,
            status_text=STATUS_TEXT[account.status],
            last_sync_at=account.last_sync_at,
            # NOTE: no column records when the cursor last moved, so the age
            # is measured from the last successful sync.
            cursor_age=as_of - account.last_sync_at if account.last_sync_at else None,
            has_cursor=account.cursor is not None,
            last_error=account.last_error,
            stored=stored.get(account.id, 0),
            matched=matched.get(account.id, 0),
            dropped=dict(sorted(dropped.get(account.id, Counter()).items())),
            quarantined=quarantined.get(account.id, 0),
        )
        for account, email in accounts
    ]


def _count_by_account(
    session: Session, ids: list[int], matched: bool | None
) -> dict[int, int]:
    """Count the activities each account has seen; `matched`: only linked ones."""
    query = select(
        AccountActivity.account_id,
        func.count(func.distinct(AccountActivity.activity_id)),
    ).where(AccountActivity.account_id.in_(ids))
    if matched:
        linked = select(Touchpoint.activity_id).where(
            Touchpoint.status != TouchpointStatus.REJECTED
        )
        query = query.where(AccountActivity.activity_id.in_(linked))
    rows = session.execute(query.group_by(AccountActivity.account_id))
    return {account_id: count for account_id, count in rows}


def _dropped_by_account(session: Session, ids: list[int]) -> dict[int, Counter[str]]:
    rows = session.execute(
        select(AccountActivity.account_id, Activity.dropped, func.count(Activity.id))
        .join(Activity, Activity.id == AccountActivity.activity_id)
        .where(AccountActivity.account_id.in_(ids), Activity.dropped.is_not(None))
        .group_by(AccountActivity.account_id, Activity.dropped)
    )
    result: dict[int, Counter[str]] = {}
    for account_id, reason, count in rows:
        result.setdefault(account_id, Counter())[str(reason)] = count
    return result
