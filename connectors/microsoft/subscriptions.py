"""Microsoft Graph change notification subscriptions for one mailbox.

A subscription makes Graph POST a notification to `notificationUrl` when a
resource changes, here an Outlook user's messages or events.  Graph first
validates the URL: it POSTs `?validationToken=...` and expects the token
back as text/plain within 10 seconds, or the creation fails.  Each
notification carries the subscription's `clientState`, a secret the
receiver compares to tell real notifications from forged ones.  A
subscription expires at its `expirationDateTime` unless renewed with PATCH.
Lifecycle notifications (reauthorizationRequired, subscriptionRemoved,
missed) go to `lifecycleNotificationUrl`.  See
https://learn.microsoft.com/graph/change-notifications-delivery-webhooks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from connectors.errors import MalformedData
from connectors.microsoft.client import GraphClient

CHANGE_TYPES = "created,updated,deleted"


@dataclasses.dataclass(frozen=True)
class Subscription:
    """A Graph subscription as Graph returned it."""

    id: str
    resource: str
    expires_at: dt.datetime


def resource_path(client: GraphClient, collection: str) -> str:
    """Return the subscription resource of `collection` ("messages" or "events").

    Delegated clients subscribe to me/..., application clients to
    users/{mailbox}/..., the same user paths the readers use.
    """
    return f"{client.user_path.lstrip('/')}/{collection}"


def create_subscription(
    client: GraphClient,
    resource: str,
    notification_url: str,
    client_state: str,
    expires_at: dt.datetime,
) -> Subscription:
    """Create a subscription; Graph validates `notification_url` before it responds.

    Lifecycle notifications go to the same URL.
    """
    body = {
        "changeType": CHANGE_TYPES,
        "notificationUrl": notification_url,
        "lifecycleNotificationUrl": notification_url,
        "resource": resource,
        "expirationDateTime": _graph_time(expires_at),
        "clientState": client_state,
    }
    response = client.send("POST", f"{_root(client)}/subscriptions", body)
    return _subscription(response)


def renew_subscription(
    client: GraphClient, subscription_id: str, expires_at: dt.datetime
) -> Subscription:
    """Move a subscription's expiry; a subscription Graph removed raises RemoteGone."""
    body = {"expirationDateTime": _graph_time(expires_at)}
    url = f"{_root(client)}/subscriptions/{subscription_id}"
    return _subscription(client.send("PATCH", url, body))


def delete_subscription(client: GraphClient, subscription_id: str) -> None:
    """Delete a subscription; one already gone raises RemoteGone."""
    client.send("DELETE", f"{_root(client)}/subscriptions/{subscription_id}")


def _root(client: GraphClient) -> str:
    return client.config.graph_url.rstrip("/")


def _graph_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _subscription(response: dict[str, Any] | None) -> Subscription:
    if not response or "id" not in response:
        raise MalformedData("Graph returned a subscription without an id")
    try:
        expires = dt.datetime.fromisoformat(
            str(response["expirationDateTime"]).replace("Z", "+00:00")
        )
    except (KeyError, ValueError) as error:
        raise MalformedData(
            "Graph returned a subscription without a valid expirationDateTime"
        ) from error
    return Subscription(
        id=str(response["id"]),
        resource=str(response.get("resource", "")),
        expires_at=expires.astimezone(dt.UTC),
    )
