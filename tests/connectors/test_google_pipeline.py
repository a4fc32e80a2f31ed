"""`warmline accounts connect google` and the sync pipeline, against the emulator.

The connect command runs google-auth-oauthlib's installed-app flow: the
test's browser follows the authorization URL, and the emulator redirects it
to the flow's loopback server with a code.  Both accounts then sync through
the pipeline into a migrated database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import json
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.google import CALENDAR_EVENTS_SCOPE, requested_scopes
from tests.emulators.google import (
    DEFAULT_USER,
    Fault,
    GoogleEmulator,
    fill_calendar,
    fill_mailbox,
    message_headers,
)
from tests.emulators.google.harness import FollowingBrowser, LoopbackOnly, settings_for
from tests.emulators.google.state import Calendar, Mailbox
from warmline import readers
from warmline.cli import AppContext
from warmline.models import Account, AccountActivity, AccountStatus, Activity
from warmline.pipeline import sync_account
from warmline.providers import google
from warmline.settings import load_settings
from warmline.staff import StaffInput, upsert_staff
from warmline.workspaces import get_or_create_workspace

SAM = DEFAULT_USER
BROWSER = "warmline-google-test"
FOLLOWER = FollowingBrowser()
COUNTED = {"INBOX", "SENT"}


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    webbrowser.register(BROWSER, None, FOLLOWER)
    with GoogleEmulator(time_zone="America/Chicago") as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackOnly]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture
def emulator(server: GoogleEmulator) -> Iterator[GoogleEmulator]:
    user = server.user()
    user.mailbox = Mailbox(SAM)
    user.calendars = {"primary": Calendar(SAM, "America/Chicago")}
    server.faults.clear()
    server.oauth.rotate_refresh_tokens = False
    server.oauth.consenting_user = None
    yield server
    server.faults.clear()


@pytest.fixture
def app(
    sessions: sessionmaker[Session],
    emulator: GoogleEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AppContext:
    client_secrets = tmp_path / "client_secret.json"
    client_secrets.write_text(json.dumps(emulator.client_config()), encoding="utf-8")
    environment = {
        "WARMLINE_GOOGLE_CLIENT_SECRETS_FILE": str(client_secrets),
        "WARMLINE_GOOGLE_API_ROOT": emulator.url,
        "WARMLINE_SECRET_KEYS": Fernet.generate_key().decode(),
        # oauthlib accepts a plain-http token endpoint only with this set;
        # the emulator serves http on 127.0.0.1.
        "OAUTHLIB_INSECURE_TRANSPORT": "1",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "test")
        upsert_staff(session, workspace, StaffInput(SAM, "Sam Ortiz"))
    context = AppContext(sessions, "test", load_settings())
    google.register_readers(context.secret_box, connector=settings_for(emulator))
    return context


def connect(app: AppContext, *arguments: str) -> tuple[int, int]:
    result = CliRunner().invoke(
        google.connect_command,
        ["--staff", SAM, "--browser", BROWSER, *arguments],
        obj=app,
    )
    FOLLOWER.wait()
    assert FOLLOWER.errors == []
    assert result.exit_code == 0, result.output
    with app.sessions() as session:
        accounts = session.scalars(select(Account).order_by(Account.id)).all()
        return accounts[0].id, accounts[1].id


def stored_keys(app: AppContext, account_id: int) -> set[str]:
    with app.sessions() as session:
        keys = session.scalars(
            select(AccountActivity.provider_key).where(
                AccountActivity.account_id == account_id
            )
        )
        return set(keys)


def account(app: AppContext, account_id: int) -> Account:
    with app.sessions() as session:
        return session.get_one(Account, account_id)


def counted(mailbox: Mailbox) -> set[str]:
    return {m.id for m in mailbox.messages.values() if COUNTED & set(m.label_ids)}


def calendar_keys(calendar: Calendar) -> set[str]:
    return {
        f"primary/{event_id}"
        for event_id, event in calendar.events.items()
        if event.get("status") != "cancelled"
    }


def new_mail(mailbox: Mailbox, tag: str, count: int = 2) -> list[str]:
    now = dt.datetime.now(dt.UTC)
    ids = []
    for number in range(count):
        headers = message_headers(
            "Maria Lopez <maria.lopez@riverside-fm.example>",
            SAM,
            f"Referral {tag} {number}",
            now,
            f"{tag}-{number}@riverside-fm.example",
        )
        ids.append(mailbox.add_message(headers, ["INBOX"], now).id)
    return ids


def sync_both(app: AppContext, ids: tuple[int, int]) -> list[Any]:
    return [sync_account(app.sessions, account_id, batch_size=7) for account_id in ids]


def email_activities(app: AppContext) -> int:
    with app.sessions() as session:
        query = (
            select(func.count()).select_from(Activity).where(Activity.kind == "email")
        )
        return session.scalar(query) or 0


# --- connecting ---------------------------------------------------------------------


def test_connect_runs_installed_app_flow(
    app: AppContext, emulator: GoogleEmulator
) -> None:
    gmail_id, calendar_id = connect(app)

    request = emulator.oauth.authorization_requests[-1]
    assert request["scope"].split() == requested_scopes()
    assert request["code_challenge_method"] == "S256"
    assert request["access_type"] == "offline"
    assert request["login_hint"] == SAM
    assert request["redirect_uri"].startswith("http://127.0.0.1:")
    gmail, calendar = account(app, gmail_id), account(app, calendar_id)
    assert (gmail.provider, gmail.location) == ("gmail", SAM)
    assert (calendar.provider, calendar.location) == ("google_calendar", SAM)
    assert calendar.options["credential_account_id"] == gmail_id
    assert calendar.secret is None
    assert gmail.secret is not None
    stored = json.loads(app.secret_box().decrypt(gmail.secret))
    assert stored["refresh_token"] in emulator.oauth.refresh_tokens
    assert stored["refresh_token"] not in gmail.secret


def test_follow_ups_ask_for_event_writes(
    app: AppContext, emulator: GoogleEmulator
) -> None:
    connect(app, "--follow-ups")

    scopes = emulator.oauth.authorization_requests[-1]["scope"].split()
    assert CALENDAR_EVENTS_SCOPE in scopes


def test_other_google_account_is_rejected(
    app: AppContext, emulator: GoogleEmulator
) -> None:
    other = "front.desk@brookside-pt.example"
    emulator.add_user(other)
    emulator.oauth.consenting_user = other

    result = CliRunner().invoke(
        google.connect_command, ["--staff", SAM, "--browser", BROWSER], obj=app
    )
    FOLLOWER.wait()

    assert result.exit_code != 0
    assert f"the Google account {other} is not an address" in result.output
    with app.sessions() as session:
        assert session.scalars(select(Account)).all() == []


# --- syncing through faults ---------------------------------------------------------


def test_sync_survives_faults(app: AppContext, emulator: GoogleEmulator) -> None:
    user = emulator.user()
    mailbox, calendar = user.mailbox, user.calendars["primary"]
    fill_mailbox(mailbox, 40, seed=11, newest=dt.datetime.now(dt.UTC))
    fill_calendar(
        calendar, 6, seed=11, first=dt.datetime.now(dt.UTC) - dt.timedelta(days=20)
    )
    ids = connect(app)
    reports = sync_both(app, ids)
    assert [r.error for r in reports] == [None, None]
    assert stored_keys(app, ids[0]) == counted(mailbox)
    assert stored_keys(app, ids[1]) == calendar_keys(calendar)

    def rotate_and_expire() -> None:
        emulator.oauth.rotate_refresh_tokens = True
        emulator.oauth.expire_access_tokens()

    def expire_history() -> None:
        mailbox.delete_message(sorted(counted(mailbox))[0])
        mailbox.expire_history()

    def invalidate_sync_token() -> None:
        del calendar.events[sorted(calendar.events)[0]]
        calendar.invalidate_sync_tokens(with_reason=False)

    scenarios: list[tuple[str, Any]] = [
        (
            "batch 429",
            Fault("batch", status=429, reason="rateLimitExceeded", retry_after="1"),
        ),
        (
            "403 user rate",
            Fault(
                "users.history.list",
                status=403,
                reason="userRateLimitExceeded",
                message="User-rate limit exceeded.",
            ),
        ),
        ("500 twice", Fault("users.history.list", times=2)),
        ("dropped page", Fault("users.history.list", kind="drop")),
        ("calendar 500", Fault("events.list")),
        ("expired token", rotate_and_expire),
        ("expired history", expire_history),
        ("invalid sync token", invalidate_sync_token),
    ]
    for name, fault in scenarios:
        new = new_mail(mailbox, name.replace(" ", "-"))
        calendar.put(
            {
                "id": f"visit{len(calendar.events)}",
                "summary": f"Visit {name}",
                "start": {"dateTime": dt.datetime.now(dt.UTC).isoformat()},
                "end": {"dateTime": dt.datetime.now(dt.UTC).isoformat()},
                "organizer": {"email": SAM, "self": True},
                "attendees": [{"email": "frontdesk@cedar-im.example"}],
            }
        )
        if isinstance(fault, Fault):
            emulator.faults.add(fault)
            if name == "batch 429":
                emulator.faults.add(
                    Fault(
                        "users.messages.get",
                        status=429,
                        reason="rateLimitExceeded",
                        resource_id=new[0],
                        inner_only=True,
                    )
                )
        else:
            fault()

        reports = sync_both(app, ids)

        assert [r.error for r in reports] == [None, None], name
        assert stored_keys(app, ids[0]) == counted(mailbox), name
        assert stored_keys(app, ids[1]) == calendar_keys(calendar), name
        assert email_activities(app) == len(counted(mailbox)), name
        emulator.faults.clear()

    before = sum(emulator.http_requests.values())
    sync_both(app, ids)
    assert sum(emulator.http_requests.values()) - before == 2


# --- invalid_grant stops both accounts; reconnecting resumes them -------------------


def test_revoked_grant_stops_and_resumes_both(
    app: AppContext, emulator: GoogleEmulator
) -> None:
    mailbox = emulator.user().mailbox
    fill_mailbox(mailbox, 10, seed=12, newest=dt.datetime.now(dt.UTC))
    ids = connect(app)
    sync_both(app, ids)
    cursors = [account(app, account_id).cursor for account_id in ids]
    emulator.oauth.revoke_user(SAM)
    arrived = new_mail(mailbox, "while-revoked", count=1)

    stopped = sync_both(app, ids)

    for account_id, cursor, report in zip(ids, cursors, stopped, strict=True):
        row = account(app, account_id)
        assert row.status is AccountStatus.NEEDS_REAUTH
        assert "invalid_grant" in (row.last_error or "")
        assert row.cursor == cursor
        assert report.error is not None
    emulator.calls.clear()

    connect(app)
    resumed = sync_both(app, ids)

    assert [r.error for r in resumed] == [None, None]
    assert [account(app, i).status for i in ids] == [AccountStatus.ACTIVE] * 2
    assert set(arrived) <= stored_keys(app, ids[0])
    methods = {call.method for call in emulator.calls}
    assert "users.getProfile" in methods  # the connect command checks the address
    assert "users.messages.list" not in methods
    assert len(emulator.calls_to("users.getProfile")) == 1


# --- a message that keeps failing is named, and the audit finds it ----------------


def ten_messages_one_failing(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    for number in range(1, 11):
        when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=number)
        headers = message_headers(
            "Ana Diaz <ana@lakeside-fm.example>",
            SAM,
            f"a{number}",
            when,
            f"a{number}@x.example",
        )
        mailbox.add_message(headers, ["INBOX"], when, message_id=f"18f{number:03d}")
    emulator.faults.add(
        Fault("users.messages.get", resource_id="18f004", times=2),
        Fault("users.messages.get", resource_id="18f007", times=None),
    )


def test_failed_message_named_and_audited(
    app: AppContext, emulator: GoogleEmulator
) -> None:
    ten_messages_one_failing(emulator)
    gmail_id, _calendar_id = connect(app)

    # Batches of one item: each activity is committed as it arrives (see the
    # expected failure below for larger batches).
    report = sync_account(app.sessions, gmail_id, batch_size=1)
    row = account(app, gmail_id)
    stored = stored_keys(app, gmail_id)
    with app.sessions() as session:
        services = readers.ReaderServices(app.sessions, app.secret_box)
        reader = readers.open_reader(session.get_one(Account, gmail_id), services)
    failing_audit = reader.audit(stored)  # type: ignore[attr-defined]
    emulator.faults.clear()
    audit = reader.audit(stored)  # type: ignore[attr-defined]
    repaired = sync_account(app.sessions, gmail_id, batch_size=50)

    assert len(stored) == 9
    assert "18f004" in stored
    # A transient failure leaves the account active, with the reason.
    assert row.status is AccountStatus.ACTIVE
    assert "18f007" in (row.last_error or "")
    assert "HTTP 500" in (row.last_error or "")
    assert report.error is not None
    assert [m.provider_key for m in failing_audit.missing] == ["18f007"]
    assert "HTTP 500" in (failing_audit.missing[0].error or "")
    assert [(m.provider_key, m.message_id) for m in audit.missing] == [
        ("18f007", "<a7@x.example>")
    ]
    assert repaired.error is None
    assert len(stored_keys(app, gmail_id)) == 10
    assert account(app, gmail_id).last_error is None


def test_items_before_a_failure_are_stored(
    app: AppContext, emulator: GoogleEmulator
) -> None:
    ten_messages_one_failing(emulator)
    gmail_id, _calendar_id = connect(app)

    sync_account(app.sessions, gmail_id, batch_size=50)

    assert len(stored_keys(app, gmail_id)) == 9
