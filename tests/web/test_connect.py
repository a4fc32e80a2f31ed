"""Connecting Google and Microsoft accounts from the accounts page, against the
emulators, and syncing an account now."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from connectors.google.auth import CALENDAR_EVENTS_SCOPE
from connectors.google.send import GMAIL_SEND_SCOPE
from tests.emulators.google import GoogleEmulator, fill_mailbox
from tests.emulators.google.harness import settings_for
from tests.emulators.microsoft import GraphEmulator, SystemClock
from tests.web.conftest import sign_in
from tests.web.factories import Clinic, FakeClock
from tests.web.providers import (
    MICROSOFT_CLIENT_ID,
    MICROSOFT_CLIENT_SECRET,
    configure,
    follow_provider,
    microsoft_environment,
    provider_app,
    real_time,
    site_client,
)
from warmline import audit
from warmline.audit_models import AuditRecord
from warmline.models import (
    Account,
    AccountActivity,
    AccountStatus,
    StaffAddress,
    StaffMember,
)
from warmline.providers import google as google_provider
from warmline.providers.google import GoogleProviderSettings
from warmline.secrets import load_secret_box
from warmline.worker.tasks import SYNC_ACCOUNT
from web.oidc import FLOW_COOKIE

ADMIN = "admin@alpha-pt.example"
MEMBER_STAFF = "member@alpha-pt.example"
STRANGER = "stranger@elsewhere.example"
REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(users=[ADMIN, MEMBER_STAFF, STRANGER]) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def microsoft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-connect"), SystemClock())
    emulator.identity.add_app(MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET)
    emulator.add_user(ADMIN, "Alpha Admin")
    emulator.add_user(STRANGER, "Someone Else")
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def fresh_emulators(google: GoogleEmulator) -> None:
    google.oauth.consenting_user = None


@pytest.fixture
def site(
    database_url: str,
    clock: FakeClock,
    google: GoogleEmulator,
    microsoft: GraphEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FastAPI]:
    for name, value in microsoft_environment(microsoft).items():
        monkeypatch.setenv(name, value)
    # requests-oauthlib sends codes only over https unless this is set; the
    # emulator serves plain http on loopback.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    real_time(clock)
    application = provider_app(database_url, clock, google, tmp_path)
    yield application
    application.state.web.engine.dispose()


@pytest.fixture
def admin(site: FastAPI, clinic: Clinic) -> Iterator[TestClient]:
    with site_client(site) as client:
        assert sign_in(client, clinic.admin_email).status_code == 303
        yield client


def csrf(client: TestClient) -> str:
    token: str = client.get("/api/me").json()["csrf_token"]
    return token


def connect(
    client: TestClient, flow: str, staff_id: int, ca_file: str | None = None
) -> tuple[str, object]:
    start = client.post(
        f"/accounts/connect/{flow}",
        data={"csrf_token": csrf(client), "staff_member_id": str(staff_id)},
    )
    return follow_provider(client, start, ca_file)


def accounts_of(sessions, workspace_id: int) -> dict[str, Account]:
    with sessions() as session:
        rows = session.scalars(
            select(Account).where(
                Account.workspace_id == workspace_id, Account.provider != "mbox"
            )
        )
        return {account.provider: account for account in rows}


def stored_credential(site: FastAPI, account: Account) -> str:
    settings = site.state.oauth.settings
    box = load_secret_box(settings.secret_keys, Path(settings.secret_key_file))
    assert account.secret is not None
    return box.decrypt(account.secret)


def test_accounts_page_offers_connect(admin):
    page = admin.get("/accounts")

    assert 'action="/accounts/connect/google"' in page.text
    assert 'action="/accounts/connect/microsoft"' in page.text


def test_google_connect_creates_accounts(admin, site, clinic, google, sessions):
    _callback, response = connect(admin, "google", clinic.staff_id)

    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/accounts?connected=")
    accounts = accounts_of(sessions, clinic.workspace_id)
    gmail, calendar = accounts["gmail"], accounts["google_calendar"]
    assert gmail.location == ADMIN
    assert gmail.status is AccountStatus.ACTIVE
    assert calendar.options["credential_account_id"] == gmail.id
    grant = json.loads(stored_credential(site, gmail))
    assert grant["refresh_token"] in google.oauth.refresh_tokens
    assert gmail.secret is not None
    assert grant["refresh_token"] not in gmail.secret
    request = google.oauth.authorization_requests[-1]
    assert request["login_hint"] == ADMIN
    assert request["code_challenge_method"] == "S256"
    assert request["access_type"] == "offline"
    assert FLOW_COOKIE not in admin.cookies
    with sessions() as session:
        actions = session.scalars(
            select(AuditRecord.target).where(
                AuditRecord.action == audit.ACCOUNT_CONNECT,
                AuditRecord.workspace_id == clinic.workspace_id,
            )
        ).all()
    assert sorted(actions) == sorted([f"account:{gmail.id}", f"account:{calendar.id}"])


def test_microsoft_connect_creates_accounts(admin, site, clinic, microsoft, sessions):
    _callback, response = connect(
        admin, "microsoft", clinic.staff_id, str(microsoft.ca_file)
    )

    assert response.status_code == 303, response.text
    accounts = accounts_of(sessions, clinic.workspace_id)
    mail, calendar = accounts["outlook_mail"], accounts["outlook_calendar"]
    assert mail.location == ADMIN
    assert mail.options["mode"] == "delegated"
    assert calendar.options["credential_account_id"] == mail.id
    cache = json.loads(stored_credential(site, mail))
    assert cache["RefreshToken"]
    redeemed = microsoft.identity.token_requests[-1]
    assert redeemed["grant_type"] == "authorization_code"
    assert redeemed["code_verifier"]


def test_google_connect_requests_enabled_scopes(admin, clinic, google, sessions):
    connect(admin, "google", clinic.staff_id)
    plain = set(google.oauth.authorization_requests[-1]["scope"].split())
    configure(
        sessions,
        clinic.workspace_id,
        digest_transport="connector",
        place_follow_ups="true",
    )

    _callback, response = connect(admin, "google", clinic.staff_id)

    assert response.status_code == 303, response.text
    requested = set(google.oauth.authorization_requests[-1]["scope"].split())
    assert GMAIL_SEND_SCOPE not in plain
    assert CALENDAR_EVENTS_SCOPE not in plain
    assert requested == plain | {GMAIL_SEND_SCOPE, CALENDAR_EVENTS_SCOPE}
    gmail = accounts_of(sessions, clinic.workspace_id)["gmail"]
    assert set(gmail.options["scopes"]) == requested


def test_microsoft_connect_requests_enabled_scopes(admin, clinic, microsoft, sessions):
    configure(
        sessions,
        clinic.workspace_id,
        digest_transport="connector",
        place_follow_ups="true",
    )

    _callback, response = connect(
        admin, "microsoft", clinic.staff_id, str(microsoft.ca_file)
    )

    assert response.status_code == 303, response.text
    redeemed = set(microsoft.identity.token_requests[-1]["scope"].split())
    assert {"Mail.Send", "Calendars.ReadWrite"} <= redeemed
    mail = accounts_of(sessions, clinic.workspace_id)["outlook_mail"]
    granted = {scope.rsplit("/", 1)[-1] for scope in mail.options["scopes"]}
    assert {"Mail.Send", "Calendars.ReadWrite"} <= granted


def test_reconnect_needs_reauth_account(admin, site, clinic, google, sessions):
    connect(admin, "google", clinic.staff_id)
    gmail = accounts_of(sessions, clinic.workspace_id)["gmail"]
    with sessions.begin() as session:
        row = session.get_one(Account, gmail.id)
        row.status = AccountStatus.NEEDS_REAUTH
        row.cursor = "12345"
        row.last_error = "Google refused the stored grant"
    page = admin.get("/accounts")
    assert "Reconnect" in page.text

    _callback, response = connect(admin, "google", clinic.staff_id)

    assert response.status_code == 303, response.text
    again = accounts_of(sessions, clinic.workspace_id)["gmail"]
    assert again.id == gmail.id
    assert again.status is AccountStatus.ACTIVE
    assert again.cursor == "12345"
    assert again.last_error is None


def test_consent_for_other_account_rejected(admin, clinic, google, sessions):
    google.oauth.consenting_user = STRANGER

    _callback, response = connect(admin, "google", clinic.staff_id)

    assert response.status_code == 400
    assert "is not an address of staff member" in response.text
    assert accounts_of(sessions, clinic.workspace_id) == {}


def test_provider_error_shown(admin, clinic, sessions):
    start = admin.post(
        "/accounts/connect/google",
        data={"csrf_token": csrf(admin), "staff_member_id": str(clinic.staff_id)},
    )
    query = urllib.parse.urlsplit(start.headers["location"]).query
    state = dict(urllib.parse.parse_qsl(query))["state"]

    response = admin.get(
        "/accounts/connect/google/callback?"
        + urllib.parse.urlencode({"error": "access_denied", "state": state})
    )

    assert response.status_code == 400
    assert "access_denied" in response.text
    assert accounts_of(sessions, clinic.workspace_id) == {}


def test_wrong_state_rejected(admin, clinic, sessions):
    callback, _response = connect(admin, "google", clinic.staff_id)
    split = urllib.parse.urlsplit(callback)
    params = dict(urllib.parse.parse_qsl(split.query))
    admin.post(
        "/accounts/connect/google",
        data={"csrf_token": csrf(admin), "staff_member_id": str(clinic.staff_id)},
    )
    params["state"] = "forged-state"

    response = admin.get(split.path + "?" + urllib.parse.urlencode(params))

    assert response.status_code == 400
    assert "does not belong to the" in response.text


def test_callback_of_other_user_rejected(site, admin, clinic, sessions):
    start = admin.post(
        "/accounts/connect/google",
        data={"csrf_token": csrf(admin), "staff_member_id": str(clinic.staff_id)},
    )
    flow_cookie = admin.cookies[FLOW_COOKIE]
    with site_client(site) as member:
        assert sign_in(member, clinic.member_email).status_code == 303
        member.cookies.set(FLOW_COOKIE, flow_cookie)
        _callback, response = follow_provider(member, start)

    assert response.status_code == 400
    assert "started by another sign-in" in response.text
    assert accounts_of(sessions, clinic.workspace_id) == {}


def test_connect_requires_csrf(admin, clinic):
    response = admin.post(
        "/accounts/connect/google", data={"staff_member_id": str(clinic.staff_id)}
    )

    assert response.status_code == 403


def test_member_cannot_connect_other_staff(site, clinic, sessions):
    with sessions.begin() as session:
        own = StaffMember(
            workspace_id=clinic.workspace_id,
            email=MEMBER_STAFF,
            name="Alpha Member",
            timezone="UTC",
        )
        session.add(own)
        session.flush()
        session.add(
            StaffAddress(
                workspace_id=clinic.workspace_id,
                staff_member_id=own.id,
                address=MEMBER_STAFF,
            )
        )
    with site_client(site) as member:
        assert sign_in(member, clinic.member_email).status_code == 303
        page = member.get("/accounts")

        response = member.post(
            "/accounts/connect/google",
            data={"csrf_token": csrf(member), "staff_member_id": str(clinic.staff_id)},
        )
        _callback, own_response = connect(member, "google", own.id)

    assert response.status_code == 404
    assert "Sync now" not in page.text
    assert own_response.status_code == 303, own_response.text
    assert accounts_of(sessions, clinic.workspace_id)["gmail"].location == MEMBER_STAFF


def test_other_workspace_staff_not_found(admin, other_clinic):
    response = admin.post(
        "/accounts/connect/google",
        data={"csrf_token": csrf(admin), "staff_member_id": str(other_clinic.staff_id)},
    )

    assert response.status_code == 404


def test_sync_now_reads_connected_mailbox(admin, site, clinic, google, sessions):
    connect(admin, "google", clinic.staff_id)
    fill_mailbox(google.user(ADMIN).mailbox, 5)
    google_provider.register_readers(
        settings=GoogleProviderSettings(api_root=google.url),
        connector=settings_for(google),
    )
    gmail = accounts_of(sessions, clinic.workspace_id)["gmail"]

    response = admin.post(
        f"/accounts/{gmail.id}/sync", data={"csrf_token": csrf(admin)}
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/accounts?syncing={gmail.id}"
    with sessions() as session:
        stored = session.scalar(
            select(func.count()).where(AccountActivity.account_id == gmail.id)
        )
        synced = session.get_one(Account, gmail.id)
    assert stored and stored > 0
    assert synced.last_sync_at is not None
    assert synced.cursor is not None


def test_sync_now_rejects_needs_reauth(admin, clinic, sessions):
    with sessions.begin() as session:
        session.get_one(Account, clinic.account_id).status = AccountStatus.NEEDS_REAUTH

    response = admin.post(
        f"/accounts/{clinic.account_id}/sync", data={"csrf_token": csrf(admin)}
    )

    assert response.status_code == 409
    assert "connected again" in response.text


def test_sync_now_other_workspace_not_found(admin, other_clinic):
    response = admin.post(
        f"/accounts/{other_clinic.account_id}/sync", data={"csrf_token": csrf(admin)}
    )

    assert response.status_code == 404


def test_page_lists_sync_button(admin, clinic):
    page = admin.get("/accounts")

    assert re.search(rf'action="/accounts/{clinic.account_id}/sync"', page.text)


def test_sync_now_sends_task_to_broker(
    database_url, clock, google, tmp_path, clinic, sessions, monkeypatch
):
    queue = f"web-sync-{uuid.uuid4().hex[:12]}"
    extra = {
        "WARMLINE_BROKER_URL": REDIS_URL,
        "WARMLINE_TASK_QUEUE": queue,
    }
    application = provider_app(database_url, clock, google, tmp_path, **extra)
    try:
        with site_client(application) as admin:
            assert sign_in(admin, clinic.admin_email).status_code == 303

            response = admin.post(
                f"/accounts/{clinic.account_id}/sync", data={"csrf_token": csrf(admin)}
            )

        worker = application.state.oauth.worker_app
        with worker.connection_for_read() as connection:
            with connection.SimpleQueue(queue) as pending:
                message = pending.get(timeout=5)
                message.ack()
    finally:
        application.state.web.engine.dispose()
        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"{queue}*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()

    assert response.status_code == 303
    assert message.headers["task"] == SYNC_ACCOUNT
    assert message.payload[0] == [clinic.account_id]
