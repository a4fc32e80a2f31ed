"""Logs carry no secret, content or address: proven on a full cycle at DEBUG.

The cycle runs the real command line in a child process, so everything it
writes to its standard output and standard error is captured.  It runs
`warmline demo` on the example clinic, adds an IMAP account holding
example mail on a real Dovecot (password and secret key set), then runs
`warmline sync` and `warmline touchpoints export`.  The forbidden strings come from the
example data itself: every address, subject and body line in the mbox and
the calendars, the IMAP password and the secret key.

Standard error (the logs) must hold no address at all, hashed ones
excepted.  Standard output is the commands' own report to the person who
ran them; it may name staff members (the cold list shows each source's
owner) but no correspondent's address, subject or body.
"""

from __future__ import annotations

import email
import email.policy
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import structlog
from cryptography.fernet import Fernet
from sqlalchemy import select

from connectors.files.ics import IcsReader
from connectors.files.mbox import MboxReader
from connectors.records import Activity as ActivityRecord
from tests.servers.dovecot import DovecotServer
from tests.servers.dovecot import dovecot as dovecot  # noqa: F401
from warmline.db import create_engine
from warmline.logs import ADDRESS, Redactor, configure_logging, reset_logging
from warmline.models import Account

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
SAM = "sam.ortiz@brookside-pt.example"
IMAP_MESSAGES = 20
MIN_SUBJECT = 12
MIN_BODY_LINE = 24
HASHED = re.compile(r"\[[0-9a-f]{12} at [A-Za-z0-9.-]+\]")


def example_addresses() -> set[str]:
    """Every address in the example files, less Message-IDs and UIDs.

    A Message-ID looks like an address but names a message, and the sync
    report prints it as the key of a quarantined message.
    """
    found = set()
    for name in ("sam-ortiz-takeout.mbox", "sam-ortiz-calendar.ics",
                 "outlook-calendar.ics", "sources.csv", "staff.csv"):  # fmt: skip
        text = (EXAMPLES / name).read_text(encoding="utf-8", errors="replace")
        found.update(match.group(0).lower() for match in ADDRESS.finditer(text))
    return found - example_message_ids()


def example_message_ids() -> set[str]:
    ids = set()
    for raw in example_messages():
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        for field in ("Message-ID", "In-Reply-To", "References"):
            for value in message.get_all(field) or []:
                ids.update(m.group(0).lower() for m in ADDRESS.finditer(str(value)))
    for name in ("sam-ortiz-calendar.ics", "outlook-calendar.ics"):
        for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines():
            if line.startswith("UID:"):
                ids.update(m.group(0).lower() for m in ADDRESS.finditer(line))
    return ids


def staff_addresses() -> set[str]:
    text = (EXAMPLES / "staff.csv").read_text(encoding="utf-8")
    return {match.group(0).lower() for match in ADDRESS.finditer(text)}


def example_records() -> list[ActivityRecord]:
    items = list(MboxReader(EXAMPLES / "sam-ortiz-takeout.mbox").read(None))
    for name in ("sam-ortiz-calendar.ics", "outlook-calendar.ics"):
        items += IcsReader(EXAMPLES / name, default_timezone="America/Chicago").read(
            None
        )
    return [item for item in items if isinstance(item, ActivityRecord)]


def example_subjects() -> set[str]:
    """Subjects long enough not to be a practice's name or a common phrase."""
    return {
        record.subject.strip()
        for record in example_records()
        if record.subject and len(record.subject.strip()) >= MIN_SUBJECT
    }


def example_messages() -> list[bytes]:
    """Split the example mbox into messages, without their From_ lines."""
    data = (EXAMPLES / "sam-ortiz-takeout.mbox").read_bytes()
    parts = re.split(rb"^From [^\n]*\n", data, flags=re.MULTILINE)
    return [part for part in parts if part.strip()]


def example_body_lines() -> set[str]:
    """Body lines, less those that only repeat a source's name or title.

    Signatures end with the sender's name and practice, which the sources
    table of `warmline demo` prints from sources.csv.
    """
    sources = (EXAMPLES / "sources.csv").read_text(encoding="utf-8")
    lines = set()
    for raw in example_messages():
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        for part in message.walk():
            if part.get_content_maintype() != "text":
                continue
            payload = part.get_payload(decode=True) or b""
            for line in payload.decode("utf-8", "replace").splitlines():
                line = line.strip()
                if len(line) < MIN_BODY_LINE or line.startswith(">"):
                    continue
                if line not in sources:
                    lines.add(line)
    return lines


def warmline(
    database_url: str, env: dict[str, str], cwd: Path, *args: str
) -> tuple[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "warmline.cli", "--database", database_url, *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return result.stdout, result.stderr


@pytest.fixture(scope="module")
def cycle_output(dovecot: DovecotServer, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Run the full cycle once; return (stdout, stderr, secrets used).

    Logging does not depend on the database, so the cycle runs on SQLite
    alone, in a database file of its own that the command line migrates.
    """
    folder = tmp_path_factory.mktemp("hygiene")
    database_url = f"sqlite:///{folder / 'warmline.db'}"
    user, password = dovecot.add_user()
    with dovecot.client(user, password) as client:
        for raw in example_messages()[:IMAP_MESSAGES]:
            client.append("INBOX", raw)
    key = Fernet.generate_key().decode()
    env = {
        **os.environ,
        "WARMLINE_LOG_LEVEL": "DEBUG",
        "WARMLINE_SECRET_KEYS": key,
        "WARMLINE_IMAP_PASSWORD": password,
        "COLUMNS": "200",
    }
    runs = [
        ("demo", "--examples", str(EXAMPLES)),
        ("accounts", "add", "imap", "--host", dovecot.host, "--port", str(dovecot.tls_port),
         "--user", user, "--staff", SAM, "--ca-file", str(dovecot.ca_file)),
        ("sync",),
        ("touchpoints", "export", "--format", "csv", "-o", str(folder / "out.csv")),
    ]  # fmt: skip
    stdout, stderr = [], []
    for args in runs:
        out, err = warmline(database_url, env, folder, *args)
        stdout.append(out)
        stderr.append(err)
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = [
            token for token in connection.scalars(select(Account.secret)) if token
        ]
    engine.dispose()
    return "\n".join(stdout), "\n".join(stderr), [password, key, *stored]


def test_cycle_logs_at_debug(cycle_output):
    stdout, stderr, secrets_used = cycle_output

    assert "[debug    ]" in stderr
    assert "sync finished" in stderr
    assert "[imapclient" in stderr
    assert "== Touchpoints: " in stdout
    assert len(secrets_used) == 3


def test_cycle_leaks_no_secret(cycle_output):
    stdout, stderr, secrets_used = cycle_output

    for secret in secrets_used:
        assert secret not in stdout
        assert secret not in stderr


def test_cycle_leaks_no_address(cycle_output):
    stdout, stderr, _secrets = cycle_output
    addresses = example_addresses()
    correspondents = addresses - staff_addresses()

    logged = [match.group(0) for match in ADDRESS.finditer(stderr)]
    printed = sorted(address for address in correspondents if address in stdout.lower())

    assert len(addresses) > 40
    assert logged == []
    assert printed == []


def test_cycle_leaks_no_subject(cycle_output):
    stdout, stderr, _secrets = cycle_output
    subjects = example_subjects()

    leaked = sorted(
        subject for subject in subjects if subject in stdout or subject in stderr
    )

    assert len(subjects) > 100
    assert leaked == []


def test_cycle_leaks_no_body(cycle_output):
    stdout, stderr, _secrets = cycle_output
    lines = example_body_lines()

    leaked = sorted(line for line in lines if line in stdout or line in stderr)

    assert len(lines) > 100
    assert leaked == []


# --- the set-up on its own ---------------------------------------------------------------


@pytest.fixture
def captured_logs(capsys):  # type: ignore[no-untyped-def]
    configure_logging("DEBUG", key=b"test key")
    yield capsys
    reset_logging()


def test_library_records_redacted(captured_logs):
    logging.getLogger("httpx").info(
        'HTTP Request: POST https://login.example/token?refresh_token=0.AAA-secret&x=1 "HTTP/1.1 200 OK"'
    )
    logging.getLogger("httpcore.http11").debug(
        "send_request_headers.started headers=[(b'Authorization', b'Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig')]"
    )
    logging.getLogger("msal.application").debug(
        "Cache hit for jane.doe@riverside-fm.example, secret {'refresh_token': 'rt-12345'}"
    )
    logging.getLogger("imapclient.imaplib").debug(
        "< b'* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {40}' Subject: Referral for Jane Doe"
    )
    logging.getLogger("imapclient.imaplib").debug("> b'ABCD1 LOGIN sam hunter2'")

    err = captured_logs.readouterr().err

    for leaked in ("0.AAA-secret", "eyJhbGciOiJIUzI1NiJ9", "jane.doe@", "rt-12345",
                   "Jane Doe", "hunter2"):  # fmt: skip
        assert leaked not in err
    assert "at riverside-fm.example]" in err
    assert "[httpx]" in err


def test_structlog_fields_redacted(captured_logs):
    log = structlog.get_logger("warmline.test").bind(account_id=3)

    log.info(
        "item read",
        subject="RE: patient Jane Doe",
        password="hunter2",
        access_token="token-value",
        sender="maria.lopez@riverside-fm.example",
        participants=["janet@riverside-fm.example"],
    )

    err = captured_logs.readouterr().err
    assert "account_id=3" in err
    for leaked in ("Jane Doe", "hunter2", "token-value", "maria.lopez@", "janet@"):
        assert leaked not in err


def test_address_hash_stable_and_keyed():
    first = Redactor(b"key one")
    second = Redactor(b"key two")

    one = first.hash_address("Maria.Lopez@riverside-fm.example")

    assert one == first.hash_address("maria.lopez@riverside-fm.example")
    assert one == first.hash_address("maria.lopez%40riverside-fm.example")
    assert one != second.hash_address("maria.lopez@riverside-fm.example")
    assert HASHED.fullmatch(one)


def test_redaction_idempotent():
    redactor = Redactor(b"key")
    once = redactor.redact_text("from maria.lopez@riverside-fm.example, Bearer abc.def")

    assert redactor.redact_text(once) == once


def test_unknown_level_rejected():
    with pytest.raises(ValueError, match="log level 'LOUD' is unknown"):
        configure_logging("LOUD")


def test_reset_logging_removes_handler(captured_logs):
    reset_logging()

    names = [handler.get_name() for handler in logging.getLogger().handlers]
    assert "warmline" not in names
    assert logging.getLogger().level == logging.WARNING
    assert structlog.is_configured() is False
