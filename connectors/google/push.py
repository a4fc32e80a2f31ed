"""Gmail push notifications: users.watch and users.stop for one mailbox.

A watch makes Gmail publish a message to a Cloud Pub/Sub topic whenever
the mailbox changes; the message's data is {emailAddress, historyId}.  A
watch expires after 7 days, and Google recommends calling users.watch
again once a day.  Calling it on a watched mailbox renews the watch.  The Gmail
service account gmail-api-push@system.gserviceaccount.com needs the
Pub/Sub Publisher role on the topic.  See
https://developers.google.com/workspace/gmail/api/guides/push.

Without label ids the watch reports changes to every label, which matches
the Gmail reader: it lists all mail except spam and trash, and it reads
the SPAM and TRASH label changes that remove or restore a message.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import Any

import google.auth.credentials

from connectors.google.client import GMAIL_API, ApiClient
from connectors.google.config import GoogleSettings
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy

WATCH_UNITS = 100
STOP_UNITS = 50
"""Quota units of users.watch and users.stop in Gmail's per-user quota."""


@dataclasses.dataclass(frozen=True)
class GmailWatch:
    """A watch that users.watch started or renewed."""

    history_id: str
    """The mailbox's historyId when the watch started."""
    expires_at: dt.datetime


def watch_mailbox(
    credentials: google.auth.credentials.Credentials,
    settings: GoogleSettings,
    topic: str,
    label_ids: Sequence[str] = (),
    sleep: Callable[[float], None] = time.sleep,
) -> GmailWatch:
    """Start or renew the watch of the mailbox that `credentials` open.

    Raises the connector errors of the Gmail reader.  A topic that Gmail
    cannot publish to raises NeedsReauthorization or SourceUnavailable
    (403 or 400 from users.watch).
    """
    body: dict[str, Any] = {"topicName": topic}
    if label_ids:
        body["labelIds"] = list(label_ids)
        body["labelFilterBehavior"] = "include"
    client = _client(credentials, settings, sleep)
    try:
        response = client.execute(
            "users.watch",
            lambda service: service.users().watch(userId="me", body=body),
            "users.watch",
        )
    finally:
        client.close()
    expiration_ms = int(response["expiration"])
    return GmailWatch(
        history_id=str(response["historyId"]),
        expires_at=dt.datetime.fromtimestamp(expiration_ms / 1000, dt.UTC),
    )


def stop_watch(
    credentials: google.auth.credentials.Credentials,
    settings: GoogleSettings,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Stop every watch on the mailbox that `credentials` open (users.stop)."""
    client = _client(credentials, settings, sleep)
    try:
        client.execute(
            "users.stop",
            lambda service: service.users().stop(userId="me"),
            "users.stop",
        )
    finally:
        client.close()


def _client(
    credentials: google.auth.credentials.Credentials,
    settings: GoogleSettings,
    sleep: Callable[[float], None],
) -> ApiClient:
    regime = dataclasses.replace(
        settings.gmail_quota,
        method_units={
            **settings.gmail_quota.method_units,
            "users.watch": WATCH_UNITS,
            "users.stop": STOP_UNITS,
        },
    )
    limit = int(regime.units_per_minute * settings.quota_share)
    budget = QuotaBudget(limit, settings.quota_window)
    retry = RetryPolicy(settings.retry, sleep, budget.hold)
    return ApiClient(
        GMAIL_API,
        settings.gmail_endpoint,
        credentials,
        settings,
        regime,
        budget,
        retry,
    )
