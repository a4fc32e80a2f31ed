"""`warmline accounts add imap --oauth` and `warmline sync`, end to end.

The command runs the provider's consent against its emulator, stores the
grant encrypted, and the sync signs in to a Dovecot that checks the
tokens at the same emulator (see test_imap_oauth).  The database is SQLite
and PostgreSQL.
"""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path

from click.testing import CliRunner, Result
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tests.connectors.test_imap_oauth import (
    GoogleProvider,
    MicrosoftProvider,
)
from tests.connectors.test_imap_oauth import (
    google_provider as google_provider,  # noqa: F401
)
from tests.connectors.test_imap_oauth import (
    microsoft_provider as microsoft_provider,  # noqa: F401
)
from tests.emulators.google.harness import FollowingBrowser
from tests.emulators.microsoft.harness import CLIENT_ID, follow_sign_in
from tests.servers.dovecot import DovecotServer
from warmline.cli import main
from warmline.models import Account, AccountStatus
from warmline.providers import microsoft
from warmline.providers.imap_oauth import GOOGLE_IMAP_SCOPE

SAM = "sam.ortiz@brookside-pt.example"
SOURCES = (
    "type,name,practice,emails,domains\n"
    "practice,Riverside Family Medicine,,,riverside-fm.example\n"
)
EXPECTED = [f"imap-oauth-{number}@riverside-fm.example" for number in range(3)]
BROWSER = "warmline-imap-oauth-test"
FOLLOWER = FollowingBrowser()
webbrowser.register(BROWSER, None, FOLLOWER)


def referral(number: int) -> bytes:
    return (
        "From: Maria Lopez <maria.lopez@riverside-fm.example>\r\n"
        f"To: Sam Ortiz <{SAM}>\r\n"
        "Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
        f"Subject: Referral {number}\r\n"
        f"Message-ID: <imap-oauth-{number}@riverside-fm.example>\r\n"
        "\r\nPatient letter.\r\n"
    ).encode()


def invoke(database_url: str, env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(main, ["--database", database_url, *args])


def prepare(
    database_url: str, env: dict[str, str], dovecot: DovecotServer, tmp_path: Path
) -> str:
    """Add the staff member and a source; return an IMAP user with 3 referrals."""
    user, password = dovecot.add_user()
    with dovecot.client(user, password) as client:
        for number in range(3):
            client.append("INBOX", referral(number))
    sources = tmp_path / "sources.csv"
    sources.write_text(SOURCES, encoding="utf-8")
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    invoke(database_url, env, "sources", "import", str(sources))
    return user


def add_imap(
    database_url: str,
    env: dict[str, str],
    dovecot: DovecotServer,
    user: str,
    *extra: str,
) -> Result:
    return invoke(
        database_url, env,
        "accounts", "add", "imap", "--host", dovecot.host,
        "--port", str(dovecot.tls_port), "--user", user, "--staff", SAM,
        "--ca-file", str(dovecot.ca_file), *extra,
    )  # fmt: skip


def exported_ids(database_url: str, env: dict[str, str]) -> list[str]:
    exported = invoke(database_url, env, "touchpoints", "export", "--format", "json")
    rows = json.loads(exported.output)
    return sorted(row["external_id"] for row in rows)


def google_env(provider: GoogleProvider, tmp_path: Path) -> dict[str, str]:
    secrets_file = tmp_path / "client_secret.json"
    secrets_file.write_text(json.dumps(provider.emulator.client_config()))
    return {
        "WARMLINE_SECRET_KEYS": Fernet.generate_key().decode(),
        "WARMLINE_GOOGLE_CLIENT_SECRETS_FILE": str(secrets_file),
        "WARMLINE_GOOGLE_API_ROOT": provider.emulator.url,
        # oauthlib accepts the emulator's plain-http token endpoint only so.
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
        "WARMLINE_GOOGLE_AUTHORIZATION_TIMEOUT": "10",
    }


def test_google_oauth_account_syncs(
    database_url: str,
    google_provider: GoogleProvider,  # noqa: F811
    tmp_path: Path,
    sessions: sessionmaker[Session],
) -> None:
    env = google_env(google_provider, tmp_path)
    user = prepare(database_url, env, google_provider.dovecot, tmp_path)
    google_provider.emulator.add_user(user)

    added = add_imap(
        database_url, env, google_provider.dovecot, user,
        "--oauth", "google", "--browser", BROWSER,
    )  # fmt: skip
    FOLLOWER.wait()
    synced = invoke(database_url, env, "sync")

    assert added.exit_code == 0, added.output
    assert synced.exit_code == 0, synced.output
    assert exported_ids(database_url, env) == EXPECTED
    consent = google_provider.emulator.oauth.authorization_requests[-1]
    assert consent["scope"] == GOOGLE_IMAP_SCOPE
    assert consent["login_hint"] == user
    with sessions() as session:
        account = session.scalars(select(Account)).one()
    assert account.options["oauth"] == "google"
    assert account.secret is not None
    assert "rt-" not in account.secret


def test_google_revoked_grant_marks_account(
    database_url: str,
    google_provider: GoogleProvider,  # noqa: F811
    tmp_path: Path,
    sessions: sessionmaker[Session],
) -> None:
    env = google_env(google_provider, tmp_path)
    user = prepare(database_url, env, google_provider.dovecot, tmp_path)
    google_provider.emulator.add_user(user)
    add_imap(
        database_url, env, google_provider.dovecot, user,
        "--oauth", "google", "--browser", BROWSER,
    )  # fmt: skip
    FOLLOWER.wait()
    invoke(database_url, env, "sync")
    mbox = tmp_path / "other.mbox"
    mbox.write_bytes(b"")
    invoke(database_url, env, "accounts", "add", "mbox", str(mbox), "--staff", SAM)
    google_provider.emulator.oauth.revoke_user(user)

    synced = invoke(database_url, env, "sync")

    assert synced.exit_code == 1
    with sessions() as session:
        rows = {a.provider: a for a in session.scalars(select(Account))}
    assert rows["imap"].status is AccountStatus.NEEDS_REAUTH
    assert rows["mbox"].status is AccountStatus.ACTIVE
    reason = rows["imap"].last_error or ""
    assert "invalid_grant" in reason
    assert "warmline accounts add imap --oauth google" in reason
    assert "accounts connect" not in reason


def test_microsoft_oauth_account_syncs_then_expires(
    database_url: str,
    microsoft_provider: MicrosoftProvider,  # noqa: F811
    tmp_path: Path,
    sessions: sessionmaker[Session],
    monkeypatch: object,
) -> None:
    emulator = microsoft_provider.emulator
    env = {
        "WARMLINE_SECRET_KEYS": Fernet.generate_key().decode(),
        "WARMLINE_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "WARMLINE_MICROSOFT_AUTHORITY_HOST": emulator.base_url,
        "WARMLINE_MICROSOFT_CA_FILE": str(emulator.ca_file),
        "WARMLINE_MICROSOFT_SIGN_IN_TIMEOUT": "10",
    }
    user = prepare(database_url, env, microsoft_provider.dovecot, tmp_path)
    emulator.add_user(user, "Sam Ortiz")
    monkeypatch.setattr(  # type: ignore[attr-defined]
        microsoft,
        "open_browser",
        lambda url: follow_sign_in(url, str(emulator.ca_file)),
    )

    added = add_imap(
        database_url, env, microsoft_provider.dovecot, user,
        "--oauth", "microsoft",
    )  # fmt: skip
    synced = invoke(database_url, env, "sync")
    emulator.identity.inactive_refresh_tokens.add(user)
    emulator.identity.expire_access_tokens()
    expired = invoke(database_url, env, "sync")

    assert added.exit_code == 0, added.output
    assert "Sign in at this address" in added.output
    assert synced.exit_code == 0, synced.output
    assert exported_ids(database_url, env) == EXPECTED
    assert expired.exit_code == 1
    with sessions() as session:
        account = session.scalars(select(Account)).one()
    assert account.options["oauth"] == "microsoft"
    assert account.status is AccountStatus.NEEDS_REAUTH
    assert "AADSTS700082" in (account.last_error or "")
    assert "--oauth microsoft" in (account.last_error or "")


def test_oauth_and_password_together_rejected(
    database_url: str,
    google_provider: GoogleProvider,  # noqa: F811
    tmp_path: Path,
) -> None:
    env = google_env(google_provider, tmp_path)
    env["WARMLINE_IMAP_PASSWORD"] = "secret"
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")

    added = add_imap(
        database_url, env, google_provider.dovecot, "someone", "--oauth", "google"
    )

    assert added.exit_code == 2
    assert "give --oauth or a password, not both" in added.output


def test_password_prompted_without_oauth(
    database_url: str,
    google_provider: GoogleProvider,  # noqa: F811
    tmp_path: Path,
    sessions: sessionmaker[Session],
) -> None:
    dovecot = google_provider.dovecot
    env = {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    user, password = dovecot.add_user()
    arguments = [
        "--database", database_url, "accounts", "add", "imap",
        "--host", dovecot.host, "--port", str(dovecot.tls_port), "--user", user,
        "--staff", SAM, "--ca-file", str(dovecot.ca_file),
    ]  # fmt: skip

    added = CliRunner(env=env).invoke(main, arguments, input=password + "\n")
    synced = invoke(database_url, env, "sync")

    assert added.exit_code == 0, added.output
    assert "Password:" in added.output
    assert synced.exit_code == 0, synced.output
    with sessions() as session:
        account = session.scalars(select(Account)).one()
    assert account.options["oauth"] is None
    assert account.status is AccountStatus.ACTIVE
