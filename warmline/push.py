"""Near-real-time sync: provider notifications become requested syncs.

Gmail publishes mailbox changes to a Pub/Sub topic, whose push
subscription POSTs them to /push/gmail; Microsoft Graph POSTs change
notifications to /push/graph (web.push).  Neither request runs a sync.
Each accepted notification raises the `generation` of its account's
`sync_request` row, and the endpoint responds at once.  Then:

- with a broker (Celery), the web process sends `warmline.sync_account`
  after the commit.  It sends no second task while a request is pending and
  was queued less than RESEND_SECONDS ago, so a burst of notifications
  costs one sync;
- without one (the embedded default), a thread of the web process
  (warmline.push_runner) runs the requested syncs in-process.

A sync reads the generation before it starts and, once it is done,
deletes the row only if the generation is unchanged (`complete_request`).
A notification that arrived during the sync leaves the row in place, so
one more sync follows.  No change announced after a sync began is lost,
even when its own task found that sync still holding the account's lease.

Gmail notifications name a mailbox address and its new historyId.  One at
or below the historyId of the account's cursor is stale and ignored,
because Pub/Sub delivers at least once and out of order.  Graph
notifications name their subscription, whose stored clientState must match
the one in the notification; others are rejected without a sync.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hmac
import json
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from connectors.google import GmailCursor
from warmline import store
from warmline.models import Account, AccountStatus, utcnow
from warmline.push_models import PushSubscription, SyncRequest
from warmline.secrets import SecretBox

log = structlog.get_logger(__name__)

GMAIL_PROVIDER = "gmail"
GMAIL_WATCH = "gmail_watch"
GRAPH = "graph"
GRAPH_COLLECTIONS = {"outlook_mail": "messages", "outlook_calendar": "events"}
"""The Graph resource collection each Outlook provider subscribes to."""

RESEND_SECONDS = 120
"""Age after which a pending request's task is presumed lost and sent again.

A task sent to Redis can be lost with the worker that took it (see
warmline.worker.app); the scheduled syncs bound the delay either way.
"""


class PushError(ValueError):
    """A notification is malformed; the message names the part and the reason."""


# --- sync requests ------------------------------------------------------------


def request_sync(
    session: Session, account_id: int, reason: str, now: dt.datetime | None = None
) -> SyncRequest:
    """Record that `account_id` needs a sync; return its pending request row."""
    now = now or utcnow()
    session.execute(
        store.insert_ignoring_conflicts(session, SyncRequest).values(
            account_id=account_id, generation=0, requested_at=now, reason=reason
        )
    )
    session.execute(
        update(SyncRequest)
        .where(SyncRequest.account_id == account_id)
        .values(generation=SyncRequest.generation + 1, requested_at=now, reason=reason)
        .execution_options(synchronize_session=False)
    )
    return session.get_one(SyncRequest, account_id, populate_existing=True)


def needs_task(request: SyncRequest, now: dt.datetime) -> bool:
    """Return whether a Celery task should be sent for `request`, and mark it sent.

    No task is sent while an earlier one for the same pending request was
    queued less than RESEND_SECONDS ago, because that task's sync, or the
    follow-up of the sync running now, reads the account anyway.
    """
    if request.queued_at is not None and request.generation > 1:
        if (now - request.queued_at).total_seconds() < RESEND_SECONDS:
            return False
    request.queued_at = now
    return True


def request_generation(session: Session, account_id: int) -> int | None:
    """Return the generation of the account's pending request, or None."""
    return session.scalar(
        select(SyncRequest.generation).where(SyncRequest.account_id == account_id)
    )


def complete_request(
    session: Session, account_id: int, seen_generation: int | None
) -> bool:
    """Clear the request a finished sync covered; return whether one is left.

    `seen_generation` is what `request_generation` returned before the sync
    started.  A request raised after that stays, and True means that
    another sync is due.
    """
    if seen_generation is not None:
        session.execute(
            delete(SyncRequest).where(
                SyncRequest.account_id == account_id,
                SyncRequest.generation == seen_generation,
            )
        )
    return request_generation(session, account_id) is not None


def drop_request(session: Session, account_id: int) -> None:
    """Forget the account's request, as when the account stopped being active."""
    session.execute(delete(SyncRequest).where(SyncRequest.account_id == account_id))


def pending_requests(session: Session) -> list[tuple[int, int]]:
    """Return (account id, generation) of every pending request, oldest first."""
    rows = session.execute(
        select(SyncRequest.account_id, SyncRequest.generation).order_by(
            SyncRequest.requested_at
        )
    )
    return [(row.account_id, row.generation) for row in rows]


# --- Gmail ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class GmailNotice:
    """The data of one Gmail push message: which mailbox changed, up to when."""

    email_address: str
    history_id: int


def parse_pubsub_push(body: bytes) -> GmailNotice:
    """Read a Pub/Sub push request body and the Gmail notice in its data.

    The body is {"message": {"data": base64 JSON, "messageId": ...},
    "subscription": ...}; the data is {"emailAddress", "historyId"}.
    """
    envelope = _json_object(body, "push request body")
    message = envelope.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("data"), str):
        raise PushError("the push request has no message.data; expected a Pub/Sub push")
    try:
        decoded = base64.b64decode(message["data"], validate=False)
    except (binascii.Error, ValueError) as error:
        raise PushError(f"message.data is not base64: {error}") from error
    data = _json_object(decoded, "message.data")
    address = data.get("emailAddress")
    history_id = data.get("historyId")
    if not isinstance(address, str) or "@" not in address:
        raise PushError("message.data has no emailAddress")
    try:
        history = int(str(history_id))
    except ValueError as error:
        raise PushError(
            f"message.data has an invalid historyId {history_id!r}"
        ) from error
    return GmailNotice(address.strip().lower(), history)


def accept_gmail_notice(
    session: Session, notice: GmailNotice, now: dt.datetime | None = None
) -> list[SyncRequest]:
    """Request a sync of each active Gmail account of the notice's mailbox.

    An account whose cursor is already at or past the notice's historyId
    gets none.  Returns the requests raised; none when no account matches.
    """
    accounts = session.scalars(
        select(Account).where(
            Account.provider == GMAIL_PROVIDER,
            Account.location == notice.email_address,
            Account.status == AccountStatus.ACTIVE,
        )
    )
    requests = []
    for account in accounts:
        cursor = GmailCursor.load(account.cursor)
        if (
            cursor is not None
            and _history_number(cursor.history_id) >= notice.history_id
        ):
            log.debug(
                "stale gmail notice ignored",
                account_id=account.id,
                history_id=notice.history_id,
            )
            continue
        requests.append(request_sync(session, account.id, "gmail push", now))
    return requests


def _history_number(history_id: str) -> int:
    try:
        return int(history_id)
    except ValueError:
        return -1


# --- Microsoft Graph -----------------------------------------------------------------


@dataclasses.dataclass
class GraphOutcome:
    """Outcome of one POST of Graph notifications."""

    requests: list[SyncRequest] = dataclasses.field(default_factory=list)
    accepted: int = 0
    rejected: int = 0
    """Notifications whose clientState did not match their subscription."""
    unknown: int = 0
    """Notifications of a subscription Warmline does not hold (deleted, or forged)."""
    renewals: int = 0
    """Subscriptions that a lifecycle notification marked for renewal or re-creation."""


def parse_graph_notifications(body: bytes) -> list[dict[str, Any]]:
    """Read the `value` array of a Graph change or lifecycle notification POST."""
    collection = _json_object(body, "notification body")
    items = collection.get("value")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise PushError("the notification body has no 'value' array of objects")
    return items


def accept_graph_notifications(
    session: Session,
    box: Callable[[], SecretBox],
    items: list[dict[str, Any]],
    now: dt.datetime | None = None,
) -> GraphOutcome:
    """Check each notification's clientState and act on the ones that match.

    A change notification requests a sync of the subscription's account.
    `box` is called only for a notification of a known subscription, so a
    site without subscriptions never loads the secret keys.  Lifecycle
    notifications: reauthorizationRequired makes the subscription due for
    renewal.  subscriptionRemoved deletes the stored subscription, so the
    renewal pass creates a new one, and requests a sync.  missed requests a
    sync, whose delta query returns every change since the stored deltaLink.
    """
    now = now or utcnow()
    outcome = GraphOutcome()
    for item in items:
        subscription = _subscription(session, item)
        if subscription is None:
            outcome.unknown += 1
            continue
        if not _client_state_matches(box, subscription, item):
            outcome.rejected += 1
            log.warning(
                "graph notification rejected: clientState mismatch",
                subscription=subscription.id,
                account_id=subscription.account_id,
            )
            continue
        outcome.accepted += 1
        _apply(session, subscription, item, outcome, now)
    return outcome


def _subscription(session: Session, item: dict[str, Any]) -> PushSubscription | None:
    subscription_id = item.get("subscriptionId")
    if not isinstance(subscription_id, str) or not subscription_id:
        return None
    return session.scalar(
        select(PushSubscription).where(
            PushSubscription.kind == GRAPH,
            PushSubscription.subscription_id == subscription_id,
        )
    )


def _client_state_matches(
    box: Callable[[], SecretBox], subscription: PushSubscription, item: dict[str, Any]
) -> bool:
    received = item.get("clientState")
    if subscription.client_state is None or not isinstance(received, str):
        return False
    expected = box().decrypt(subscription.client_state)
    return hmac.compare_digest(expected.encode(), received.encode())


def _apply(
    session: Session,
    subscription: PushSubscription,
    item: dict[str, Any],
    outcome: GraphOutcome,
    now: dt.datetime,
) -> None:
    account_id = subscription.account_id
    event = item.get("lifecycleEvent")
    if event is None:
        outcome.requests.append(
            request_sync(session, account_id, "graph notification", now)
        )
        return
    log.info(
        "graph lifecycle notification",
        lifecycle_event=event,
        account_id=account_id,
        subscription=subscription.id,
    )
    if event == "reauthorizationRequired":
        subscription.expires_at = now
        outcome.renewals += 1
    elif event == "subscriptionRemoved":
        session.delete(subscription)
        outcome.renewals += 1
        outcome.requests.append(
            request_sync(session, account_id, "graph subscription removed", now)
        )
    elif event == "missed":
        outcome.requests.append(
            request_sync(session, account_id, "graph notifications missed", now)
        )
    else:
        log.warning("unknown graph lifecycle event ignored", lifecycle_event=event)


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise PushError(f"the {what} is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise PushError(f"the {what} is not a JSON object")
    return value
