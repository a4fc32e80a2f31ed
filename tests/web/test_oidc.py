"""Sign-in with Google and Microsoft (OpenID Connect) against the emulators."""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.emulators.google import GoogleEmulator
from tests.emulators.microsoft import GraphEmulator, SystemClock
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
from warmline.web_models import WebRole, WebUser
from web.oidc import FLOW_COOKIE

ADMIN = "admin@alpha-pt.example"
NEWCOMER = "newcomer@alpha-pt.example"
OUTSIDER = "someone@elsewhere.example"


@pytest.fixture(scope="module")
def google() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(users=[ADMIN, NEWCOMER, OUTSIDER]) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def microsoft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-oidc"), SystemClock())
    emulator.identity.add_app(MICROSOFT_CLIENT_ID, MICROSOFT_CLIENT_SECRET)
    emulator.add_user(ADMIN, "Alpha Admin")
    with emulator:
        yield emulator


@pytest.fixture(autouse=True)
def fresh_emulators(google: GoogleEmulator, microsoft: GraphEmulator) -> None:
    for server in (google.oauth, microsoft.identity):
        server.id_token_overrides = {}
        server.sign_with_unknown_key = False
    google.oauth.consenting_user = ADMIN


@pytest.fixture
def site(
    database_url: str,
    clock: FakeClock,
    google: GoogleEmulator,
    microsoft: GraphEmulator,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FastAPI]:
    for name, value in microsoft_environment(microsoft).items():
        monkeypatch.setenv(name, value)
    real_time(clock)
    application = provider_app(database_url, clock, google, tmp_path)
    yield application
    application.state.web.engine.dispose()


@pytest.fixture
def browser(site: FastAPI) -> Iterator[TestClient]:
    with site_client(site) as client:
        yield client


@pytest.fixture
def alpha(clinic: Clinic, sessions) -> Clinic:
    configure(
        sessions,
        clinic.workspace_id,
        web_sign_in_providers="google;microsoft",
        own_domains="alpha-pt.example",
    )
    return clinic


def google_sign_in(browser: TestClient):
    return follow_provider(browser, browser.get("/signin/oidc/google?next=/review"))


def signed_in_as(browser: TestClient) -> str | None:
    response = browser.get("/api/me")
    return response.json()["email"] if response.status_code == 200 else None


def sign_in_records(sessions, workspace_id: int) -> list[AuditRecord]:
    with sessions() as session:
        return list(
            session.scalars(
                select(AuditRecord)
                .where(
                    AuditRecord.workspace_id == workspace_id,
                    AuditRecord.action.in_([audit.SIGN_IN, audit.SIGN_IN_REFUSED]),
                )
                .order_by(AuditRecord.id)
            )
        )


def test_signin_page_offers_providers(browser):
    page = browser.get("/signin")

    assert 'href="/signin/oidc/google?next=/"' in page.text
    assert 'href="/signin/oidc/microsoft?next=/"' in page.text


def test_google_sign_in_starts_session(browser, alpha, google, sessions):
    start = browser.get("/signin/oidc/google?next=/review")
    query = dict(
        urllib.parse.parse_qsl(urllib.parse.urlsplit(start.headers["location"]).query)
    )

    _callback, response = follow_provider(browser, start)

    assert query["code_challenge_method"] == "S256"
    assert query["nonce"]
    assert query["scope"] == "openid email profile"
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/review"
    assert signed_in_as(browser) == ADMIN
    token_request = google.oauth.token_requests[-1]
    assert token_request["code_verifier"]
    (record,) = sign_in_records(sessions, alpha.workspace_id)
    assert record.action == audit.SIGN_IN
    assert record.details == {"method": "google"}


def test_microsoft_sign_in_starts_session(browser, alpha, microsoft, sessions):
    start = browser.get("/signin/oidc/microsoft")

    _callback, response = follow_provider(browser, start, str(microsoft.ca_file))

    assert response.status_code == 303, response.text
    assert signed_in_as(browser) == ADMIN
    (record,) = sign_in_records(sessions, alpha.workspace_id)
    assert record.details == {"method": "microsoft"}


def test_wrong_state_rejected(browser, alpha):
    start = browser.get("/signin/oidc/google")
    callback, _first = follow_provider(browser, browser.get("/signin/oidc/google"))
    # The browser's cookie now belongs to the second flow; replay the
    # callback with the first flow's state.
    state = dict(
        urllib.parse.parse_qsl(urllib.parse.urlsplit(start.headers["location"]).query)
    )["state"]
    split = urllib.parse.urlsplit(callback)
    params = dict(urllib.parse.parse_qsl(split.query))
    browser.cookies.clear()
    second = browser.get("/signin/oidc/google")
    forged = {"code": params["code"], "state": state}

    response = browser.get(split.path + "?" + urllib.parse.urlencode(forged))

    assert second.status_code == 303
    assert response.status_code == 400
    assert "does not belong to the" in response.text
    assert signed_in_as(browser) is None


def test_callback_without_flow_cookie_rejected(browser, alpha):
    callback, _response = google_sign_in(browser)
    browser.cookies.clear()

    response = browser.get(callback)

    assert response.status_code == 400
    assert "start again" in response.text
    assert signed_in_as(browser) is None


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"nonce": "another-nonce"}, "nonce does not match"),
        ({"aud": "another-client.apps.googleusercontent.com"}, "Audience doesn"),
        (
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
            "has expired",
        ),
        ({"iss": "https://accounts.evil.example"}, "was issued by"),
        ({"email_verified": False}, "did not confirm an email address"),
    ],
    ids=["nonce", "audience", "expired", "issuer", "unverified-email"],
)
def test_tampered_id_token_rejected(browser, alpha, google, sessions, claims, message):
    google.oauth.id_token_overrides = claims

    _callback, response = google_sign_in(browser)

    assert response.status_code in (400, 403)
    assert message in response.text
    assert signed_in_as(browser) is None
    assert sign_in_records(sessions, alpha.workspace_id) == []


def test_unknown_signing_key_rejected(browser, alpha, google):
    google.oauth.sign_with_unknown_key = True

    _callback, response = google_sign_in(browser)

    assert response.status_code == 400
    assert "signature" in response.text.lower()
    assert signed_in_as(browser) is None


def test_microsoft_wrong_audience_rejected(browser, alpha, microsoft):
    microsoft.identity.id_token_overrides = {"aud": "another-application"}

    _callback, response = follow_provider(
        browser, browser.get("/signin/oidc/microsoft"), str(microsoft.ca_file)
    )

    assert response.status_code == 400
    assert "Audience doesn" in response.text
    assert signed_in_as(browser) is None


def test_disallowed_domain_rejected(browser, alpha, sessions):
    configure(sessions, alpha.workspace_id, web_sign_in_domains="beta-pt.example")

    _callback, response = google_sign_in(browser)

    assert response.status_code == 403
    assert "domain" in response.text
    assert signed_in_as(browser) is None
    (record,) = sign_in_records(sessions, alpha.workspace_id)
    assert record.action == audit.SIGN_IN_REFUSED
    assert record.details == {"method": "google", "reason": "domain_not_allowed"}


def test_workspace_without_provider_rejected(browser, clinic, sessions):
    configure(
        sessions,
        clinic.workspace_id,
        web_sign_in_providers="microsoft",
        web_sign_in_domains="alpha-pt.example",
    )

    _callback, response = google_sign_in(browser)

    assert response.status_code == 403
    assert "does not accept this sign-in provider" in response.text
    assert signed_in_as(browser) is None
    (record,) = sign_in_records(sessions, clinic.workspace_id)
    assert record.details == {"method": "google", "reason": "provider_not_enabled"}


def test_unknown_address_rejected(browser, alpha, google):
    google.oauth.consenting_user = NEWCOMER

    _callback, response = google_sign_in(browser)

    assert response.status_code == 403
    assert "not a user of any workspace" in response.text
    assert signed_in_as(browser) is None


def test_unknown_address_created_as_member(browser, alpha, google, sessions):
    configure(sessions, alpha.workspace_id, web_sign_in_creates_members="true")
    google.oauth.consenting_user = NEWCOMER

    _callback, response = google_sign_in(browser)

    assert response.status_code == 303, response.text
    assert signed_in_as(browser) == NEWCOMER
    with sessions() as session:
        user = session.scalar(select(WebUser).where(WebUser.email == NEWCOMER))
        assert user is not None
        assert user.role is WebRole.MEMBER
        assert user.workspace_id == alpha.workspace_id


def test_outside_domain_not_created(browser, alpha, google, sessions):
    configure(sessions, alpha.workspace_id, web_sign_in_creates_members="true")
    google.oauth.consenting_user = OUTSIDER

    _callback, response = google_sign_in(browser)

    assert response.status_code == 403
    with sessions() as session:
        assert session.scalar(select(WebUser).where(WebUser.email == OUTSIDER)) is None


def test_created_member_has_no_password(browser, alpha, google, sessions):
    configure(sessions, alpha.workspace_id, web_sign_in_creates_members="true")
    google.oauth.consenting_user = NEWCOMER
    google_sign_in(browser)
    browser.cookies.clear()

    response = browser.post("/api/session", json={"email": NEWCOMER, "password": "!"})

    assert response.status_code == 401


def test_flow_cookie_cleared_after_callback(browser, alpha):
    _callback, response = google_sign_in(browser)

    assert response.status_code == 303
    assert FLOW_COOKIE not in browser.cookies


def test_unconfigured_provider_not_found(browser):
    response = browser.get("/signin/oidc/github")

    assert response.status_code == 404
