"""Fixtures of the web tests: an application over the test database, clients
and signed-in helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.web.factories import PASSWORD, Clinic, FakeClock, cheap_hasher, make_clinic
from warmline.settings import ProcessSettings, load_settings
from web import create_app
from web.passwords import Passwords

SESSION_KEY = "test-session-key-for-signing-cookies-0123456789"


def web_settings(database_url: str, **extra: str) -> ProcessSettings:
    environ = {
        "WARMLINE_DATABASE_URL": database_url,
        "WARMLINE_WEB_SESSION_KEY": SESSION_KEY,
        **extra,
    }
    return load_settings(environ)


def cheap_passwords() -> Passwords:
    return Passwords(cheap_hasher())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock) -> Iterator[FastAPI]:
    application = create_app(
        web_settings(database_url), clock=clock, passwords=cheap_passwords()
    )
    yield application
    application.state.web.engine.dispose()


@pytest.fixture
def clinic(sessions: sessionmaker[Session]) -> Clinic:
    return make_clinic(sessions, "Alpha")


@pytest.fixture
def other_clinic(sessions: sessionmaker[Session]) -> Clinic:
    return make_clinic(sessions, "Beta")


def new_client(app: FastAPI, https: bool = False) -> TestClient:
    base = "https://testserver" if https else "http://testserver"
    return TestClient(app, base_url=base, follow_redirects=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with new_client(app) as test_client:
        yield test_client


def signin_token(client: TestClient) -> str:
    page = client.get("/signin")
    match = re.search(r'name="signin_token" value="([^"]+)"', page.text)
    assert match is not None, page.text
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, next: str = "/"):
    """Sign in through the form, as a browser does; returns the POST response."""
    token = signin_token(client)
    return client.post(
        "/signin",
        data={
            "email": email,
            "password": password,
            "signin_token": token,
            "next": next,
        },
    )


def csrf_token(client: TestClient) -> str:
    response = client.get("/api/me")
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


@pytest.fixture
def admin_client(client: TestClient, clinic: Clinic) -> TestClient:
    response = sign_in(client, clinic.admin_email)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def member_client(app: FastAPI, clinic: Clinic) -> Iterator[TestClient]:
    with new_client(app) as test_client:
        response = sign_in(test_client, clinic.member_email)
        assert response.status_code == 303, response.text
        yield test_client
