"""GmailReader against the Google emulator: full listing, history and labels."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from connectors import Activity, Flag, Removed, ScopeListed
from connectors.google import GmailCursor
from connectors.google.gmail import history_actions
from tests.emulators.google import DEFAULT_USER, GoogleEmulator, message_headers
from tests.emulators.google.harness import LoopbackOnly, gmail_reader, read_all
from tests.emulators.google.state import Mailbox

WHEN = dt.datetime(2026, 3, 3, 14, 15, tzinfo=dt.UTC)
METADATA_HEADERS = {
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
    "return-path",
    "list-id",
    "list-unsubscribe",
    "precedence",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "x-ms-exchange-inbox-rules-loop",
}


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
    """The module's emulator with an empty mailbox and no faults."""
    user = server.user()
    user.mailbox = Mailbox(DEFAULT_USER)
    server.faults.clear()
    server.calls.clear()
    server.http_requests.clear()
    yield server
    server.faults.clear()


def add(
    mailbox: Mailbox,
    number: int,
    labels: tuple[str, ...] = ("INBOX",),
    sender: str = "Maria Lopez <maria.lopez@riverside-fm.example>",
    record: bool = False,
) -> str:
    headers = message_headers(
        sender,
        DEFAULT_USER,
        f"Referral {number}",
        WHEN + dt.timedelta(minutes=number),
        f"r{number}@riverside-fm.example",
    )
    message = mailbox.add_message(
        headers, labels, WHEN + dt.timedelta(minutes=number), record_history=record
    )
    return message.id


def activities(items: list[object]) -> list[Activity]:
    return [item for item in items if isinstance(item, Activity)]


def test_full_sync_reads_every_counted_message(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    inbox = [add(mailbox, n) for n in range(7)]
    sent = add(mailbox, 7, ("SENT",), sender=DEFAULT_USER)
    for number, label in enumerate(("DRAFT", "SPAM", "TRASH", "CHAT"), start=8):
        add(mailbox, number, (label,))
    reader = gmail_reader(emulator)

    items = read_all(reader, None)

    found = {a.provider_key: a for a in activities(items)}
    assert set(found) == {*inbox, sent}
    assert Flag.SENT in found[sent].flags
    assert Flag.SENT not in found[inbox[0]].flags
    assert found[inbox[0]].external_id == "r0@riverside-fm.example"
    assert found[inbox[0]].occurred_at == WHEN
    assert found[inbox[0]].labels == ("INBOX",)
    assert isinstance(items[-1], ScopeListed)
    assert items[-1].prefix == ""
    cursor = GmailCursor.load(reader.final_cursor)
    assert cursor == GmailCursor("history", str(mailbox.history_id))


def test_full_sync_request_shapes(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    for number in range(120):
        add(mailbox, number)
    reader = gmail_reader(emulator)

    read_all(reader, None)

    listing = emulator.calls_to("users.messages.list")
    assert [call.query["includeSpamTrash"] for call in listing] == [["false"]]
    gets = emulator.calls_to("users.messages.get")
    assert len(gets) == 120
    assert all(call.inner for call in gets)
    assert {h.lower() for h in gets[0].query["metadataHeaders"]} == METADATA_HEADERS
    assert gets[0].query["format"] == ["metadata"]
    assert emulator.http_requests["batch"] == 3
    assert emulator.calls_to("users.getProfile")[0].query == {"alt": ["json"]}


def test_full_sync_resumes_from_page_position(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    ids = {add(mailbox, number) for number in range(25)}
    reader = gmail_reader(emulator, list_page_size=10)
    first: list[object] = []
    for item in reader.read(None):
        first.append(item)
        if getattr(item, "position", None):
            break
    position = first[-1].position  # type: ignore[attr-defined]

    rest = read_all(gmail_reader(emulator, list_page_size=10), position)

    assert GmailCursor.load(position).mode == "full"  # type: ignore[union-attr]
    seen = {a.provider_key for a in activities(first + rest)}
    assert seen == ids
    assert len(activities(first)) == 10
    assert len(activities(rest)) == 15
    assert isinstance(rest[-1], ScopeListed)
    assert rest[-1].since.isoformat() == json.loads(position)["since"]


def test_incremental_sync_reads_changes(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    unchanged, spammed, deleted, restored = (add(mailbox, n) for n in range(4))
    mailbox.add_labels(restored, ["TRASH"])
    reader = gmail_reader(emulator)
    read_all(reader, None)
    cursor = reader.final_cursor
    new = add(mailbox, 10, record=True)
    draft = add(mailbox, 11, ("DRAFT",), record=True)
    mailbox.add_labels(spammed, ["SPAM"])
    mailbox.delete_message(deleted)
    mailbox.remove_labels(restored, ["TRASH"])
    mailbox.add_labels(unchanged, ["STARRED"])

    items = read_all(reader, cursor)

    assert {a.provider_key for a in activities(items)} == {new, restored}
    removed = {item.provider_key for item in items if isinstance(item, Removed)}
    assert removed == {spammed, deleted}
    assert draft not in removed
    # Three fetches in the full listing (the trashed message is not listed),
    # two in the history round: the draft and the removals need none.
    assert len(emulator.calls_to("users.messages.get")) == 3 + 2
    assert GmailCursor.load(reader.final_cursor) == GmailCursor(
        "history", str(mailbox.history_id)
    )


def test_incremental_without_changes_costs_one_request(
    emulator: GoogleEmulator,
) -> None:
    mailbox = emulator.user().mailbox
    add(mailbox, 1)
    reader = gmail_reader(emulator)
    read_all(reader, None)
    cursor = reader.final_cursor
    before = sum(emulator.http_requests.values())

    items = read_all(reader, cursor)

    assert items == []
    assert sum(emulator.http_requests.values()) - before == 1
    assert reader.stats.requests == 1
    assert reader.stats.quota_units == 2
    assert reader.final_cursor == cursor


def test_history_page_without_history_key(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    reader = gmail_reader(emulator, history_page_size=2)
    read_all(reader, None)
    cursor = reader.final_cursor
    first = add(mailbox, 1, record=True)
    for _ in range(3):
        mailbox.add_labels(first, ["STARRED"])
        mailbox.remove_labels(first, ["STARRED"])
    second = add(mailbox, 2, record=True)

    items = read_all(reader, cursor)

    pages = emulator.calls_to("users.history.list")
    assert len(pages) == 4
    assert {a.provider_key for a in activities(items)} == {first, second}
    assert GmailCursor.load(reader.final_cursor) == GmailCursor(
        "history", str(mailbox.history_id)
    )


def test_history_positions_name_last_record(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    reader = gmail_reader(emulator, history_page_size=1)
    read_all(reader, None)
    cursor = reader.final_cursor
    first = add(mailbox, 1, record=True)
    first_record = mailbox.history[-1].id
    add(mailbox, 2, record=True)

    items = read_all(reader, cursor)

    positions = [item.position for item in items if item.position]
    assert positions[0] == GmailCursor("history", str(first_record)).dump()
    assert items[0].provider_key == first
    assert positions[-1] == GmailCursor("history", str(mailbox.history_id)).dump()


def test_history_actions_last_change_wins() -> None:
    records = [
        {"id": "1", "messagesAdded": [{"message": {"id": "a", "labelIds": ["INBOX"]}}]},
        {"id": "2", "messagesAdded": [{"message": {"id": "d", "labelIds": ["DRAFT"]}}]},
        {
            "id": "3",
            "labelsAdded": [
                {"message": {"id": "a", "labelIds": ["TRASH"]}, "labelIds": ["TRASH"]}
            ],
        },
        {
            "id": "4",
            "labelsRemoved": [
                {"message": {"id": "b", "labelIds": ["SPAM"]}, "labelIds": ["TRASH"]}
            ],
        },
        {
            "id": "5",
            "labelsRemoved": [
                {"message": {"id": "c", "labelIds": ["INBOX"]}, "labelIds": ["SPAM"]}
            ],
        },
        {
            "id": "6",
            "labelsAdded": [
                {
                    "message": {"id": "e", "labelIds": ["STARRED"]},
                    "labelIds": ["STARRED"],
                }
            ],
        },
        {"id": "7", "messagesDeleted": [{"message": {"id": "f"}}]},
    ]

    actions = history_actions(records)

    assert actions == {"a": "remove", "b": "remove", "c": "fetch", "f": "remove"}


def test_unreadable_cursor_starts_full_sync(emulator: GoogleEmulator) -> None:
    mailbox = emulator.user().mailbox
    message = add(mailbox, 1)
    reader = gmail_reader(emulator)

    items = read_all(reader, "not json")

    assert [a.provider_key for a in activities(items)] == [message]
    assert len(emulator.calls_to("users.getProfile")) == 1
