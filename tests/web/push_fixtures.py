"""Helpers of the push tests: connected accounts in the database, and the
site served by uvicorn on a loopback port, so that the emulators can POST
to it as Pub/Sub and Graph would."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from cryptography.fernet import Fernet
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from connectors.google import requested_scopes
from connectors.microsoft import delegated_scopes
from tests.emulators.google import GoogleEmulator
from tests.emulators.google.gmail import PUBSUB_CERTS_PATH
from tests.emulators.google.harness import settings_for
from tests.emulators.microsoft import GraphEmulator
from tests.emulators.microsoft.harness import CLIENT_ID, sign_in
from warmline.models import Account
from warmline.providers import google, microsoft
from warmline.secrets import DatabaseCredentialStore, SecretBox
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace

SECRET_KEY = Fernet.generate_key().decode()
TOPIC = "projects/warmline-test/topics/gmail"
AUDIENCE = "https://warmline.example/push/gmail"
PUSH_TOKEN = "push-url-secret-0123456789"
WAIT_SECONDS = 20.0


def secret_box() -> SecretBox:
    return SecretBox([SECRET_KEY.encode()])


def provider_environment(
    google_emulator: GoogleEmulator, graph: GraphEmulator
) -> dict[str, str]:
    """Return the variables that point the providers at the emulators.

    `create_app` registers the readers from the environment, so a served
    site reads the emulators only with these set.
    """
    return {
        "WARMLINE_SECRET_KEYS": SECRET_KEY,
        "WARMLINE_GOOGLE_API_ROOT": google_emulator.url,
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": graph.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": graph.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(graph.ca_file),
        "WARMLINE_MICROSOFT_PAGE_SIZE": "10",
    }


def register_readers(
    google_emulator: GoogleEmulator | None, graph: GraphEmulator | None
) -> None:
    """Point the Gmail and Outlook readers at the emulators."""
    if google_emulator is not None:
        google.register_readers(
            secret_box,
            settings=google.GoogleProviderSettings(api_root=google_emulator.url),
            connector=settings_for(google_emulator),
        )
    if graph is not None:
        microsoft.register_readers(
            secret_box,
            settings=microsoft.MicrosoftSettings(
                client_id=CLIENT_ID,
                authority_host=graph.base_url,
                graph_url=graph.graph_url,
                ca_file=str(graph.ca_file),
                page_size=10,
            ),
        )


def add_account(
    sessions: sessionmaker[Session],
    provider: str,
    address: str,
    options: dict[str, Any],
    credential: str,
) -> int:
    """Store a connected account of `address` with its encrypted credential."""
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "push")
        member = upsert_staff(session, workspace, StaffInput(address, "Sam Ortiz"))
        account = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider=provider,
            location=address,
            options=options,
        )
        session.add(account)
        session.flush()
        account_id = account.id
    DatabaseCredentialStore(sessions, account_id, secret_box()).save(credential)
    return account_id


def add_gmail_account(
    sessions: sessionmaker[Session], emulator: GoogleEmulator, address: str
) -> int:
    emulator.add_user(address)
    scopes = requested_scopes()
    grant = emulator.authorized_user_info(address, scopes)
    options = {"mode": "user", "scopes": scopes}
    return add_account(sessions, "gmail", address, options, json.dumps(grant))


def add_outlook_account(
    sessions: sessionmaker[Session],
    emulator: GraphEmulator,
    address: str,
    provider: str = "outlook_mail",
) -> int:
    if address not in emulator.mailboxes:
        emulator.add_user(address, "Sam Ortiz")
    signed_in = sign_in(emulator, address)
    assert signed_in.store.value is not None
    options = {
        "mode": "delegated",
        "username": signed_in.username,
        "scopes": delegated_scopes(),
    }
    return add_account(sessions, provider, address, options, signed_in.store.value)


def push_environment(
    database_url: str,
    google_emulator: GoogleEmulator | None = None,
    graph_url: str = "",
    **extra: str,
) -> dict[str, str]:
    """Return the settings of a site that accepts Gmail and Graph pushes."""
    environment = {
        "WARMLINE_DATABASE_URL": database_url,
        "WARMLINE_WEB_SESSION_KEY": "test-session-key-for-signing-cookies-0123456789",
        "WARMLINE_SECRET_KEYS": SECRET_KEY,
        "WARMLINE_GMAIL_PUSH_TOPIC": TOPIC,
        "WARMLINE_GMAIL_PUSH_AUDIENCE": AUDIENCE,
        "WARMLINE_GRAPH_NOTIFICATION_URL": graph_url,
    }
    if google_emulator is not None:
        environment["WARMLINE_GMAIL_PUSH_CERTS_URL"] = (
            google_emulator.url.rstrip("/") + PUBSUB_CERTS_PATH
        )
    environment.update(extra)
    return environment


@dataclasses.dataclass
class LiveSite:
    """The site served by uvicorn in a thread of the test process."""

    app: FastAPI
    base_url: str

    @property
    def gmail_url(self) -> str:
        return self.base_url + "/push/gmail"

    @property
    def graph_url(self) -> str:
        return self.base_url + "/push/graph"


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve(sock: socket.socket, app: FastAPI) -> Iterator[LiveSite]:
    """Serve `app` on `sock` until the block ends, lifespan included."""
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True
    )
    thread.start()
    wait_for(lambda: server.started, "the site to start")
    port = sock.getsockname()[1]
    try:
        yield LiveSite(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        app.state.web.engine.dispose()


def wait_for(
    condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS
) -> Any:
    """Poll `condition` until it returns a true value; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
