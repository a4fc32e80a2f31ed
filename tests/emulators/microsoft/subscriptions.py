"""Graph change notification subscriptions: POST, GET, PATCH and DELETE
/subscriptions, the validation request, and notifications on changes.

Creating a subscription POSTs `?validationToken=...` to its
notificationUrl (and to a different lifecycleNotificationUrl) and expects
the token back as text/plain with 200 within VALIDATION_TIMEOUT seconds, as
Graph does.  Otherwise the creation fails with 400.  An expirationDateTime
past `max_minutes` from now fails with 400 as well.

While a subscription lasts, a thread compares its mailbox with what it last
reported: new or changed messages (or events) and deleted ones become
created, updated and deleted notifications, posted in one request per
subscription.  Tests send lifecycle notifications (`send_lifecycle`) and
forged ones (`send`, with any clientState) directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import secrets
import threading
from typing import TYPE_CHECKING, Any

import httpx

from tests.emulators.microsoft.identity import Grant, Response

if TYPE_CHECKING:
    from tests.emulators.microsoft.mailbox import Mailbox
    from tests.emulators.microsoft.server import GraphEmulator, Request

VALIDATION_TIMEOUT = 10.0
MAX_MINUTES = 4230
"""Graph's long-standing maximum for Outlook messages and events (under 3 days)."""
CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
_RESOURCE = re.compile(r"(?:me|users/(?P<user>[^/]+))/(?P<collection>messages|events)")
_SCOPES = {
    "messages": frozenset({"Mail.ReadBasic", "Mail.Read", "Mail.ReadBasic.All"}),
    "events": frozenset({"Calendars.Read", "Calendars.ReadWrite"}),
}


@dataclasses.dataclass
class Subscription:
    id: str
    mailbox: Mailbox
    collection: str
    resource: str
    change_types: frozenset[str]
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expires_at: dt.datetime
    seen_seq: int
    known_ids: set[str]


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One notification request the emulator sent, and the endpoint's status."""

    subscription_id: str
    kind: str
    """A change type, a lifecycle event, or "validation"."""
    count: int
    status: int


class GraphSubscriptions:
    """The /subscriptions resource of one emulator, and its notifier thread."""

    def __init__(self, emulator: GraphEmulator, poll_seconds: float = 0.02) -> None:
        self.emulator = emulator
        self.max_minutes = MAX_MINUTES
        self.validation_timeout = VALIDATION_TIMEOUT
        self.items: dict[str, Subscription] = {}
        self.deliveries: list[Delivery] = []
        self.lock = threading.RLock()
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- the resource ------------------------------------------------------------

    def handle(self, request: Request, grant: Grant) -> Response:
        parts = request.graph_path.strip("/").split("/")
        if len(parts) == 1 and request.method == "POST":
            return self._create(request, grant)
        if len(parts) != 2:
            return _error(400, "BadRequest", "Unsupported subscriptions request.")
        with self.lock:
            subscription = self.items.get(parts[1])
        if subscription is None:
            return _error(404, "ResourceNotFound", "The object was not found.")
        if request.method == "GET":
            return Response(200, self._render(subscription))
        if request.method == "PATCH":
            return self._renew(subscription, request)
        if request.method == "DELETE":
            with self.lock:
                self.items.pop(subscription.id, None)
            return Response(204)
        return _error(405, "MethodNotAllowed", "Method not allowed.")

    def _create(self, request: Request, grant: Grant) -> Response:
        body = request.json or {}
        resource = str(body.get("resource") or "").strip("/")
        match = _RESOURCE.fullmatch(resource)
        if match is None:
            return _error(400, "InvalidRequest", f"Unsupported resource '{resource}'.")
        mailbox = self._mailbox(match.group("user"), grant)
        if mailbox is None:
            return _error(403, "ExtensionError", "Operation: Create; access denied.")

        collection = match.group("collection")
        if not grant.scopes & _SCOPES[collection]:
            return _error(403, "ExtensionError", "Operation: Create; access denied.")
        change_types = frozenset(str(body.get("changeType") or "").split(","))
        if not change_types or not change_types <= CHANGE_TYPES:
            return _error(400, "InvalidRequest", "Invalid changeType.")
        expires = _expiry(body.get("expirationDateTime"), self.max_minutes)
        if isinstance(expires, Response):
            return expires

        urls = {str(body.get("notificationUrl") or "")}
        if body.get("lifecycleNotificationUrl"):
            urls.add(str(body["lifecycleNotificationUrl"]))
        for url in sorted(urls):
            if not self._validate(url):
                return _error(
                    400,
                    "ValidationError",
                    "Subscription validation request failed. Notification "
                    "endpoint must respond with 200 OK to validation request.",
                )

        with mailbox.lock:
            seq = mailbox.seq
            known = set(_collection_ids(mailbox, collection))
        subscription = Subscription(
            id=secrets.token_hex(16),
            mailbox=mailbox,
            collection=collection,
            resource=resource,
            change_types=change_types,
            notification_url=str(body.get("notificationUrl")),
            lifecycle_url=body.get("lifecycleNotificationUrl"),
            client_state=body.get("clientState"),
            expires_at=expires,
            seen_seq=seq,
            known_ids=known,
        )
        with self.lock:
            self.items[subscription.id] = subscription
            self._start_thread()
        return Response(201, self._render(subscription))

    def _renew(self, subscription: Subscription, request: Request) -> Response:
        expires = _expiry(
            (request.json or {}).get("expirationDateTime"), self.max_minutes
        )
        if isinstance(expires, Response):
            return expires
        with self.lock:
            subscription.expires_at = expires
        return Response(200, self._render(subscription))

    def _mailbox(self, user: str | None, grant: Grant) -> Mailbox | None:
        if user is None:
            if grant.user is None:
                return None
            return self.emulator.mailboxes.get(grant.user.upn)
        key = user.strip("'").lower()
        if grant.user is not None and grant.user.upn != key:
            return None
        return self.emulator.mailboxes.get(key)

    def _validate(self, url: str) -> bool:
        token = secrets.token_urlsafe(24)
        try:
            with httpx.Client(
                timeout=self.validation_timeout, trust_env=False
            ) as client:
                response = client.post(
                    url,
                    params={"validationToken": token},
                    headers={"Content-Type": "text/plain"},
                )
        except httpx.HTTPError:
            self._delivered("", "validation", 0, -1)
            return False
        self._delivered("", "validation", 0, response.status_code)
        return (
            response.status_code == 200
            and response.text == token
            and response.headers.get("content-type", "").startswith("text/plain")
        )

    def _render(self, subscription: Subscription) -> dict[str, Any]:
        return {
            "id": subscription.id,
            "resource": subscription.resource,
            "applicationId": "6731de76-14a6-49ae-97bc-6eba6914391e",
            "changeType": ",".join(sorted(subscription.change_types)),
            "clientState": subscription.client_state,
            "notificationUrl": subscription.notification_url,
            "lifecycleNotificationUrl": subscription.lifecycle_url,
            "expirationDateTime": _graph_time(subscription.expires_at),
            "creatorId": subscription.mailbox.user.oid,
        }

    # --- notifications -------------------------------------------------------------

    def send(
        self,
        subscription_id: str,
        items: list[dict[str, Any]],
        url: str | None = None,
        kind: str = "updated",
    ) -> int:
        """POST `items` as one notification collection; return the status."""
        with self.lock:
            subscription = self.items.get(subscription_id)
        target = url or (subscription.notification_url if subscription else None)
        assert target is not None, f"no subscription {subscription_id}"
        try:
            with httpx.Client(timeout=30, trust_env=False) as client:
                status = client.post(target, json={"value": items}).status_code
        except httpx.HTTPError:
            status = -1
        self._delivered(subscription_id, kind, len(items), status)
        return status

    def notification(
        self,
        subscription: Subscription,
        change_type: str,
        item_id: str,
        client_state: str | None = None,
    ) -> dict[str, Any]:
        """Return one change notification as Graph words it for Outlook."""
        kind = "Message" if subscription.collection == "messages" else "Event"
        path = f"Users/{subscription.mailbox.user.oid}/{kind}s/{item_id}"
        return {
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": _graph_time(subscription.expires_at),
            "changeType": change_type,
            "resource": path,
            "resourceData": {
                "@odata.type": f"#Microsoft.Graph.{kind}",
                "@odata.id": path,
                "id": item_id,
            },
            "clientState": subscription.client_state
            if client_state is None
            else client_state,
            "tenantId": self.emulator.tenant_id,
        }

    def send_lifecycle(self, subscription_id: str, event: str) -> int:
        """Send a lifecycle notification; subscriptionRemoved also deletes it."""
        with self.lock:
            subscription = self.items[subscription_id]
            if event == "subscriptionRemoved":
                self.items.pop(subscription_id)
        item = {
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": _graph_time(subscription.expires_at),
            "tenantId": self.emulator.tenant_id,
            "clientState": subscription.client_state,
            "lifecycleEvent": event,
        }
        url = subscription.lifecycle_url or subscription.notification_url
        return self.send(subscription.id, [item], url=url, kind=event)

    def _start_thread(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="graph-notifier", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            now = dt.datetime.now(dt.UTC)
            with self.lock:
                live = [s for s in self.items.values() if s.expires_at > now]
            for subscription in live:
                changes = self._changes(subscription)
                if changes:
                    items = [
                        self.notification(subscription, kind, item_id)
                        for kind, item_id in changes
                    ]
                    self.send(subscription.id, items, kind=changes[0][0])

    def _changes(self, subscription: Subscription) -> list[tuple[str, str]]:
        """Return (change type, item id) of what changed since the last look."""
        mailbox = subscription.mailbox
        with mailbox.lock:
            if mailbox.seq == subscription.seen_seq:
                return []
            current = set(_collection_ids(mailbox, subscription.collection))
            changed = _changed_ids(
                mailbox, subscription.collection, subscription.seen_seq
            )
            subscription.seen_seq = mailbox.seq
        found = []
        for item_id in sorted(changed & current):
            kind = "updated" if item_id in subscription.known_ids else "created"
            found.append((kind, item_id))
        for item_id in sorted(subscription.known_ids - current):
            found.append(("deleted", item_id))
        subscription.known_ids = current
        return [(kind, i) for kind, i in found if kind in subscription.change_types]

    def _delivered(
        self, subscription_id: str, kind: str, count: int, status: int
    ) -> None:
        with self.lock:
            self.deliveries.append(Delivery(subscription_id, kind, count, status))


def _collection_ids(mailbox: Mailbox, collection: str) -> list[str]:
    if collection == "messages":
        return list(mailbox.messages)
    return list(mailbox.calendars.events)


def _changed_ids(mailbox: Mailbox, collection: str, since: int) -> set[str]:
    if collection == "messages":
        return {m.id for m in mailbox.messages.values() if m.seq > since}
    return {c.event_id for c in mailbox.calendars.changes if c.seq > since}


def _expiry(value: Any, max_minutes: int) -> dt.datetime | Response:
    try:
        expires = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return _error(400, "InvalidRequest", "expirationDateTime is invalid.")
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    if expires <= now:
        return _error(400, "InvalidRequest", "expirationDateTime is in the past.")
    if expires > now + dt.timedelta(minutes=max_minutes):
        return _error(
            400,
            "InvalidRequest",
            f"Subscription expiration can only be {max_minutes} minutes in the future.",
        )
    return expires


def _graph_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _error(status: int, code: str, message: str) -> Response:
    from tests.emulators.microsoft.graph import graph_error

    return graph_error(status, code, message)
