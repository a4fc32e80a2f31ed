"""Revoking a purged account's grant at Google and Microsoft, against emulators.

`warmline accounts remove ID --purge` deletes the account in one transaction
and then requests that the provider end the grant.  Google has a revocation
endpoint; Microsoft has none for one delegated grant, so the command says
what a person must do.  A failed revocation is reported and audited, and the
purge stays committed.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import warmline.cli.privacy_commands  # noqa: F401  (adds its commands to main)
from connectors.google import GoogleSettings, requested_scopes
from tests.emulators.google import DEFAULT_USER, Fault, GoogleEmulator
from tests.emulators.google.harness import LoopbackOnly
from tests.emulators.microsoft import GraphEmulator, SystemClock
from tests.emulators.microsoft.harness import CLIENT_ID, LoopbackGuard, follow_sign_in
from tests.warmline.test_audit import clear_audit_log as clear_audit_log  # noqa: F401
from warmline import privacy, readers
from warmline.audit_models import AuditRecord
from warmline.cli import AppContext, main
from warmline.models import Account
from warmline.providers import google, microsoft
from warmline.secrets import SecretBox
from warmline.settings import load_settings
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace

SAM = DEFAULT_USER
KEY = Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give each test its own reader and revoker registries."""
    defaults = {
        "imap": privacy.report_password_deleted,
        "caldav": privacy.report_password_deleted,
    }
    monkeypatch.setattr(privacy, "TOKEN_REVOKERS", defaults)
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    monkeypatch.setenv("WARMLINE_SECRET_KEYS", KEY)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


def purge(database_url: str, account_id: int) -> Result:
    return CliRunner().invoke(
        main,
        ["--database", database_url, "accounts", "remove", str(account_id)]
        + ["--purge", "--yes"],
    )


def revocation_audit(sessions: sessionmaker[Session]) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    with sessions() as session:
        rows = session.execute(
            select(AuditRecord.target, AuditRecord.details)
            .where(AuditRecord.action == "account.revoke")
            .order_by(AuditRecord.id)
        )
        return [(target, details) for target, details in rows]


def account_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(Account.id).order_by(Account.id)))


# --- Google -----------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(
    server: GoogleEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[GoogleEmulator]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    monkeypatch.setenv("WARMLINE_GOOGLE_API_ROOT", server.url)
    server.faults.clear()
    server.oauth.revocation_requests.clear()
    yield server
    server.faults.clear()
    assert guard.refused == []


def add_google_accounts(
    sessions: sessionmaker[Session], emulator: GoogleEmulator
) -> tuple[int, int, str]:
    """Store a grant on a gmail account and share it with a calendar account."""
    grant = emulator.authorized_user_info(SAM, requested_scopes())
    box = SecretBox([KEY.encode()])
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        member = upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
        gmail = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider="gmail",
            location=SAM,
            options={"mode": "user", "scopes": requested_scopes()},
            secret=box.encrypt(json.dumps(grant)),
        )
        session.add(gmail)
        session.flush()
        calendar = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider="google_calendar",
            location=SAM,
            options={"mode": "user", "credential_account_id": gmail.id},
        )
        session.add(calendar)
        session.flush()
        return gmail.id, calendar.id, grant["refresh_token"]


def test_google_purge_revokes_grant(sessions, database_url, emulator):
    gmail, calendar, refresh_token = add_google_accounts(sessions, emulator)

    calendar_result = purge(database_url, calendar)
    requests_after_calendar = list(emulator.oauth.revocation_requests)
    gmail_result = purge(database_url, gmail)

    assert calendar_result.exit_code == 0, calendar_result.output
    assert requests_after_calendar == []
    assert gmail_result.exit_code == 0, gmail_result.output
    assert "provider grant revoked: Google revoked the grant" in gmail_result.output
    assert emulator.oauth.revocation_requests == [{"token": refresh_token}]
    assert refresh_token not in emulator.oauth.refresh_tokens
    assert account_ids(sessions) == []
    assert revocation_audit(sessions) == [
        (f"account:{gmail}", {"provider": "gmail", "outcome": "revoked"})
    ]


def test_google_grant_already_ended(sessions, database_url, emulator):
    gmail, calendar, _token = add_google_accounts(sessions, emulator)
    emulator.oauth.revoke_user(SAM)

    purge(database_url, calendar)
    result = purge(database_url, gmail)

    assert result.exit_code == 0, result.output
    assert "the grant had already ended" in result.output
    assert len(emulator.oauth.revocation_requests) == 1


def test_google_failed_revocation_keeps_purge(sessions, database_url, emulator):
    gmail, calendar, refresh_token = add_google_accounts(sessions, emulator)
    emulator.faults.add(Fault("revoke", status=503, message="Service Unavailable"))

    purge(database_url, calendar)
    result = purge(database_url, gmail)

    assert result.exit_code == 0, result.output
    assert f"account {gmail} purged" in result.output
    assert "revoking the provider grant failed" in result.output
    assert "HTTP 503" in result.output
    assert "https://myaccount.google.com/permissions" in result.output
    assert account_ids(sessions) == []
    assert refresh_token in emulator.oauth.refresh_tokens
    assert revocation_audit(sessions) == [
        (f"account:{gmail}", {"provider": "gmail", "outcome": "failed"})
    ]


def add_server_account(
    sessions: sessionmaker[Session],
    provider: str,
    options: dict[str, object],
    credential: str,
) -> int:
    box = SecretBox([KEY.encode()])
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        member = upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
        account = Account(
            workspace_id=workspace.id,
            staff_member_id=member.id,
            provider=provider,
            location=f"{provider}://{SAM}@mail.example",
            options=options,
            secret=box.encrypt(credential),
        )
        session.add(account)
        session.flush()
        return account.id


def test_imap_oauth_purge_revokes_google_grant(sessions, database_url, emulator):
    grant = emulator.authorized_user_info(SAM, ["https://mail.google.com/"])
    options = {"host": "imap.gmail.com", "username": SAM, "oauth": "google"}
    account = add_server_account(sessions, "imap", options, json.dumps(grant))

    result = purge(database_url, account)

    assert result.exit_code == 0, result.output
    assert "provider grant revoked" in result.output
    assert emulator.oauth.revocation_requests == [{"token": grant["refresh_token"]}]
    assert grant["refresh_token"] not in emulator.oauth.refresh_tokens
    assert revocation_audit(sessions) == [
        (f"account:{account}", {"provider": "imap", "outcome": "revoked"})
    ]


@pytest.mark.parametrize("provider", ["imap", "caldav"])
def test_password_purge_says_change_it(sessions, database_url, emulator, provider):
    options = {"username": SAM}
    account = add_server_account(sessions, provider, options, "hunter2-secret")

    result = purge(database_url, account)

    assert result.exit_code == 0, result.output
    assert "change the password" in result.output
    assert "hunter2-secret" not in result.output
    assert emulator.oauth.revocation_requests == []
    assert account_ids(sessions) == []
    assert revocation_audit(sessions) == [
        (f"account:{account}", {"provider": provider, "outcome": "not_supported"})
    ]


def test_google_revocation_endpoint_unreachable():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = GoogleSettings(timeout=2.0).with_endpoint(
        f"http://127.0.0.1:{closed_port}/"
    )
    grant = json.dumps({"refresh_token": "rt-unknown", "token": "at-unknown"})

    with pytest.raises(privacy.TokenRevocationError) as raised:
        google.revoke_stored_grant(settings, "gmail", {}, grant)

    assert f"127.0.0.1:{closed_port}/revoke cannot be reached" in str(raised.value)
    assert "rt-unknown" not in str(raised.value)


def test_google_credential_not_json():
    with pytest.raises(privacy.TokenRevocationError, match="not JSON"):
        google.revoke_stored_grant(GoogleSettings(), "gmail", {}, "not json")


# --- Microsoft -----------------------------------------------------------------


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphEmulator]:
    emulator = GraphEmulator(tmp_path_factory.mktemp("graph-revoke"), SystemClock())
    emulator.identity.add_app(CLIENT_ID)
    with emulator:
        yield emulator


@pytest.fixture
def outlook_app(sessions, graph, monkeypatch):  # type: ignore[no-untyped-def]
    guard = LoopbackGuard()
    guard.install(monkeypatch)
    environment = {
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": graph.base_url,
        "WARMLINE_MICROSOFT_GRAPH_URL": graph.graph_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(graph.ca_file),
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        microsoft, "open_browser", lambda url: follow_sign_in(url, str(graph.ca_file))
    )
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
    yield AppContext(sessions, "default", load_settings())
    assert guard.refused == []


def test_outlook_purge_says_how_to_end_grant(
    sessions, database_url, outlook_app, graph
):
    graph.add_user(SAM, "Sam Ortiz")
    connected = CliRunner().invoke(
        microsoft.connect_command, ["--staff", SAM], obj=outlook_app
    )
    assert connected.exit_code == 0, connected.output
    mail, calendar = account_ids(sessions)
    with sessions() as session:
        assert session.get_one(Account, mail).secret is not None
    graph.reset_log()

    calendar_result = purge(database_url, calendar)
    mail_result = purge(database_url, mail)

    assert calendar_result.exit_code == 0, calendar_result.output
    assert mail_result.exit_code == 0, mail_result.output
    assert "provider grant not revoked" in mail_result.output
    assert "Microsoft Entra admin center" in mail_result.output
    assert "provider grant" not in calendar_result.output
    assert graph.log == [], "the purge sent a request to Microsoft"
    assert account_ids(sessions) == []
    assert revocation_audit(sessions) == [
        (f"account:{mail}", {"provider": "outlook_mail", "outcome": "not_supported"})
    ]
