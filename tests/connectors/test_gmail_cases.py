"""Gmail failure cases against the emulator: expired history, gone messages,
inner 429s, silent gaps, shared HTTP objects, throttling and faults."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
from collections.abc import Iterator

import pytest

from connectors import Activity, RateLimited, Removed, ScopeListed, TransientError
from connectors.google import (
    GMAIL_QUOTA_LEGACY,
    GmailCursor,
    QuotaRegime,
    StoredCredentials,
)
from connectors.google.client import GMAIL_API, ApiClient
from connectors.google.quota import QuotaBudget
from connectors.google.retry import RetryPolicy
from tests.emulators.google import (
    DEFAULT_USER,
    Fault,
    GoogleEmulator,
    fill_mailbox,
    message_headers,
)
from tests.emulators.google.harness import (
    FAST_RETRY,
    LoopbackOnly,
    RecordingSleep,
    gmail_reader,
    grant_store,
    read_all,
    settings_for,
)
from tests.emulators.google.state import Mailbox

WHEN = dt.datetime(2026, 3, 3, 14, 15, tzinfo=dt.UTC)
TOO_MANY = "Too many concurrent requests for user."


@pytest.fixture(autouse=True)
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackOnly]:
    guard = LoopbackOnly()
    guard.install(monkeypatch)
    yield guard
    assert guard.refused == []


@pytest.fixture(scope="module")
def server() -> Iterator[GoogleEmulator]:
    with GoogleEmulator() as emulator:
        yield emulator


@pytest.fixture
def emulator(server: GoogleEmulator) -> Iterator[GoogleEmulator]:
    server.user().mailbox = Mailbox(DEFAULT_USER)
    server.faults.clear()
    server.calls.clear()
    server.http_requests.clear()
    yield server
    server.faults.clear()


def add(
    mailbox: Mailbox,
    message_id: str,
    rfc_id: str | None = None,
    record: bool = False,
    minutes: int = 0,
) -> str:
    headers = message_headers(
        "Ana Diaz <ana@lakeside-fm.example>",
        DEFAULT_USER,
        f"Message {message_id}",
        WHEN + dt.timedelta(minutes=minutes),
        rfc_id or f"{message_id}@lakeside-fm.example",
    )
    mailbox.add_message(
        headers,
        ["INBOX"],
        WHEN + dt.timedelta(minutes=minutes),
        message_id=message_id,
        record_history=record,
    )
    return message_id


def keys(items: list[object]) -> list[str]:
    return [item.provider_key for item in items if isinstance(item, Activity)]


def synced(emulator: GoogleEmulator, **changes: object) -> str:
    """Run a full sync of the current mailbox and return the cursor."""
    reader = gmail_reader(emulator, **changes)
    read_all(reader, None)
    assert reader.final_cursor is not None
    return reader.final_cursor


# --- history id too old -----------------------------------------------------------


def test_expired_history_runs_full_sync(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    old = [add(mailbox, f"18f1{n:02d}", minutes=n) for n in range(5)]
    cursor = synced(emulator)
    arrived = add(mailbox, "18f150", record=True, minutes=50)
    mailbox.delete_message(old[0])
    mailbox.expire_history()
    emulator.calls.clear()
    reader = gmail_reader(emulator, list_page_size=2)

    items = read_all(reader, cursor)

    methods = [call.method for call in emulator.calls]
    assert methods[:3] == [
        "users.history.list",
        "users.getProfile",
        "users.messages.list",
    ]
    assert sorted(keys(items)) == sorted([*old[1:], arrived])
    assert isinstance(items[-1], ScopeListed)
    modes = [GmailCursor.load(i.position).mode for i in items[:-1] if i.position]
    assert modes and set(modes) == {"full"}
    assert GmailCursor.load(reader.final_cursor) == GmailCursor(
        "history", str(mailbox.history_id)
    )


def test_message_during_full_sync_read_next(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    for n in range(6):
        add(mailbox, f"18f2{n:02d}", minutes=n)
    reader = gmail_reader(emulator, list_page_size=2)
    items = []
    late = None
    for item in reader.read(None):
        items.append(item)
        if late is None and item.position:
            late = add(mailbox, "18f299", record=True, minutes=100)

    following = read_all(gmail_reader(emulator), reader.final_cursor)

    assert late not in keys(items)
    assert keys(following) == [late]


# --- a history record names a message that is already gone ------------------------


def test_deleted_message_in_history_is_skipped(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    cursor = synced(emulator)
    add(mailbox, "18e0a1", record=True)
    add(mailbox, "18e0a2", record=True, minutes=1)
    mailbox.delete_message("18e0a1")
    emulator.calls.clear()
    reader = gmail_reader(emulator, history_page_size=1)

    items = read_all(reader, cursor)

    assert keys(items) == ["18e0a2"]
    assert [i.provider_key for i in items if isinstance(i, Removed)] == ["18e0a1"]
    gets = [c.status for c in emulator.calls_to("users.messages.get")]
    assert gets == [404, 200]
    assert emulator.calls_to("users.getProfile") == []
    assert GmailCursor.load(reader.final_cursor) == GmailCursor(
        "history", str(mailbox.history_id)
    )


def test_message_get_404_is_not_a_full_sync(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    cursor = synced(emulator)
    emulator.calls.clear()
    add(mailbox, "18e0a3", record=True)
    add(mailbox, "18e0a4", record=True, minutes=1)
    emulator.faults.add(
        Fault(
            "users.messages.get",
            status=404,
            reason="notFound",
            message="Requested entity was not found.",
            resource_id="18e0a3",
        )
    )
    reader = gmail_reader(emulator)

    items = read_all(reader, cursor)

    assert keys(items) == ["18e0a4"]
    assert emulator.calls_to("users.messages.list") == []
    assert reader.final_cursor is not None


# --- a batch returns 200 with 429s inside ---------------------------------------


def inner_429(message_id: str, times: int | None) -> Fault:
    return Fault(
        "users.messages.get",
        status=429,
        reason="rateLimitExceeded",
        message=TOO_MANY,
        resource_id=message_id,
        inner_only=True,
        times=times,
    )


def test_inner_429_is_retried_alone(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    cursor = synced(emulator)
    add(mailbox, "18e0c1", record=True)
    add(mailbox, "18e0c2", record=True, minutes=1)
    emulator.faults.add(inner_429("18e0c2", times=1))
    sleep = RecordingSleep()
    reader = gmail_reader(emulator, sleep=sleep)

    items = read_all(reader, cursor)

    assert sorted(keys(items)) == ["18e0c1", "18e0c2"]
    assert emulator.http_requests["batch"] == 2
    statuses = [c.status for c in emulator.calls_to("users.messages.get")]
    assert sorted(statuses) == [200, 200, 429]
    assert len(sleep.delays) == 1
    assert items[-1].position == reader.final_cursor


def test_inner_429_retries_run_out(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    cursor = synced(emulator)
    add(mailbox, "18e0c1", record=True)
    add(mailbox, "18e0c2", record=True, minutes=1)
    emulator.faults.add(inner_429("18e0c2", times=None))
    reader = gmail_reader(emulator)
    items: list[object] = []

    with pytest.raises(TransientError, match="18e0c2"):
        for item in reader.read(cursor):
            items.append(item)

    assert keys(items) == ["18e0c1"]
    assert all(getattr(item, "position", None) is None for item in items)
    assert reader.final_cursor is None
    attempts = [c for c in emulator.calls_to("users.messages.get") if c.status == 429]
    assert len(attempts) == FAST_RETRY.max_attempts


# --- silent gaps: audit against the mailbox ---------------------------------------


def test_audit_finds_the_failed_message(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    for n in range(1, 11):
        add(mailbox, f"18f{n:03d}", rfc_id=f"a{n}@x.example", minutes=n)
    emulator.faults.add(
        Fault("users.messages.get", resource_id="18f004", times=2),
        Fault("users.messages.get", resource_id="18f007", times=None),
    )
    reader = gmail_reader(emulator)
    items: list[object] = []

    with pytest.raises(TransientError) as raised:
        for item in reader.read(None):
            items.append(item)
    stored = keys(items)
    audit = reader.audit(stored)
    emulator.faults.clear()
    repaired = reader.audit(stored)

    assert len(stored) == 9
    assert "18f004" in stored
    assert "18f007" in str(raised.value)
    assert "HTTP 500" in str(raised.value)
    assert not any(isinstance(item, ScopeListed) for item in items)
    assert audit.listed == 10
    assert [m.provider_key for m in audit.missing] == ["18f007"]
    assert audit.missing[0].error is not None
    assert [(m.provider_key, m.message_id) for m in repaired.missing] == [
        ("18f007", "<a7@x.example>")
    ]


def test_audit_ignores_drafts_and_window(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    add(mailbox, "18f101")
    old = add(mailbox, "18f102", minutes=-60 * 24 * 30)
    headers = message_headers("a@x.example", DEFAULT_USER, "draft", WHEN, "d@x.example")
    mailbox.add_message(headers, ["DRAFT"], WHEN, message_id="18f103")
    reader = gmail_reader(emulator)

    audit = reader.audit(set(), start=WHEN - dt.timedelta(days=1))

    assert audit.listed == 3
    assert [m.provider_key for m in audit.missing] == ["18f101"]
    assert old not in [m.provider_key for m in audit.missing]


# --- one HTTP object per thread ---------------------------------------------------


def test_threads_use_their_own_http(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    messages = fill_mailbox(mailbox, 1600, seed=40)
    ids = [m.id for m in messages]
    settings = settings_for(emulator)
    store = grant_store(emulator)
    sleep = RecordingSleep()
    unlimited = QuotaRegime("test", 10**9, GMAIL_QUOTA_LEGACY.method_units)
    client = ApiClient(
        GMAIL_API,
        settings.gmail_endpoint,
        StoredCredentials.from_store(store, settings.token_uri),
        settings,
        unlimited,
        QuotaBudget(10**9, 60),
        RetryPolicy(FAST_RETRY, sleep),
    )
    https: dict[int, object] = {}
    lock = threading.Lock()

    def fetch(chunk: list[str]) -> list[str]:
        with lock:
            https[threading.get_ident()] = client.thread_http()
        found = []
        for message_id in chunk:
            response = client.execute(
                "users.messages.get",
                lambda service, mid=message_id: (
                    service.users()
                    .messages()
                    .get(userId="me", id=mid, format="metadata")
                ),
                "users.messages.get",
            )
            found.append(response["id"])
        return found

    chunks = [ids[start : start + 200] for start in range(0, 1600, 200)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(fetch, chunks))
    client.close()

    assert results == chunks
    assert len(https) == 8
    assert len({id(http) for http in https.values()}) == 8
    assert sleep.delays == []
    assert len(emulator.calls_to("users.messages.get")) == 1600


# --- throttling and transient faults ----------------------------------------------


def test_batch_429_honours_retry_after(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    ids = {add(mailbox, f"18f3{n:02d}", minutes=n) for n in range(5)}
    emulator.faults.add(
        Fault("batch", status=429, reason="rateLimitExceeded", retry_after="3")
    )
    sleep = RecordingSleep()
    reader = gmail_reader(emulator, sleep=sleep)

    items = read_all(reader, None)

    assert set(keys(items)) == ids
    assert len(sleep.delays) == 1
    assert 3.0 <= sleep.delays[0] <= 3.0 + FAST_RETRY.retry_after_jitter


def test_user_rate_limit_403_is_retried(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    ids = {add(mailbox, f"18f4{n:02d}", minutes=n) for n in range(3)}
    retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
    emulator.faults.add(
        Fault(
            "users.messages.list",
            status=403,
            reason="userRateLimitExceeded",
            message=f"User-rate limit exceeded.  Retry after {retry_at:%Y-%m-%dT%H:%M:%S.000Z}",
        )
    )
    sleep = RecordingSleep()
    reader = gmail_reader(emulator, sleep=sleep)

    items = read_all(reader, None)

    assert set(keys(items)) == ids
    assert len(sleep.delays) == 1
    assert 0.5 < sleep.delays[0] < 2.5


def test_server_errors_are_retried_then_raised(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    cursor = synced(emulator)
    new = add(mailbox, "18f501", record=True)
    emulator.faults.add(Fault("users.history.list", times=2))
    passing = read_all(gmail_reader(emulator), cursor)
    emulator.faults.add(Fault("users.history.list", times=None))
    failing = gmail_reader(emulator)

    with pytest.raises(TransientError, match="HTTP 500"):
        read_all(failing, cursor)

    assert keys(passing) == [new]
    assert failing.final_cursor is None
    failed_calls = [
        c for c in emulator.calls_to("users.history.list") if c.status == 500
    ]
    assert len(failed_calls) == 2 + FAST_RETRY.max_attempts


@pytest.mark.parametrize(
    "method", ["users.messages.list", "batch", "users.history.list"]
)
def test_dropped_connection_loses_nothing(
    emulator: GoogleEmulator, method: str
) -> None:
    mailbox = emulator.user().mailbox
    ids = {add(mailbox, f"18f6{n:02d}", minutes=n) for n in range(4)}
    cursor = synced(emulator)
    more = {add(mailbox, f"18f7{n:02d}", record=True, minutes=n) for n in range(3)}
    emulator.faults.add(Fault(method, kind="drop"))
    sleep = RecordingSleep()

    if method == "users.history.list":
        found = keys(read_all(gmail_reader(emulator, sleep=sleep), cursor))
        expected = more
    else:
        found = keys(read_all(gmail_reader(emulator, sleep=sleep), None))
        expected = ids | more

    assert sorted(found) == sorted(expected)
    assert len(sleep.delays) == 1


def test_expired_access_token_refreshed_once(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    store = grant_store(emulator)
    reader = gmail_reader(emulator, store=store)
    read_all(reader, None)
    cursor = reader.final_cursor
    saved = store.saves
    new = add(mailbox, "18f801", record=True)
    emulator.oauth.expire_access_tokens()
    before = len(emulator.oauth.token_requests)

    items = read_all(gmail_reader(emulator, store=store), cursor)

    assert keys(items) == [new]
    assert len(emulator.oauth.token_requests) - before == 1
    assert store.saves == saved + 1
    assert emulator.calls_to("users.history.list")[0].status == 401


# --- the per-user quota -----------------------------------------------------------


def test_quota_budget_avoids_429s() -> None:
    regime = QuotaRegime("test", 300, GMAIL_QUOTA_LEGACY.method_units)
    with GoogleEmulator(gmail_quota=300, quota_window=1.5) as emulator:
        messages = fill_mailbox(emulator.user().mailbox, 80, seed=7)
        counted = [m for m in messages if not {"DRAFT", "SPAM"} & set(m.label_ids)]
        reader = gmail_reader(
            emulator,
            gmail_quota=regime,
            quota_window=1.5,
            quota_share=0.8,
            batch_size=10,
        )

        items = read_all(reader, None)
        stats = emulator.stats()

    assert len(keys(items)) == len(counted)
    assert stats["gmail_rejected"] == {}
    assert reader.stats.quota_units == stats["gmail_units"][DEFAULT_USER]
    assert reader.stats.quota_units > 300
    assert stats["gmail_peak_in_window"][DEFAULT_USER] <= 300


def test_over_quota_waits_for_named_time() -> None:
    # The client believes in twice the quota the server grants, so it runs
    # into 429s and must wait for the time each one names.
    regime = QuotaRegime("test", 800, GMAIL_QUOTA_LEGACY.method_units)
    with GoogleEmulator(gmail_quota=400, quota_window=1.0) as emulator:
        fill_mailbox(emulator.user().mailbox, 150, seed=8)
        sleep = RecordingSleep(scale=1.0)
        reader = gmail_reader(
            emulator, sleep=sleep, gmail_quota=regime, quota_window=1.0, threads=1
        )

        items = read_all(reader, None)
        stats = emulator.stats()

    counted = [
        m
        for m in emulator.user().mailbox.messages.values()
        if "INBOX" in m.label_ids or "SENT" in m.label_ids
    ]
    assert sorted(keys(items)) == sorted(m.id for m in counted)
    assert stats["gmail_rejected"][DEFAULT_USER] >= 1
    assert 1 <= len(sleep.delays) < FAST_RETRY.max_attempts
    assert all(delay <= 1.0 + FAST_RETRY.retry_after_jitter for delay in sleep.delays)


def test_rate_limited_error_keeps_retry_after() -> None:
    error = RateLimited("slow down", retry_after=2.5)

    assert isinstance(error, TransientError)
    assert error.retry_after == 2.5
