"""`warmline accounts add imap` and `warmline sync` against a real Dovecot."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select

from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot import dovecot as dovecot  # noqa: F401
from warmline.cli import main
from warmline.models import Account, AccountStatus

SAM = "sam.ortiz@brookside-pt.example"
SOURCES = (
    "type,name,practice,emails,domains\n"
    "practice,Riverside Family Medicine,,,riverside-fm.example\n"
    'provider,"Maria L. Lopez, MD",Riverside Family Medicine,'
    "maria.lopez@riverside-fm.example,\n"
)


def referral(number: int) -> bytes:
    return (
        "From: Maria Lopez <maria.lopez@riverside-fm.example>\r\n"
        f"To: Sam Ortiz <{SAM}>\r\n"
        "Date: Tue, 3 Mar 2026 09:15:00 -0500\r\n"
        f"Subject: Referral {number}\r\n"
        f"Message-ID: <cli-{number}@riverside-fm.example>\r\n"
        "\r\nPatient letter.\r\n"
    ).encode()


def invoke(database_url: str, env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner(env=env).invoke(main, ["--database", database_url, *args])


def add_imap(database_url, env, server: DovecotServer, user: str):  # type: ignore[no-untyped-def]
    return invoke(
        database_url, env,
        "accounts", "add", "imap", "--host", server.host, "--port", str(server.tls_port),
        "--user", user, "--staff", SAM, "--ca-file", str(server.ca_file),
    )  # fmt: skip


def test_imap_account_synced_from_cli(database_url, dovecot, tmp_path, sessions):
    user, password = dovecot.add_user()
    with dovecot.client(user, password) as client:
        for number in range(3):
            client.append("INBOX", referral(number))
    sources = tmp_path / "sources.csv"
    sources.write_text(SOURCES, encoding="utf-8")
    env = {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    invoke(database_url, env, "sources", "import", str(sources))

    added = add_imap(
        database_url, env | {"WARMLINE_IMAP_PASSWORD": password}, dovecot, user
    )
    synced = invoke(database_url, env, "sync")
    exported = invoke(database_url, env, "touchpoints", "export", "--format", "json")

    assert added.exit_code == 0, added.output
    assert synced.exit_code == 0, synced.output
    assert exported.output.count("Riverside Family Medicine") == 3
    with sessions() as session:
        secret = session.scalars(select(Account.secret)).one()
    assert password not in secret


def test_wrong_password_marks_account_others_go_on(
    database_url, dovecot, tmp_path, sessions
):
    user, _password = dovecot.add_user()
    mbox = tmp_path / "m.mbox"
    mbox.write_bytes(b"")
    env = {"WARMLINE_SECRET_KEYS": Fernet.generate_key().decode()}
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    add_imap(database_url, env | {"WARMLINE_IMAP_PASSWORD": "wrong"}, dovecot, user)
    invoke(database_url, env, "accounts", "add", "mbox", str(mbox), "--staff", SAM)

    synced = invoke(database_url, env, "sync")

    assert synced.exit_code == 1
    assert user in synced.output
    assert "wrong" not in synced.output
    with sessions() as session:
        statuses = {a.provider: a.status for a in session.scalars(select(Account))}
    assert statuses == {
        "imap": AccountStatus.NEEDS_REAUTH,
        "mbox": AccountStatus.ACTIVE,
    }


def test_missing_secret_keys_fail_clearly(database_url, dovecot, tmp_path, monkeypatch):
    user, password = dovecot.add_user()
    monkeypatch.chdir(tmp_path)
    env = {"WARMLINE_IMAP_PASSWORD": password, "WARMLINE_SECRET_KEYS": "not-a-key"}
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")

    added = add_imap(database_url, env, dovecot, user)

    assert added.exit_code == 1
    assert "not a Fernet key" in added.output


def test_watch_syncs_when_mail_arrives(database_url, dovecot, tmp_path):
    user, password = dovecot.add_user()
    key = Fernet.generate_key().decode()
    env = {"WARMLINE_SECRET_KEYS": key, "WARMLINE_IMAP_PASSWORD": password}
    invoke(database_url, env, "staff", "add", SAM, "--name", "Sam Ortiz")
    added = add_imap(database_url, env, dovecot, user)
    account_id = re.search(r"added account (\d+):", added.output).group(1)
    process = subprocess.Popen(
        [sys.executable, "-m", "warmline.cli", "--database", database_url,
         "watch", "--account", account_id],
        env=os.environ | env,
        bufsize=0,  # unbuffered, so select() sees every line still unread
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = _read_until(process.stdout, b"watching INBOX")
        # The mail may arrive before IDLE starts: watch then reads it in the
        # sync it runs on connecting, else in the one IDLE triggers.
        with dovecot.client(user, password) as client:
            client.append("INBOX", referral(7))
        after = _read_until(process.stdout, _new_mail_row(account_id))
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _out, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, errors = process.communicate()

    watching = f"watching INBOX of account {account_id}".encode()
    assert watching in first, errors.decode(errors="replace")
    row = after.strip().splitlines()[-1].split()
    assert row[:3] == [account_id.encode(), b"1", b"1"]  # one read, one new
    assert row[-1] == b"ok"


def _new_mail_row(account_id: str) -> Callable[[bytes], bool]:
    """Match the sync report row of `account_id` that read one new message."""

    def matches(line: bytes) -> bool:
        return line.split()[:3] == [account_id.encode(), b"1", b"1"]

    return matches


def _read_until(  # type: ignore[no-untyped-def]
    stream, marker: bytes | Callable[[bytes], bool], timeout: float = 120.0
) -> bytes:
    """Read lines until one contains or matches `marker`, for at most `timeout` s."""
    found = marker if callable(marker) else (lambda line: marker in line)
    seen = b""
    last = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        while not found(last):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                break
            line = stream.readline()
            if not line:
                break
            seen += line
            last = line
    return seen
