"""The push endpoints, Gmail watches and Graph subscriptions, against the emulators.

Endpoint checks use a TestClient without the lifespan, so no runner
consumes the sync requests they leave.  The end-to-end tests serve the site
with uvicorn on a loopback port: the emulators validate and POST to it, and
the embedded runner syncs the accounts.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.emulators.google import GoogleEmulator, message_headers
from tests.emulators.microsoft import GraphEmulator, SystemClock, address
from tests.emulators.microsoft.harness import CLIENT_ID
from tests.web.push_fixtures import (
    AUDIENCE,
    PUSH_TOKEN,
    SECRET_KEY,
    TOPIC,
    add_gmail_account,
    add_outlook_account,
    free_socket,
    provider_environment,
    push_environment,
    register_readers,
    secret_box,
    serve,
    wait_for,
)
from warmline import push
from warmline.cli import main
from warmline.models import AccountActivity, utcnow
from warmline.pipeline import sync_account
from warmline.push_models import PushSubscription, SyncRequest
from warmline.push_subscriptions import SubscriptionManager, lacks_subscription
from warmline.settings import load_settings
from web import create_app

GMAIL_USER = "sam.ortiz@brookside-pt.example"
OUTLOOK_USER = "jo.lee@brookside-pt.example"


@pytest.fixture(scope="module")
def google_emulator() -> Iterator[GoogleEmulator]:
    with GoogleEmulator([GMAIL_USER]) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-push"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def readers(
    google_emulator: GoogleEmulator,
    graph: GraphEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    for name, value in provider_environment(google_emulator, graph).items():
        monkeypatch.setenv(name, value)
    register_readers(google_emulator, graph)
    yield
    google_emulator.pubsub.watches.clear()
    google_emulator.pubsub.deliveries.clear()
    google_emulator.pubsub.endpoint = None
    graph.subscriptions.items.clear()
    graph.subscriptions.deliveries.clear()


@pytest.fixture
def client_for(database_url: str, google_emulator: GoogleEmulator) -> Iterator:
    """Return a factory of test clients; the lifespan (and its runner) stays off."""
    apps = []

    def make(**extra: str) -> TestClient:
        environment = push_environment(database_url, google_emulator, **extra)
        apps.append(create_app(load_settings(environment)))
        return TestClient(apps[-1])

    yield make
    for app in apps:
        app.state.web.engine.dispose()


def pending(sessions) -> dict[int, str]:
    with sessions() as session:
        rows = session.scalars(select(SyncRequest)).all()
        return {row.account_id: row.reason for row in rows}


def sightings(sessions, account_id: int) -> int:
    with sessions() as session:
        return session.scalar(
            select(func.count(AccountActivity.id)).where(
                AccountActivity.account_id == account_id
            )
        )


def add_mail(emulator: GoogleEmulator, number: int) -> None:
    headers = message_headers(
        sender="Dr Maria Lopez <maria.lopez@cedar-im.example>",
        to=GMAIL_USER,
        subject=f"Referral {number}",
        date=dt.datetime(2026, 12, 4, 15, number, tzinfo=dt.UTC),
        message_id=f"<push-{number}@cedar-im.example>",
    )
    emulator.user(GMAIL_USER).mailbox.add_message(headers)


# --- Gmail push: verification ----------------------------------------------------------


def test_gmail_push_valid_token_requests_sync(
    client_for, database_url, sessions, google_emulator
):
    account_id = add_gmail_account(sessions, google_emulator, GMAIL_USER)
    pubsub = google_emulator.pubsub
    client = client_for()

    token = pubsub.oidc_token(AUDIENCE)
    response = client.post(
        "/push/gmail",
        json=envelope(GMAIL_USER, 900_000),
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 204
    assert pending(sessions) == {account_id: "gmail push"}


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"aud": "https://other.example/push"}, 403),
        ({"iss": "https://evil.example"}, 403),
        ({"exp": 1_000_000_000, "iat": 999_990_000}, 403),
        ({"email": "someone@evil.iam.gserviceaccount.com"}, 403),
        ({"email_verified": False}, 403),
    ],
)
def test_gmail_push_invalid_token_rejected(
    client_for, database_url, sessions, google_emulator, claims, status
):
    add_gmail_account(sessions, google_emulator, GMAIL_USER)
    pubsub = google_emulator.pubsub
    client = client_for(
        WARMLINE_GMAIL_PUSH_SERVICE_ACCOUNT=pubsub.service_account,
    )

    token = pubsub.oidc_token(AUDIENCE, **claims)
    response = client.post(
        "/push/gmail",
        json=envelope(GMAIL_USER, 900_000),
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == status, response.text
    assert pending(sessions) == {}


def test_gmail_push_missing_or_forged_token(
    client_for, database_url, sessions, google_emulator
):
    add_gmail_account(sessions, google_emulator, GMAIL_USER)
    client = client_for()
    forger = GoogleEmulator([GMAIL_USER]).pubsub
    forger.key_id = google_emulator.pubsub.key_id

    missing = client.post("/push/gmail", json=envelope(GMAIL_USER, 900_000))
    forged = client.post(
        "/push/gmail",
        json=envelope(GMAIL_USER, 900_000),
        headers={"Authorization": f"Bearer {forger.oidc_token(AUDIENCE)}"},
    )

    assert missing.status_code == 401
    assert forged.status_code == 403
    assert "Signature verification failed" in forged.text
    assert pending(sessions) == {}


def test_gmail_push_url_token(client_for, database_url, sessions, google_emulator):
    account_id = add_gmail_account(sessions, google_emulator, GMAIL_USER)
    client = client_for(
        WARMLINE_GMAIL_PUSH_AUDIENCE="",
        WARMLINE_GMAIL_PUSH_TOKEN=PUSH_TOKEN,
    )
    body = envelope(GMAIL_USER, 900_000)

    missing = client.post("/push/gmail", json=body)
    wrong = client.post("/push/gmail?token=guess", json=body)
    right = client.post(f"/push/gmail?token={PUSH_TOKEN}", json=body)

    assert missing.status_code == 401
    assert wrong.status_code == 403
    assert right.status_code == 204
    assert pending(sessions) == {account_id: "gmail push"}


def test_gmail_push_without_settings_rejected(
    client_for, database_url, sessions, google_emulator
):
    add_gmail_account(sessions, google_emulator, GMAIL_USER)
    client = client_for(WARMLINE_GMAIL_PUSH_AUDIENCE="")

    response = client.post("/push/gmail", json=envelope(GMAIL_USER, 900_000))

    assert response.status_code == 403
    assert "WARMLINE_GMAIL_PUSH_AUDIENCE" in response.text


def test_gmail_push_malformed_envelope(client_for, database_url, google_emulator):
    client = client_for(
        WARMLINE_GMAIL_PUSH_AUDIENCE="",
        WARMLINE_GMAIL_PUSH_TOKEN="t",
    )

    no_message = client.post("/push/gmail?token=t", json={"subscription": "s"})
    not_json = client.post("/push/gmail?token=t", content=b"{")

    assert no_message.status_code == 400
    assert "message.data" in no_message.text
    assert not_json.status_code == 400


def test_gmail_stale_history_id_ignored(
    client_for, database_url, sessions, google_emulator
):
    account_id = add_gmail_account(sessions, google_emulator, GMAIL_USER)
    add_mail(google_emulator, 1)
    sync_account(sessions, account_id, 100, secret_box=secret_box)
    current = google_emulator.user(GMAIL_USER).mailbox.history_id
    client = client_for(
        WARMLINE_GMAIL_PUSH_AUDIENCE="",
        WARMLINE_GMAIL_PUSH_TOKEN=PUSH_TOKEN,
    )
    url = f"/push/gmail?token={PUSH_TOKEN}"

    at_cursor = client.post(url, json=envelope(GMAIL_USER, current))
    below = client.post(url, json=envelope(GMAIL_USER, current - 1))
    requested_after_stale = pending(sessions)
    newer = client.post(url, json=envelope(GMAIL_USER, current + 1))

    assert at_cursor.status_code == 204
    assert below.status_code == 204
    assert requested_after_stale == {}
    assert newer.status_code == 204
    assert pending(sessions) == {account_id: "gmail push"}


def test_gmail_push_unknown_address_acknowledged(
    client_for, database_url, sessions, google_emulator
):
    add_gmail_account(sessions, google_emulator, GMAIL_USER)
    client = client_for(
        WARMLINE_GMAIL_PUSH_AUDIENCE="",
        WARMLINE_GMAIL_PUSH_TOKEN=PUSH_TOKEN,
    )

    response = client.post(
        f"/push/gmail?token={PUSH_TOKEN}",
        json=envelope("nobody@brookside-pt.example", 5),
    )

    assert response.status_code == 204
    assert pending(sessions) == {}


# --- Gmail push: end to end -------------------------------------------------------------


def test_gmail_watch_and_push_sync_mail(database_url, sessions, google_emulator):
    account_id = add_gmail_account(sessions, google_emulator, GMAIL_USER)
    sync_account(sessions, account_id, 100, secret_box=secret_box)
    before = sightings(sessions, account_id)
    sock = free_socket()
    settings = load_settings(push_environment(database_url, google_emulator))
    app = create_app(settings)

    with serve(sock, app) as site:
        watch = wait_for(lambda: watch_row(sessions, account_id), "users.watch")
        google_emulator.pubsub.subscribe(site.gmail_url, audience=AUDIENCE)
        add_mail(google_emulator, 2)
        wait_for(
            lambda: sightings(sessions, account_id) == before + 1, "the pushed sync"
        )

    deliveries = google_emulator.pubsub.deliveries
    assert watch.resource == TOPIC
    assert watch.history_id is not None
    assert watch.expires_at > utcnow() + dt.timedelta(days=6)
    assert [d.status for d in deliveries] == [204]
    assert google_emulator.calls_to("users.watch")[-1].status == 200
    assert pending(sessions) == {}


def watch_row(sessions, account_id: int) -> PushSubscription | None:
    with sessions() as session:
        return session.scalar(
            select(PushSubscription).where(
                PushSubscription.account_id == account_id,
                PushSubscription.kind == push.GMAIL_WATCH,
            )
        )


def test_gmail_watch_renewed_after_a_day(database_url, sessions, google_emulator):
    account_id = add_gmail_account(sessions, google_emulator, GMAIL_USER)
    settings = load_settings(push_environment(database_url, google_emulator))
    manager = SubscriptionManager(sessions, settings, secret_box)
    start = utcnow()

    first = manager.renew_all(start)
    same_day = manager.renew_all(start + dt.timedelta(hours=23))
    next_day = manager.renew_all(start + dt.timedelta(hours=24, minutes=1))

    assert (first.created, first.renewed) == (1, 0)
    assert (same_day.created, same_day.renewed) == (0, 0)
    assert (next_day.created, next_day.renewed) == (0, 1)
    assert len(google_emulator.calls_to("users.watch")) >= 2
    row = watch_row(sessions, account_id)
    assert row.renewed_at == start + dt.timedelta(hours=24, minutes=1)


def test_lacks_subscription_until_renewed(database_url, sessions, google_emulator):
    account_id = add_gmail_account(sessions, google_emulator, GMAIL_USER)
    settings = load_settings(push_environment(database_url, google_emulator))
    no_topic = load_settings(
        push_environment(database_url, google_emulator, WARMLINE_GMAIL_PUSH_TOPIC="")
    )
    with sessions() as session:
        before = lacks_subscription(session, settings, account_id)
        without_topic = lacks_subscription(session, no_topic, account_id)

    SubscriptionManager(sessions, settings, secret_box).renew_all()

    with sessions() as session:
        after = lacks_subscription(session, settings, account_id)
    assert before is True
    assert without_topic is False
    assert after is False


def test_gmail_watch_stopped_without_topic(database_url, sessions, google_emulator):
    add_gmail_account(sessions, google_emulator, GMAIL_USER)
    settings = load_settings(push_environment(database_url, google_emulator))
    SubscriptionManager(sessions, settings, secret_box).renew_all()
    no_topic = load_settings(
        push_environment(database_url, google_emulator, WARMLINE_GMAIL_PUSH_TOPIC="")
    )

    report = SubscriptionManager(sessions, no_topic, secret_box).renew_all()

    assert report.deleted == 1
    assert GMAIL_USER not in google_emulator.pubsub.watches
    with sessions() as session:
        assert session.scalar(select(func.count(PushSubscription.id))) == 0


# --- Microsoft Graph ---------------------------------------------------------------------


def test_graph_validation_handshake(client_for, database_url, google_emulator):
    client = client_for()

    response = client.post("/push/graph?validationToken=Validation%3A+Testing+123")

    assert response.status_code == 200
    assert response.text == "Validation: Testing 123"
    assert response.headers["content-type"].startswith("text/plain")


def stored_subscription(sessions, account_id: int, client_state: str) -> str:
    with sessions.begin() as session:
        session.add(
            PushSubscription(
                account_id=account_id,
                kind=push.GRAPH,
                resource="messages",
                subscription_id="sub-1",
                client_state=secret_box().encrypt(client_state),
                expires_at=utcnow() + dt.timedelta(days=2),
            )
        )
    return "sub-1"


def test_graph_client_state_mismatch_rejected(
    client_for, database_url, sessions, google_emulator, graph
):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    subscription_id = stored_subscription(sessions, account_id, "right-secret")
    client = client_for()

    forged = client.post(
        "/push/graph",
        json={"value": [change(subscription_id, "wrong-secret")]},
    )
    missing = client.post(
        "/push/graph", json={"value": [change(subscription_id, None)]}
    )
    requested_after_forged = pending(sessions)
    genuine = client.post(
        "/push/graph", json={"value": [change(subscription_id, "right-secret")]}
    )

    assert forged.status_code == 403
    assert missing.status_code == 403
    assert requested_after_forged == {}
    assert genuine.status_code == 202
    assert pending(sessions) == {account_id: "graph notification"}


def test_graph_notification_queues_right_account(
    client_for, database_url, sessions, google_emulator, graph
):
    first = add_outlook_account(sessions, graph, OUTLOOK_USER)
    second = add_outlook_account(sessions, graph, "ana.ruiz@brookside-pt.example")
    stored_subscription(sessions, second, "second-secret")
    client = client_for()

    response = client.post(
        "/push/graph", json={"value": [change("sub-1", "second-secret")]}
    )

    assert response.status_code == 202
    assert pending(sessions) == {second: "graph notification"}
    assert first not in pending(sessions)


def test_graph_malformed_body(client_for, database_url, google_emulator):
    client = client_for()

    response = client.post("/push/graph", json={"items": []})

    assert response.status_code == 400
    assert "'value'" in response.text


def test_graph_subscription_and_notification_sync(
    database_url, sessions, google_emulator, graph
):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    sync_account(sessions, account_id, 100, secret_box=secret_box)
    before = sightings(sessions, account_id)
    sock = free_socket()
    site_url = f"http://127.0.0.1:{sock.getsockname()[1]}/push/graph"
    settings = load_settings(
        push_environment(database_url, google_emulator, graph_url=site_url)
    )

    with serve(sock, create_app(settings)):
        row = wait_for(lambda: graph_row(sessions, account_id), "the subscription")
        remote = graph.subscriptions.items[row.subscription_id]
        add_message(graph, OUTLOOK_USER, 1)
        wait_for(
            lambda: sightings(sessions, account_id) == before + 1, "the notified sync"
        )

    validations = [d for d in graph.subscriptions.deliveries if d.kind == "validation"]
    assert [d.status for d in validations] == [200]
    assert remote.resource == "me/messages"
    assert remote.notification_url == site_url
    assert remote.lifecycle_url == site_url
    assert remote.client_state == secret_box().decrypt(row.client_state)
    assert row.expires_at > utcnow() + dt.timedelta(days=2)
    created = [d for d in graph.subscriptions.deliveries if d.kind == "created"]
    assert created[0].status == 202


def test_graph_creation_fails_when_validation_fails(
    database_url, sessions, google_emulator, graph
):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    settings = load_settings(
        push_environment(
            database_url,
            google_emulator,
            graph_url="http://127.0.0.1:9/push/graph",
        )
    )

    report = SubscriptionManager(sessions, settings, secret_box).renew_all()

    assert report.failed == 1
    assert graph_row(sessions, account_id) is None
    assert graph.subscriptions.items == {}


def graph_row(sessions, account_id: int) -> PushSubscription | None:
    with sessions() as session:
        return session.scalar(
            select(PushSubscription).where(
                PushSubscription.account_id == account_id,
                PushSubscription.kind == push.GRAPH,
            )
        )


def expire_soon(sessions, account_id: int, left: dt.timedelta) -> None:
    """Move a stored expiry closer, as if the subscription had aged."""
    with sessions.begin() as session:
        row = session.scalar(
            select(PushSubscription).where(PushSubscription.account_id == account_id)
        )
        row.expires_at = utcnow() + left


def test_graph_renewed_before_expiry(database_url, sessions, google_emulator, graph):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    site = PassiveSite(database_url)
    manager = SubscriptionManager(sessions, site.settings, secret_box)
    with serve(site.sock, site.app):
        manager.renew_all()
        created = graph_row(sessions, account_id)
        early = manager.renew_all()
        expire_soon(sessions, account_id, dt.timedelta(hours=23))
        late = manager.renew_all()

    renewed = graph_row(sessions, account_id)
    remote = graph.subscriptions.items[renewed.subscription_id]
    assert (early.renewed, late.renewed) == (0, 1)
    assert renewed.subscription_id == created.subscription_id
    assert renewed.expires_at >= created.expires_at
    assert renewed.expires_at > utcnow() + dt.timedelta(days=2)
    assert remote.expires_at == renewed.expires_at
    assert len(graph.requests_to("/subscriptions/" + created.subscription_id)) == 1


def test_graph_renewal_recreates_missing(
    database_url, sessions, google_emulator, graph
):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    site = PassiveSite(database_url)
    manager = SubscriptionManager(sessions, site.settings, secret_box)
    with serve(site.sock, site.app):
        manager.renew_all()
        lost = graph_row(sessions, account_id).subscription_id
        graph.subscriptions.items.clear()
        expire_soon(sessions, account_id, dt.timedelta(hours=1))
        report = manager.renew_all()

    replacement = graph_row(sessions, account_id)
    assert report.renewed == 1
    assert replacement.subscription_id != lost
    assert replacement.subscription_id in graph.subscriptions.items


def test_graph_lifecycle_events(database_url, sessions, google_emulator, graph):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    site = PassiveSite(database_url)
    manager = SubscriptionManager(sessions, site.settings, secret_box)
    with serve(site.sock, site.app):
        manager.renew_all()
        first = graph_row(sessions, account_id)
        graph.subscriptions.items[first.subscription_id].expires_at = utcnow() + (
            dt.timedelta(minutes=30)
        )

        reauthorize = graph.subscriptions.send_lifecycle(
            first.subscription_id, "reauthorizationRequired"
        )
        due = graph_row(sessions, account_id)
        manager.renew_all()
        renewed = graph_row(sessions, account_id)

        missed = graph.subscriptions.send_lifecycle(first.subscription_id, "missed")
        after_missed = pending(sessions)

        removed = graph.subscriptions.send_lifecycle(
            first.subscription_id, "subscriptionRemoved"
        )
        after_removed = graph_row(sessions, account_id)
        manager.renew_all()
        recreated = graph_row(sessions, account_id)

    assert reauthorize == 202
    assert due.expires_at <= utcnow()
    assert renewed.expires_at > utcnow() + dt.timedelta(days=2)
    assert missed == 202
    assert after_missed == {account_id: "graph notifications missed"}
    assert removed == 202
    assert after_removed is None
    assert recreated.subscription_id != first.subscription_id
    assert pending(sessions) == {account_id: "graph subscription removed"}


def test_graph_subscriptions_deleted_with_account(
    database_url, sessions, google_emulator, graph
):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    calendar_id = add_outlook_account(
        sessions, graph, OUTLOOK_USER, provider="outlook_calendar"
    )
    site = PassiveSite(database_url)
    manager = SubscriptionManager(sessions, site.settings, secret_box)
    with serve(site.sock, site.app):
        manager.renew_all()
        resources = sorted(s.resource for s in graph.subscriptions.items.values())

        deleted = manager.stop_account(account_id)

    assert resources == ["me/events", "me/messages"]
    assert deleted == 1
    assert [s.resource for s in graph.subscriptions.items.values()] == ["me/events"]
    assert graph_row(sessions, account_id) is None
    assert graph_row(sessions, calendar_id) is not None


class PassiveSite:
    """A served site whose runner stays off; the tests run each renewal pass."""

    def __init__(self, database_url: str) -> None:
        self.sock = free_socket()
        url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/push/graph"
        environment = push_environment(database_url, None, graph_url=url)
        environment["WARMLINE_GMAIL_PUSH_TOPIC"] = ""
        environment["WARMLINE_GMAIL_PUSH_AUDIENCE"] = ""
        self.settings = load_settings(environment)
        passive = dict(environment, WARMLINE_GRAPH_NOTIFICATION_URL="")
        self.app = create_app(load_settings(passive))


# --- payloads ------------------------------------------------------------------------------


def envelope(email: str, history_id: int) -> dict[str, object]:
    data = json.dumps({"emailAddress": email, "historyId": history_id})
    return {
        "message": {
            "data": base64.b64encode(data.encode()).decode(),
            "messageId": "2070443601311540",
            "publishTime": "2026-12-04T19:00:00Z",
        },
        "subscription": "projects/warmline-test/subscriptions/gmail-push",
    }


def change(subscription_id: str, client_state: str | None) -> dict[str, object]:
    item: dict[str, object] = {
        "subscriptionId": subscription_id,
        "changeType": "created",
        "resource": "Users/abc/Messages/AAMkAD",
        "resourceData": {"id": "AAMkAD"},
        "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    }
    if client_state is not None:
        item["clientState"] = client_state
    return item


def add_message(graph: GraphEmulator, upn: str, number: int) -> None:
    mailbox = graph.mailboxes[upn]
    mailbox.add_message(
        "inbox",
        subject=f"Referral {number}",
        sender=address("Dr Maria Lopez", "maria.lopez@cedar-im.example"),
        to=[address("Jo Lee", upn)],
        sent=dt.datetime(2026, 12, 4, 15, number, tzinfo=dt.UTC),
        internet_message_id=f"<graph-push-{number}@cedar-im.example>",
    )


def test_cli_renew_list_and_remove(
    database_url, sessions, google_emulator, graph, monkeypatch
):
    account_id = add_outlook_account(sessions, graph, OUTLOOK_USER)
    site = PassiveSite(database_url)
    environment = {
        "WARMLINE_SECRET_KEYS": SECRET_KEY,
        "WARMLINE_GRAPH_NOTIFICATION_URL": site.settings.graph_notification_url,
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": graph.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": graph.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(graph.ca_file),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    command = ["--database", database_url, "--workspace", "push"]
    runner = CliRunner()

    with serve(site.sock, site.app):
        renewed = runner.invoke(main, [*command, "push", "renew"])
    listed = runner.invoke(main, [*command, "push", "list"])
    subscribed = list(graph.subscriptions.items)
    removed = runner.invoke(main, [*command, "accounts", "remove", str(account_id)])

    assert renewed.exit_code == 0, renewed.output
    assert "1 created, 0 renewed, 0 deleted, 0 failed" in renewed.output
    assert listed.exit_code == 0, listed.output
    assert "graph" in listed.output
    assert "messages" in listed.output
    assert len(subscribed) == 1
    assert removed.exit_code == 0, removed.output
    assert graph.subscriptions.items == {}
    assert graph_row(sessions, account_id) is None
