"""First Gmail syncs spread under the project's daily quota, against the emulator.

The first sync of each of three staff mailboxes of 20 messages is
estimated at 106 units (users.getProfile 1, one users.messages.list page 5,
20 users.messages.get at 5).  With a daily budget of 150 units one first sync fits per quota day,
so the mailboxes are synced on three days, oldest-connected first, while
incremental syncs run whatever is left.  The clock of the scheduler is
moved from day to day; the emulator counts the units it charged.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors import TransientError
from connectors.google import GMAIL_QUOTA_LEGACY, requested_scopes
from tests.emulators.google import GoogleEmulator, fill_mailbox, message_headers
from tests.emulators.google.harness import LoopbackOnly, settings_for
from tests.emulators.google.state import Mailbox
from warmline import readers, sync_admission
from warmline.cli import main
from warmline.models import Account, AccountActivity, StaffMember
from warmline.pipeline import sync_account
from warmline.providers import gmail_schedule, google
from warmline.quota_models import GmailQuotaUsage
from warmline.secrets import DatabaseCredentialStore, load_secret_box
from warmline.settings import SettingError, load_settings
from warmline.worker.sync import Result, SyncJob, run_sync
from warmline.workspaces import get_or_create_workspace

USERS = (
    "ana.diaz@brookside-pt.example",
    "ben.cho@brookside-pt.example",
    "cam.reyes@brookside-pt.example",
)
MESSAGES = 20
FIRST_SYNC_UNITS = 1 + 5 + MESSAGES * 5
BUDGET = 150
PACIFIC = dt.timezone(dt.timedelta(hours=-8))  # December: PST
DAY_ONE = dt.datetime(2026, 12, 4, 9, 0, tzinfo=PACIFIC)
KEY = Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator(USERS) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield
    assert guard.refused == []


@pytest.fixture
def emulator(server: GoogleEmulator) -> Iterator[GoogleEmulator]:
    for number, email in enumerate(USERS):
        mailbox = server.user(email).mailbox = Mailbox(email)
        fill_mailbox(mailbox, MESSAGES, seed=number, newest=dt.datetime.now(dt.UTC))
    server.gmail_quota.used.clear()
    server.calls.clear()
    server.faults.clear()
    yield server
    server.faults.clear()


class Clock:
    """The scheduler's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = DAY_ONE.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def next_day(self) -> None:
        self.now += dt.timedelta(days=1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(gmail_schedule, "utcnow", fake)
    # Registrations made by a test stay inside it.
    monkeypatch.setattr(readers, "READERS", dict(readers.READERS))
    monkeypatch.setattr(sync_admission, "_CHECKS", dict(sync_admission._CHECKS))
    return fake


def add_accounts(
    sessions: sessionmaker[Session], emulator: GoogleEmulator, known_size: bool
) -> list[int]:
    """Add one gmail account per user, connected a day apart, with its grant."""
    box = load_secret_box(KEY, Path("unused.key"))
    ids = []
    with sessions.begin() as session:
        workspace = get_or_create_workspace(session, "default")
        for number, email in enumerate(USERS):
            member = StaffMember(workspace_id=workspace.id, email=email, name=email)
            session.add(member)
            session.flush()
            options: dict[str, object] = {"mode": "user", "scopes": requested_scopes()}
            if known_size:
                options["messages_total"] = MESSAGES
            account = Account(
                workspace_id=workspace.id,
                staff_member_id=member.id,
                provider="gmail",
                location=email,
                options=options,
                created_at=DAY_ONE - dt.timedelta(days=len(USERS) - number),
            )
            session.add(account)
            session.flush()
            ids.append(account.id)
    for account_id, email in zip(ids, USERS, strict=True):
        grant = emulator.authorized_user_info(email, requested_scopes())
        DatabaseCredentialStore(sessions, account_id, box).save(json.dumps(grant))
    return ids


def stored_keys(sessions: sessionmaker[Session], account_id: int) -> set[str]:
    with sessions() as session:
        return set(
            session.scalars(
                select(AccountActivity.provider_key).where(
                    AccountActivity.account_id == account_id
                )
            )
        )


def counted(emulator: GoogleEmulator, email: str) -> set[str]:
    messages = emulator.user(email).mailbox.messages.values()
    return {m.id for m in messages if {"INBOX", "SENT"} & set(m.label_ids)}


def recorded_units(sessions: sessionmaker[Session]) -> dict[tuple[dt.date, int], int]:
    with sessions() as session:
        rows = session.scalars(select(GmailQuotaUsage)).all()
    return {(row.day, row.account_id or 0): row.units for row in rows}


def add_mail(emulator: GoogleEmulator, email: str, count: int) -> None:
    now = dt.datetime.now(dt.UTC)
    mailbox = emulator.user(email).mailbox
    for number in range(count):
        headers = message_headers(
            "Maria Lopez <maria.lopez@riverside-fm.example>",
            email,
            f"Referral {number}",
            now,
            f"late-{number}@riverside-fm.example",
        )
        mailbox.add_message(headers, ["INBOX"], now)


# --- warmline sync ------------------------------------------------------------


def cli_sync(database_url: str, emulator: GoogleEmulator) -> str:
    environment = {
        "WARMLINE_GOOGLE_API_ROOT": emulator.url,
        "WARMLINE_GOOGLE_PROJECT_DAILY_UNITS": str(BUDGET),
        "WARMLINE_SECRET_KEYS": KEY,
    }
    result = CliRunner(env=environment).invoke(
        main, ["--database", database_url, "sync"]
    )
    assert result.exit_code == 0, result.output
    return result.output


def deferred_accounts(output: str) -> dict[int, str]:
    found = re.findall(r"account (\d+) until (\S+ \S+) UTC", output)
    return {int(account): until for account, until in found}


def test_cli_spreads_first_syncs_over_days(
    sessions: sessionmaker[Session],
    database_url: str,
    emulator: GoogleEmulator,
    clock: Clock,
) -> None:
    ana, ben, cam = add_accounts(sessions, emulator, known_size=True)

    day_one = cli_sync(database_url, emulator)
    ana_first_sync = emulator.gmail_quota.used[USERS[0]]
    add_mail(emulator, USERS[0], 10)
    day_one_again = cli_sync(database_url, emulator)
    clock.next_day()
    day_two = cli_sync(database_url, emulator)
    clock.next_day()
    day_three = cli_sync(database_url, emulator)

    assert deferred_accounts(day_one) == {
        ben: "2026-12-05 08:00",
        cam: "2026-12-05 08:00",
    }
    left = BUDGET - ana_first_sync
    assert f"needs about 106 units; {left} of 150 units are left today" in day_one
    assert "1 account(s) connected earlier wait" in day_one
    # Ana's incremental sync (2 + 10 * 5 units) runs past the budget.
    assert deferred_accounts(day_one_again) == {
        ben: "2026-12-05 08:00",
        cam: "2026-12-05 08:00",
    }
    assert "0 of 150 units are left today" in day_one_again
    assert deferred_accounts(day_two) == {cam: "2026-12-06 08:00"}
    assert deferred_accounts(day_three) == {}
    for account_id, email in zip((ana, ben, cam), USERS, strict=True):
        assert stored_keys(sessions, account_id) == counted(emulator, email)
    days = [DAY_ONE.date() + dt.timedelta(days=n) for n in range(3)]
    used = emulator.gmail_quota.used
    assert recorded_units(sessions) == {
        (days[0], ana): ana_first_sync + 2 + 10 * 5,
        (days[0], ben): 0,
        (days[0], cam): 0,
        (days[1], ana): 2,
        (days[1], ben): used[USERS[1]] - 2,
        (days[1], cam): 0,
        (days[2], ana): 2,
        (days[2], ben): 2,
        (days[2], cam): used[USERS[2]],
    }
    assert used[USERS[0]] == ana_first_sync + 2 + 10 * 5 + 2 + 2
    with sessions() as session:
        listing = session.execute(
            select(GmailQuotaUsage.day, func.sum(GmailQuotaUsage.first_sync_units))
            .group_by(GmailQuotaUsage.day)
            .order_by(GmailQuotaUsage.day)
        ).all()
    assert [(day, int(units)) for day, units in listing] == [
        (days[0], ana_first_sync),
        (days[1], used[USERS[1]] - 2),
        (days[2], used[USERS[2]]),
    ]
    assert max(units for _day, units in listing) <= BUDGET


# --- the Celery task path -----------------------------------------------------


def register(emulator: GoogleEmulator, budget: int, page_size: int = 500) -> None:
    settings = google.GoogleProviderSettings(project_daily_units=budget)
    google.register_readers(
        lambda: load_secret_box(KEY, Path("unused.key")),
        settings=settings,
        connector=settings_for(emulator, list_page_size=page_size),
    )


def worker_job(sessions: sessionmaker[Session]) -> SyncJob:
    settings = load_settings({"WARMLINE_SECRET_KEYS": KEY})
    box = lambda: load_secret_box(KEY, Path("unused.key"))  # noqa: E731
    return SyncJob(sessions, settings, box, "task-1", "test:1")


def test_worker_defers_then_admits(
    sessions: sessionmaker[Session], emulator: GoogleEmulator, clock: Clock
) -> None:
    ana, ben, cam = add_accounts(sessions, emulator, known_size=False)
    register(emulator, BUDGET)

    # Youngest first: the older accounts still go ahead of it.
    first_day = [run_sync(worker_job(sessions), i) for i in (cam, ben, ana)]
    clock.next_day()
    second_day = [run_sync(worker_job(sessions), i) for i in (cam, ben, ana)]
    clock.next_day()
    third_day = [run_sync(worker_job(sessions), i) for i in (cam, ben, ana)]

    assert [o.result for o in first_day] == [
        Result.DEFERRED,
        Result.DEFERRED,
        Result.DONE,
    ]
    assert first_day[0].detail.startswith("until 2026-12-05T08:00:00+00:00: ")
    assert first_day[0].summary()["deferred_until"] == "2026-12-05T08:00:00+00:00"
    assert [o.result for o in second_day] == [
        Result.DEFERRED,
        Result.DONE,
        Result.DONE,
    ]
    assert [o.result for o in third_day] == [Result.DONE] * 3
    for account_id, email in zip((ana, ben, cam), USERS, strict=True):
        assert stored_keys(sessions, account_id) == counted(emulator, email)
    # The sizes were measured once, one users.getProfile unit each.
    with sessions() as session:
        accounts = [session.get_one(Account, i) for i in (ana, ben, cam)]
    assert [a.options["messages_total"] for a in accounts] == [MESSAGES] * 3
    assert len(emulator.calls_to("users.getProfile")) == 3 + 3


def test_oversized_first_sync_admitted_alone(
    sessions: sessionmaker[Session], emulator: GoogleEmulator, clock: Clock
) -> None:
    ana, ben, _cam = add_accounts(sessions, emulator, known_size=True)
    register(emulator, FIRST_SYNC_UNITS // 2)

    first = sync_account(sessions, ana, 50, secret_box=worker_job(sessions).secret_box)
    second = sync_account(sessions, ben, 50, secret_box=worker_job(sessions).secret_box)

    assert first.deferral is None
    assert first.error is None
    assert stored_keys(sessions, ana) == counted(emulator, USERS[0])
    assert second.deferral is not None
    assert stored_keys(sessions, ben) == set()


# --- settings -----------------------------------------------------------------


def test_settings_come_from_settings_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARMLINE_GOOGLE_QUOTA", "2026")
    monkeypatch.setenv("WARMLINE_GOOGLE_QUOTA_UNITS_PER_MINUTE", "3000")
    monkeypatch.setenv("WARMLINE_GOOGLE_METHOD_UNITS", "users.messages.get=10")
    monkeypatch.setenv("WARMLINE_GOOGLE_THREADS", "2")

    settings = google.GoogleProviderSettings.load()
    connector = settings.connector_settings()

    assert connector.threads == 2
    assert connector.gmail_quota.units_per_minute == 3000
    assert connector.gmail_quota.units("users.messages.get") == 10
    assert connector.gmail_quota.units("users.messages.list") == 5


def test_contradicting_settings_named() -> None:
    settings = google.GoogleProviderSettings(
        calendar_relist_days=30, calendar_days_ahead=20
    )

    with pytest.raises(SettingError, match="CALENDAR_RELIST_DAYS=30.*DAYS_AHEAD=20"):
        settings.connector_settings()


def test_quota_day_follows_daylight_saving() -> None:
    budget = gmail_schedule.DailyBudget(
        100, "America/Los_Angeles", GMAIL_QUOTA_LEGACY, 500
    )
    before_change = dt.datetime(2026, 3, 7, 12, 0, tzinfo=dt.UTC)
    after_change = dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)

    assert budget.next_day_start(before_change) == dt.datetime(
        2026, 3, 8, 8, 0, tzinfo=dt.UTC
    )
    assert budget.next_day_start(after_change) == dt.datetime(
        2026, 3, 9, 7, 0, tzinfo=dt.UTC
    )
    assert budget.first_sync_units(1001) == 1 + 3 * 5 + 1001 * 5


def usage_row(
    sessions: sessionmaker[Session], day: dt.date, account_id: int
) -> GmailQuotaUsage:
    with sessions() as session:
        return session.scalars(
            select(GmailQuotaUsage).where(
                GmailQuotaUsage.day == day, GmailQuotaUsage.account_id == account_id
            )
        ).one()


def test_interrupted_first_sync_resumes_next_day(
    sessions: sessionmaker[Session], emulator: GoogleEmulator, clock: Clock
) -> None:
    ana, ben, _cam = add_accounts(sessions, emulator, known_size=True)
    # Pages of 5: 1 + 4 * 5 + 20 * 5 units for a mailbox of 20.
    register(emulator, BUDGET, page_size=5)
    box = worker_job(sessions).secret_box

    def stop(_done: int, _total: int | None) -> None:
        raise TransientError("connection reset for the test")

    interrupted = sync_account(sessions, ana, 5, progress=stop, secret_box=box)
    again_today = sync_account(sessions, ben, 5, secret_box=box)
    day_one = usage_row(sessions, DAY_ONE.date(), ana)
    clock.next_day()
    services = readers.ReaderServices(sessions, box)
    admitted = sync_admission.check_admission(services, ana, "gmail")
    day_two = usage_row(sessions, DAY_ONE.date() + dt.timedelta(days=1), ana)
    resumed = sync_account(sessions, ana, 5, secret_box=box)

    assert interrupted.error is not None
    assert day_one.reserved == 121
    assert 0 < day_one.first_sync_units < 121
    assert again_today.deferral is not None
    assert "29 of 150 units are left today" in again_today.deferral.reason
    assert admitted is None
    assert day_two.reserved == 121 - day_one.first_sync_units
    assert resumed.error is None
    assert stored_keys(sessions, ana) == counted(emulator, USERS[0])


def test_invalid_google_variable_stops_command(tmp_path: Path) -> None:
    environment = {"WARMLINE_GOOGLE_BATCH_SIZE": "200"}

    result = CliRunner(env=environment).invoke(
        main, ["--database", f"sqlite:///{tmp_path / 'w.db'}", "sync"]
    )

    assert result.exit_code == 2
    assert "invalid WARMLINE_GOOGLE_BATCH_SIZE='200'" in result.output
    assert "over 100, the most calls Gmail takes per batch" in result.output
