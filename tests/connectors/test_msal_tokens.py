"""Sign-in and token refresh through msal against the emulated identity platform."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import ssl
from collections.abc import Iterator

import httpx
import msal
import pytest
import structlog

from connectors import NeedsReauthorization
from connectors.microsoft import (
    ApplicationTokenSource,
    AuthorizationCodeFlow,
    DelegatedTokenSource,
    GraphClient,
    OutlookMailReader,
    delegated_scopes,
)
from tests.emulators.microsoft import FakeClock, GraphEmulator, Mailbox, address
from tests.emulators.microsoft.harness import (
    CLIENT_ID,
    LoopbackGuard,
    MemoryCredentialStore,
    SignedIn,
    config_for,
    redirect_params,
    sign_in,
)

APP_ID = "0f4b7b4e-5c55-4e1d-9a4a-3a3d7e1b8c11"
APP_SECRET = "app-secret-value"
TOKEN = re.compile(r"\b(?:at|rt)-[A-Za-z0-9_-]{20,}")


@pytest.fixture(scope="module")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def emulator(
    tmp_path_factory: pytest.TempPathFactory, clock: FakeClock
) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-msal"), clock)
    emulator.identity.add_app(CLIENT_ID)
    emulator.identity.add_app(APP_ID, APP_SECRET)
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackGuard]:
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture
def user(
    emulator: GraphEmulator, request: pytest.FixtureRequest
) -> Iterator[tuple[Mailbox, SignedIn]]:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40]
    upn = f"{name}@brookside-pt.example"
    mailbox = emulator.add_user(upn, "Sam Ortiz")
    mailbox.add_message(
        "inbox",
        subject="Referral",
        sender=address("Thao Nguyen", "thao.nguyen@cedar-im.example"),
        to=[address("Sam Ortiz", upn)],
        sent=dt.datetime(2026, 3, 4, tzinfo=dt.UTC),
        internet_message_id="<r1@cedar-im.example>",
    )
    yield mailbox, sign_in(emulator, upn)


def refresh_tokens(emulator: GraphEmulator) -> list[str]:
    return [
        r["refresh_token"]
        for r in emulator.identity.token_requests
        if r.get("grant_type") == "refresh_token"
    ]


def stored_refresh_token(store: MemoryCredentialStore) -> str:
    cache = msal.SerializableTokenCache()
    cache.deserialize(store.value)
    [entry] = cache.search(msal.TokenCache.CredentialType.REFRESH_TOKEN)
    return str(entry["secret"])


def test_sign_in_uses_pkce_and_the_emulator_only(emulator, user):
    mailbox, signed = user

    redeem = [
        r
        for r in emulator.identity.token_requests
        if r.get("grant_type") == "authorization_code"
    ][-1]
    discovery = emulator.requests_to(
        "/organizations/v2.0/.well-known/openid-configuration"
    )

    assert redeem["client_id"] == CLIENT_ID
    assert len(redeem["code_verifier"]) >= 43
    assert signed.username == mailbox.user.upn
    assert "rt-" in signed.store.value
    assert discovery


def test_wrong_code_verifier_rejected(emulator, user):
    mailbox, _signed = user
    config = config_for(emulator)
    flow = AuthorizationCodeFlow(
        config, delegated_scopes(), "http://localhost:8400", login_hint=mailbox.user.upn
    )
    params = redirect_params(flow.auth_uri, str(emulator.ca_file))
    context = ssl.create_default_context(cafile=str(emulator.ca_file))

    response = httpx.post(
        f"{emulator.base_url}/organizations/oauth2/v2.0/token",
        data={
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "code": params["code"],
            "redirect_uri": "http://localhost:8400",
            "code_verifier": hashlib.sha256(b"x").hexdigest() * 2,
        },
        verify=context,
    )

    assert response.status_code == 400
    assert response.json()["error_codes"] == [501481]


def test_two_workers_share_a_rotating_refresh_token(emulator, user):
    _mailbox, signed = user
    worker_a = signed.tokens()
    worker_b = signed.tokens()
    worker_b.access_token()  # B has loaded the cache holding rt-1
    first = stored_refresh_token(signed.store)

    worker_a.access_token(force_refresh=True)
    second = stored_refresh_token(signed.store)
    token_b = worker_b.access_token(force_refresh=True)

    assert second != first
    assert refresh_tokens(emulator)[-2:] == [first, second]
    assert token_b.startswith("at-")
    assert stored_refresh_token(signed.store) not in (first, second)


def test_stale_cache_refresh_rejected(emulator, user):
    _mailbox, signed = user
    stale = msal.SerializableTokenCache()
    stale.deserialize(signed.store.value)
    signed.tokens().access_token(force_refresh=True)
    app = msal.PublicClientApplication(
        CLIENT_ID,
        authority=signed.config.authority,
        token_cache=stale,
        instance_discovery=False,
        http_client=_msal_http(signed),
    )
    [account] = app.get_accounts(username=signed.username)

    result = app.acquire_token_silent_with_error(
        delegated_scopes(), account=account, force_refresh=True
    )

    assert result["error"] == "invalid_grant"


def _msal_http(signed: SignedIn):  # type: ignore[no-untyped-def]
    from connectors.microsoft.auth import MsalHttpClient

    return MsalHttpClient(signed.config)


def test_expired_refresh_token_needs_reconnect(emulator, user):
    _mailbox, signed = user
    emulator.identity.inactive_refresh_tokens.add(signed.username)
    before = len(refresh_tokens(emulator))

    with pytest.raises(NeedsReauthorization, match="AADSTS700082"):
        signed.tokens().access_token(force_refresh=True)

    assert len(refresh_tokens(emulator)) == before + 1


def test_interaction_required_needs_reconnect(emulator, user):
    _mailbox, signed = user
    emulator.identity.interaction_required.add(signed.username)

    with pytest.raises(NeedsReauthorization, match="interaction_required"):
        signed.tokens().access_token(force_refresh=True)


def test_revoked_consent_stops_the_sync(emulator, clock, user):
    _mailbox, signed = user
    signed.tokens().access_token()
    emulator.identity.revoked_consent.add(signed.username)

    with pytest.raises(NeedsReauthorization, match="AADSTS65001"):
        list(OutlookMailReader(signed.client(clock)).read(None))


def test_account_looked_up_by_username(emulator, user):
    _mailbox, signed = user
    other = DelegatedTokenSource(
        signed.config,
        signed.store,
        "someone.else@brookside-pt.example",
        delegated_scopes(),
    )

    with pytest.raises(NeedsReauthorization, match="no sign-in for someone.else"):
        other.access_token()


def test_missing_cache_needs_reconnect(emulator):
    tokens = DelegatedTokenSource(
        config_for(emulator),
        MemoryCredentialStore(),
        "x@brookside-pt.example",
        delegated_scopes(),
    )

    with pytest.raises(NeedsReauthorization, match="no token cache is stored"):
        tokens.access_token()


def test_expired_access_token_refreshed_on_401(emulator, clock, user):
    _mailbox, signed = user
    client = signed.client(clock)
    client.get(client.url("/mailFolders/inbox"))
    emulator.identity.expire_access_tokens()
    saves = signed.store.saves

    items = list(OutlookMailReader(client, folders=["inbox"]).read(None))

    assert len(items) == 1
    assert signed.store.saves == saves + 1


def test_tokens_never_logged(emulator, clock, user):
    _mailbox, signed = user
    emulator.faults.add("expired_token", "messages/delta")
    emulator.faults.add("throttle", "messages/delta", retry_after=1)

    with structlog.testing.capture_logs() as logs:
        list(OutlookMailReader(signed.client(clock)).read(None))
        emulator.identity.inactive_refresh_tokens.add(signed.username)
        with pytest.raises(NeedsReauthorization) as error:
            signed.tokens().access_token(force_refresh=True)

    assert logs
    assert TOKEN.search(repr(logs)) is None
    assert TOKEN.search(str(error.value)) is None


def test_application_permissions_read_a_mailbox(emulator, clock, user):
    mailbox, _signed = user
    config = config_for(
        emulator, client_id=APP_ID, client_secret=APP_SECRET, tenant=emulator.tenant_id
    )
    client = GraphClient(
        config,
        ApplicationTokenSource(config),
        mailbox.user.upn,
        application=True,
        clock=clock,
    )

    items = list(OutlookMailReader(client, folders=["inbox"]).read(None))

    assert [item.external_id for item in items] == ["r1@cedar-im.example"]
    grants = [
        r
        for r in emulator.identity.token_requests
        if r.get("grant_type") == "client_credentials"
    ]
    assert grants[-1]["scope"] == "https://graph.microsoft.com/.default"


def test_application_permissions_need_a_tenant(emulator):
    config = config_for(emulator, client_id=APP_ID, client_secret=APP_SECRET)

    with pytest.raises(Exception, match="need a tenant id"):
        ApplicationTokenSource(config)
