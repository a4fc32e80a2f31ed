"""Helpers of the web tests that run OAuth flows against the Google and
Microsoft emulators: the site's settings for them, and a "browser" that
follows the redirects from the site to the emulator and back."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import urllib.parse
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.emulators.google import CLIENT_ID, CLIENT_SECRET, GoogleEmulator
from tests.emulators.microsoft import GraphEmulator
from tests.web.conftest import cheap_passwords, web_settings
from tests.web.factories import FakeClock
from warmline.models import Workspace
from warmline.workspaces import set_workspace_setting
from web import create_app

MICROSOFT_CLIENT_ID = "5d0f3c1e-7a53-4c55-9a0c-2f4a3c1d9b10"
MICROSOFT_CLIENT_SECRET = "web-app-secret"
SITE = "http://127.0.0.1:8000"
"""The test client's base URL; both emulators accept only loopback redirects."""


def google_web_client_file(emulator: GoogleEmulator, folder: Path) -> Path:
    """Write a Web application client secrets file for the emulator."""
    path = folder / "google-web-client.json"
    config = {
        "web": {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_uri": emulator.url + "o/oauth2/auth",
            "token_uri": emulator.url + "token",
            "redirect_uris": [SITE + "/accounts/connect/google/callback"],
        }
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def microsoft_environment(emulator: GraphEmulator) -> dict[str, str]:
    """Return the WARMLINE_MICROSOFT_* variables aimed at the emulator."""
    return {
        "WARMLINE_MICROSOFT_CLIENT_ID": MICROSOFT_CLIENT_ID,
        "WARMLINE_MICROSOFT_CLIENT_SECRET": MICROSOFT_CLIENT_SECRET,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": emulator.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": emulator.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(emulator.ca_file),
        "WARMLINE_MICROSOFT_PAGE_SIZE": "10",
    }


def provider_app(
    database_url: str,
    clock: FakeClock,
    google: GoogleEmulator,
    folder: Path,
    **extra: str,
) -> FastAPI:
    """Build the site with Google's web client aimed at `google`.

    Microsoft is set up when the caller's environment has the variables of
    `microsoft_environment`.
    """
    settings = web_settings(
        database_url,
        WARMLINE_GOOGLE_WEB_CLIENT_SECRETS_FILE=str(
            google_web_client_file(google, folder)
        ),
        WARMLINE_GOOGLE_API_ROOT=google.url,
        WARMLINE_SECRET_KEYS="",
        WARMLINE_SECRET_KEY_FILE=str(folder / "warmline.key"),
        **extra,
    )
    return create_app(settings, clock=clock, passwords=cheap_passwords())


def site_client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=SITE, follow_redirects=False)


def real_time(clock: FakeClock) -> None:
    """Set the site's clock to now: the emulators sign tokens with real times."""
    clock.now = dt.datetime.now(dt.UTC)


def configure(
    sessions: sessionmaker[Session], workspace_id: int, **values: str
) -> None:
    """Store workspace settings, as 'warmline config set' does."""
    with sessions.begin() as session:
        workspace = session.get_one(Workspace, workspace_id)
        for name, text in values.items():
            set_workspace_setting(session, workspace, name, text)


def follow_provider(
    client: TestClient, response: httpx.Response, ca_file: str | None = None
) -> tuple[str, httpx.Response]:
    """Play the browser from the site's redirect to the provider and back.

    Returns the callback URL the provider redirected to (path and query)
    and the site's response to it.
    """
    assert response.status_code == 303, response.text
    authorization_url = response.headers["location"]
    verify: ssl.SSLContext | bool = True
    if ca_file is not None:
        verify = ssl.create_default_context(cafile=ca_file)
    with httpx.Client(verify=verify, trust_env=False) as browser:
        answer = browser.get(authorization_url)
    assert answer.status_code == 302, answer.text
    callback = urllib.parse.urlsplit(answer.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}" == SITE
    target = callback.path + "?" + callback.query
    return target, client.get(target)
