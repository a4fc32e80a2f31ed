"""Google authorization against the emulator's token endpoint: stored grants,
rotation, invalid_grant, service accounts, plus the retry and quota helpers."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import google_auth_httplib2
import httplib2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from connectors import NeedsReauthorization, RateLimited, TransientError
from connectors.google import (
    CALENDAR_EVENTS_SCOPE,
    CALENDAR_READONLY_SCOPE,
    GMAIL_METADATA_SCOPE,
    GmailReader,
    RetrySettings,
    StoredCredentials,
    delegated_credentials,
    requested_scopes,
)
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy, retry_after_seconds
from tests.emulators.google import DEFAULT_USER, Fault, GoogleEmulator, fill_mailbox
from tests.emulators.google.harness import (
    LoopbackOnly,
    MemoryCredentialStore,
    RecordingSleep,
    calendar_reader,
    gmail_reader,
    grant_store,
    read_all,
    settings_for,
)

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackOnly]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        fill_mailbox(emulator.user().mailbox, 30, seed=3)
        yield emulator


@pytest.fixture
def emulator(server: GoogleEmulator) -> Iterator[GoogleEmulator]:
    server.faults.clear()
    server.oauth.rotate_refresh_tokens = False
    yield server
    server.faults.clear()
    server.oauth.rotate_refresh_tokens = False


def refresh(credentials: StoredCredentials) -> None:
    http = httplib2.Http(timeout=5)
    credentials.refresh(google_auth_httplib2.Request(http))
    http.close()


def unb64(text: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    )
    return value


# --- scopes and stored grants -----------------------------------------------------


def test_least_scopes_requested() -> None:
    assert requested_scopes() == [GMAIL_METADATA_SCOPE, CALENDAR_READONLY_SCOPE]
    assert requested_scopes(follow_ups=True) == [
        GMAIL_METADATA_SCOPE,
        CALENDAR_READONLY_SCOPE,
        CALENDAR_EVENTS_SCOPE,
    ]


def test_refresh_saves_rotated_token(emulator: GoogleEmulator) -> None:
    emulator.oauth.rotate_refresh_tokens = True
    store = grant_store(emulator)
    first_refresh_token = json.loads(store.value or "")["refresh_token"]
    credentials = StoredCredentials.from_store(store, settings_for(emulator).token_uri)

    refresh(credentials)

    saved = json.loads(store.value or "")
    assert saved["refresh_token"] != first_refresh_token
    assert saved["token"] == credentials.token
    assert store.saves == 1
    assert first_refresh_token not in emulator.oauth.refresh_tokens


def test_second_worker_adopts_rotated_token(emulator: GoogleEmulator) -> None:
    emulator.oauth.rotate_refresh_tokens = True
    store = grant_store(emulator)
    token_uri = settings_for(emulator).token_uri
    worker_a = StoredCredentials.from_store(store, token_uri)
    worker_b = StoredCredentials.from_store(store, token_uri)
    before = len(emulator.oauth.token_requests)

    refresh(worker_a)
    refresh(worker_b)

    assert len(emulator.oauth.token_requests) - before == 1
    assert worker_b.token == worker_a.token
    assert worker_b.refresh_token == worker_a.refresh_token


def test_stored_token_uri_is_ignored(emulator: GoogleEmulator) -> None:
    store = grant_store(emulator)
    value = json.loads(store.value or "")
    value["token_uri"] = "http://127.0.0.1:9/elsewhere"
    store.value = json.dumps(value)

    credentials = StoredCredentials.from_store(store, settings_for(emulator).token_uri)

    assert credentials.token_uri == settings_for(emulator).token_uri


def test_missing_grant_needs_reauthorization(emulator: GoogleEmulator) -> None:
    reader = gmail_reader(emulator, store=MemoryCredentialStore(None))

    with pytest.raises(NeedsReauthorization, match="no Google credential"):
        read_all(reader, None)


@pytest.mark.parametrize("kind", ["gmail", "calendar"])
def test_revoked_grant_needs_reauthorization(
    emulator: GoogleEmulator, kind: str
) -> None:
    other = "amy.chen@brookside-pt.example"
    emulator.add_user(other)
    store = grant_store(emulator, email=other)
    emulator.oauth.revoke_user(other)
    reader = (
        gmail_reader(emulator, store)
        if kind == "gmail"
        else calendar_reader(emulator, store)
    )

    with pytest.raises(NeedsReauthorization) as raised:
        read_all(reader, None)

    assert "invalid_grant" in str(raised.value)
    assert "Token has been expired or revoked." in str(raised.value)
    assert "Testing" in str(raised.value)
    assert store.saves == 0
    assert reader.final_cursor is None


def test_token_endpoint_errors_are_transient(emulator: GoogleEmulator) -> None:
    # google-auth retries 5xx itself for seconds; a 502 it passes on at once.
    emulator.faults.add(Fault("token", status=502, reason=None, times=None))
    reader = gmail_reader(emulator)

    with pytest.raises(TransientError, match="token endpoint"):
        read_all(reader, None)


def test_missing_scope_needs_reauthorization(emulator: GoogleEmulator) -> None:
    info = emulator.authorized_user_info(DEFAULT_USER, [CALENDAR_READONLY_SCOPE])
    reader = gmail_reader(emulator, MemoryCredentialStore(json.dumps(info)))

    with pytest.raises(NeedsReauthorization, match="insufficientPermissions"):
        read_all(reader, None)


# --- service account with domain-wide delegation ----------------------------------


def service_account(emulator: GoogleEmulator, scopes: set[str]) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    email = "warmline-sync@brookside-pt.iam.gserviceaccount.com"
    emulator.oauth.register_service_account(email, "1122334455", public_pem, scopes)
    return {
        "type": "service_account",
        "project_id": "brookside-pt",
        "private_key_id": "k1",
        "private_key": private_pem,
        "client_email": email,
        "client_id": "1122334455",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def test_delegated_token_request_shape(emulator: GoogleEmulator) -> None:
    info = service_account(emulator, set(requested_scopes()))
    settings = settings_for(emulator)
    credentials = delegated_credentials(
        info, DEFAULT_USER, requested_scopes(), token_uri=settings.token_uri
    )
    reader = GmailReader(lambda: credentials, settings, sleep=RecordingSleep())

    items = read_all(reader, None)

    request = emulator.oauth.token_requests[-1]
    assert request["grant_type"] == JWT_BEARER
    header_text, claims_text, _signature = request["assertion"].split(".")
    header, claims = unb64(header_text), unb64(claims_text)
    assert header["alg"] == "RS256"
    assert header["kid"] == "k1"
    assert claims["iss"] == info["client_email"]
    assert claims["sub"] == DEFAULT_USER
    # google-auth always names Google's token endpoint as the audience.
    assert claims["aud"] == "https://oauth2.googleapis.com/token"
    assert claims["scope"].split() == requested_scopes()
    assert claims["exp"] - claims["iat"] == 3600
    assert len(items) > 0


def test_delegation_not_granted_needs_reauthorization(emulator: GoogleEmulator) -> None:
    info = service_account(emulator, {CALENDAR_READONLY_SCOPE})
    settings = settings_for(emulator)
    credentials = delegated_credentials(
        info, DEFAULT_USER, requested_scopes(), token_uri=settings.token_uri
    )
    reader = GmailReader(lambda: credentials, settings, sleep=RecordingSleep())

    with pytest.raises(NeedsReauthorization, match="unauthorized_client"):
        read_all(reader, None)


def test_invalid_service_account_key() -> None:
    with pytest.raises(NeedsReauthorization, match="service account key is invalid"):
        delegated_credentials(
            {"type": "service_account"}, DEFAULT_USER, requested_scopes()
        )


# --- retry policy and quota budget --------------------------------------------------


def test_retry_after_forms() -> None:
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    message = "User-rate limit exceeded.  Retry after 2026-03-02T10:00:07.500Z"

    assert retry_after_seconds("12", "", now) == 12.0
    assert retry_after_seconds("Mon, 02 Mar 2026 10:00:30 GMT", "", now) == 30.0
    assert retry_after_seconds(None, message, now) == 7.5
    assert retry_after_seconds(None, "Backend Error", now) is None
    assert retry_after_seconds("soon", "", now) is None


def test_retry_policy_is_bounded() -> None:
    sleep = RecordingSleep()
    policy = RetryPolicy(
        RetrySettings(max_attempts=3, base_delay=1.0, max_delay=4.0), sleep
    )
    calls = []

    def failing() -> None:
        calls.append(1)
        raise TransientError("HTTP 500")

    with pytest.raises(TransientError):
        policy.call(failing, "test")

    assert len(calls) == 3
    assert len(sleep.delays) == 2
    assert all(0.0 <= delay <= 4.0 for delay in sleep.delays)


def test_retry_policy_honours_retry_after_and_limit() -> None:
    sleep = RecordingSleep()
    hold_delays: list[float] = []
    settings = RetrySettings(max_attempts=5, retry_after_jitter=0.0, max_retry_after=10)
    policy = RetryPolicy(settings, sleep, hold_delays.append)
    errors = [RateLimited("slow", 4.0), RateLimited("slower", 60.0)]

    def throttled() -> None:
        raise errors.pop(0)

    with pytest.raises(RateLimited, match="slower"):
        policy.call(throttled, "test")

    assert sleep.delays == [4.0]
    assert hold_delays == [4.0]


def test_quota_budget_waits_for_window() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    budget = QuotaBudget(100, 60.0, clock=lambda: now[0], sleep=sleep)
    with budget.spend(60):
        pass
    now[0] = 10.0
    with budget.spend(40):
        pass
    now[0] = 20.0

    with budget.spend(30):
        pass

    assert slept == [40.0]
    assert budget.total_units == 130


def test_quota_budget_counts_running_calls() -> None:
    now = [0.0]
    budget = QuotaBudget(
        100, 1.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    with budget.spend(100):
        now[0] = 5.0
        # The call is still running: its units stay in the window.
        assert budget._delay(10) > 0

    assert budget._delay(10) > 0
    now[0] = 6.5
    assert budget._delay(10) == 0
